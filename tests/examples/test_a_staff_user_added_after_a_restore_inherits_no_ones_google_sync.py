"""A staff user's id names their calsync profile (``lumen.<user id>``), and calsync keys the
profile's state (pairs, cursors) and the user's stored Google tokens by it. So a studio file
restored from a backup never gives a new staff user the id of a user it lost: the new user
gets a profile of their own, with no state and no Google account until they connect theirs.

Before, users took ``AUTOINCREMENT`` ids, whose counter is in the file: a user added after the
backup and lost to its restore had their id given again to the next user added, whose profile
was the lost user's: the processor synced the new user's sessions with the lost user's Google
account, its tokens and its pairs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import SCHEMA_VERSION, GooglePrefs, Span, Studio, session_key
from studio_file import START, Clock, copy_database

from calsync import SqliteStateStore, SyncEngine
from calsync.config import GoogleSettings, google_connector
from calsync.google import SqliteTokenStore, connect_account
from calsync.processor import SyncProcessor
from calsync.profile import ProfileStatus
from calsync.runs import ProfileRun
from calsync.testing import GoogleEmulator

STUDIO = "lumen"
ANN = "ann@lumen-studio.example"
DORA = "dora@lumen-studio.example"
EVE = "eve@lumen-studio.example"


def _span(day: int) -> Span:
    start = START + timedelta(days=day, hours=2)
    return Span(start, start + timedelta(hours=1), "Europe/London")


# -- the studio file -------------------------------------------------------------------------


def test_a_restored_studio_file_gives_no_user_id_it_gave_after_the_backup(tmp_path: Path) -> None:
    path, backup = tmp_path / "studio.sqlite3", tmp_path / "backup.sqlite3"
    with Studio(path) as studio:
        ann = studio.add_user("Ann Avery", ANN)
    copy_database(path, backup)
    with Studio(path) as studio:
        lost = {studio.add_user("Dora Dunn", DORA), studio.add_user("Fay Ford")}
    copy_database(backup, path)

    with Studio(path) as studio:
        after = {studio.add_user("Eve Ellis", EVE), studio.add_user("Gus Gray")}
        profiles = StudioProfiles(studio, STUDIO)
        kept = studio.user(ann)

    assert lost.isdisjoint(after)
    assert ann not in lost | after
    assert kept is not None
    assert kept.name == "Ann Avery"
    assert {profiles.profile_id(user) for user in lost}.isdisjoint(
        profiles.profile_id(user) for user in after
    )


def test_a_studio_file_of_schema_6_keeps_its_users_profiles_and_gives_no_user_id_again(
    tmp_path: Path,
) -> None:
    """A file the studio wrote before users' ids were drawn: its users keep their ids (their
    profile ids, which key their calsync state and tokens), and the ids its counter gave after
    a backup are not given again once it is restored and upgraded."""
    path, backup = tmp_path / "studio.sqlite3", tmp_path / "backup.sqlite3"
    with Studio(path):
        pass
    db = sqlite3.connect(path, isolation_level=None)
    ann = _as_version_6_adds_user(db, "Ann Avery", ANN)
    db.execute("PRAGMA user_version = 6")
    db.close()
    copy_database(path, backup)
    db = sqlite3.connect(path, isolation_level=None)
    lost = _as_version_6_adds_user(db, "Dora Dunn", DORA)
    db.close()
    copy_database(backup, path)

    with Studio(path) as studio:
        profiles = StudioProfiles(studio, STUDIO)
        kept = [(p.id, p.user_id, p.email) for p in profiles.profiles()]
        eve = studio.add_user("Eve Ellis", EVE)
        made = {p.user_id: p.id for p in profiles.profiles()}

    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION == 7
    assert (ann, lost) == (1, 2)
    assert kept == [("lumen.1", "1", ANN)]
    assert eve != lost
    assert made == {"1": "lumen.1", str(eve): f"lumen.{eve}"}


def _as_version_6_adds_user(db: sqlite3.Connection, name: str, email: str) -> int:
    """A staff user added as the studio's code of schema 6 added one: their ``AUTOINCREMENT``
    id, and their Google Sync preferences, sync on with their primary calendar."""
    cursor = db.execute("INSERT INTO users (name, email) VALUES (?, ?)", (name, email))
    assert cursor.lastrowid is not None
    db.execute(
        "INSERT INTO google_prefs (user_id, sync_on, calendar_id) VALUES (?, 1, ?)",
        (cursor.lastrowid, email),
    )
    return cursor.lastrowid


def test_a_user_id_a_user_holds_is_drawn_again(tmp_path: Path) -> None:
    draws = iter([10**15 + 7, 10**15 + 7, 10**15 + 8])
    with Studio(tmp_path / "studio.sqlite3", draw_id=lambda: next(draws)) as studio:
        ann, ben = studio.add_user("Ann Avery", ANN), studio.add_user("Ben Brooks")
        prefs = studio.google_prefs(ben)

    assert (ann, ben) == (10**15 + 7, 10**15 + 8)
    assert prefs == GooglePrefs()


# -- the new user's Google Sync, end to end --------------------------------------------------


class StaffOnFile:
    """A studio on a file, its users synced by the sync processor with their own Google
    accounts (the real Google client against the emulator), their tokens in a token store:
    what a desktop host runs. Restored from a backup as a studio is, by copying a file back."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        self.google, self.clock = google, Clock()
        self.path = tmp / "studio.sqlite3"
        self.store = SqliteStateStore(tmp / "calsync.sqlite3")
        self.tokens = SqliteTokenStore(tmp / "tokens.sqlite3")
        self.settings = GoogleSettings(
            client_id="lumen-desktop",
            client_secret="not-a-secret",
            tokens=tmp / "tokens.sqlite3",
            base_url=google.base_url,
        )
        self._open()
        self.client = self.studio.add_client("Sofia", "Marin")

    def _open(self) -> None:
        self.studio = Studio(self.path, clock=self.clock)
        self.profiles = StudioProfiles(self.studio, STUDIO)
        engine = SyncEngine(
            self.store,
            StudioSchedule(self.studio),
            StudioClients(self.studio),
            clock=self.clock,
        )
        self.processor = SyncProcessor(
            engine,
            self.profiles,
            google_connector(self.settings, self.tokens),
            interval=0,
            clock=self.clock,
        )

    def staff_adds(self, name: str, email: str) -> int:
        """A staff user, with Google Sync on and the primary calendar of the Google account
        they connect chosen (``primary``, as Google names every account's own)."""
        user = self.studio.add_user(name, email)
        self.studio.set_google_prefs(user, GooglePrefs(sync_on=True, calendar_id="primary"))
        return user

    def authorise(self, user: int, email: str) -> None:
        """The user's "Authorise Google" once Google said yes (their own account)."""
        access, refresh = self.google.issue_tokens(email)
        credentials = Credentials(access, refresh_token=refresh)
        connect_account(self.tokens, self.profiles.profile_id(user), credentials, self.profiles)

    def books(self, user: int, day: int) -> str:
        return session_key(self.studio.book_session(user, self.client, "Portrait", _span(day)))

    def round(self) -> dict[str, ProfileRun]:
        self.clock.now += timedelta(minutes=10)
        return self.processor.run_once()

    def in_google(self, email: str) -> set[str]:
        """The studio items behind the live events of ``email``'s primary calendar."""
        events = self.google.account(email).primary.live_events()
        private = (e.get("extendedProperties", {}).get("private", {}) for e in events)
        return {str(p.get("calsyncItem")) for p in private}

    def has_state(self, profile_id: str) -> bool:
        """calsync keeps something for ``profile_id``: a pair, a cursor or a run."""
        return (
            profile_id in self.store.profile_ids()
            or self.store.get_last_run(profile_id) is not None
        )

    def restore(self, backup: Path) -> None:
        """The studio's file goes back to ``backup`` (the studio closed meanwhile)."""
        self.studio.close()
        copy_database(backup, self.path)
        self._open()

    def close(self) -> None:
        self.studio.close()
        self.store.close()


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[StaffOnFile]:
    with GoogleEmulator() as google:
        world = StaffOnFile(google, tmp_path)
        yield world
        world.close()


def _ok(runs: dict[str, ProfileRun], profile_id: str) -> bool:
    report = runs[profile_id].report
    return report is not None and report.ok


@pytest.mark.emulator
def test_a_user_added_after_a_restore_inherits_no_lost_users_profile_state_or_tokens(
    studio: StaffOnFile, tmp_path: Path
) -> None:
    ann = studio.staff_adds("Ann Avery", ANN)
    studio.authorise(ann, ANN)
    anns = studio.books(ann, 1)
    assert _ok(studio.round(), studio.profiles.profile_id(ann))
    backup = tmp_path / "monday.sqlite3"
    copy_database(studio.path, backup)
    studio.clock.now += timedelta(days=1)
    dora = studio.staff_adds("Dora Dunn", DORA)  # after the backup: lost to its restore
    studio.authorise(dora, DORA)
    doras = studio.books(dora, 2)
    dora_profile = studio.profiles.profile_id(dora)
    assert _ok(studio.round(), dora_profile)
    assert studio.in_google(DORA) == {doras}
    assert studio.has_state(dora_profile)
    assert studio.tokens.load(dora_profile) is not None
    studio.clock.now += timedelta(days=1)
    studio.restore(backup)

    eve = studio.staff_adds("Eve Ellis", EVE)
    eve_profile = studio.profiles.profile_id(eve)
    eves = studio.books(eve, 3)
    inherited = (studio.has_state(eve_profile), studio.tokens.load(eve_profile))
    before_connecting = studio.round()
    studio.authorise(eve, EVE)
    connected = studio.round()

    assert studio.in_google(DORA) == {doras}  # as it was: nothing of Eve's ever went there
    assert studio.in_google(EVE) == {eves}
    assert studio.in_google(ANN) == {anns}
    assert (eve != dora, eve_profile != dora_profile) == (True, True)
    assert inherited == (False, None)  # no pair, cursor or run of Dora's; no Google tokens
    assert set(before_connecting) == {studio.profiles.profile_id(ann), eve_profile}
    assert before_connecting[eve_profile].status is ProfileStatus.NOT_CONNECTED
    assert _ok(connected, eve_profile)

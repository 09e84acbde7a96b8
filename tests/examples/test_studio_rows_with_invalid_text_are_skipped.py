"""A studio row whose text is not valid UTF-8 (another program's write, or half of a UTF-16 pair
stored as WTF-8 by a Windows app) is one unreadable row: reported by id, never quoted, and
skipped, while everything else in the user's schedule and client group still reaches Google."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule, client_key
from studio.db import Span, Studio, UnreadableRow, appointment_key, session_key

from calsync import Contact, MemoryStateStore, SyncEngine, SyncProfile, SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.sources import Unreadable
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
EMAIL = "ann@lumen-studio.example"
LONDON = "Europe/London"
GROUP = "Weddings"
#: "Br" and U+D800 as WTF-8: a lone UTF-16 surrogate, which UTF-8 cannot hold.
LONE_SURROGATE = b"Br\xed\xa0\x80"
#: a phone number with a byte that is never UTF-8.
BAD_PHONE = b"+44 20 7946\xff0811"


def write_raw(
    path: Path, table: str, row_id: int, column: str, raw: bytes, *, by: str = "id"
) -> None:
    """Store ``raw`` as the text of ``column`` in the rows whose ``by`` is ``row_id``, as
    another program would (the studio's own methods only ever write valid text)."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(
                f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {by} = ?", (raw, row_id)
            )
            if table == "appointments":
                db.execute(
                    "INSERT INTO change_log (user_id, item_id, deleted)"
                    " SELECT user_id, ?, 0 FROM appointments WHERE id = ?",
                    (appointment_key(row_id), row_id),
                )
    finally:
        db.close()


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


class StudioSync:
    """Ann's studio schedule and the Weddings group, synced to her Google account."""

    def __init__(self, google: GoogleEmulator, path: Path) -> None:
        self.google, self.path = google, path
        self.studio = Studio(path)
        self.ann = self.studio.add_user("Ann Avery", EMAIL)
        self.group = self.studio.add_group(GROUP)
        prefs = dataclasses.replace(
            self.studio.google_prefs(self.ann),
            sync_on=True,
            calendar_id=EMAIL,
            sync_contacts=True,
            client_sync_group=GROUP,
        )
        self.studio.set_google_prefs(self.ann, prefs)
        self.client = self.studio.add_client("Harriet", "Moss", phone="+44 20 7946 0811")
        self.studio.add_to_group(self.group, self.client)
        access, _ = google.issue_tokens(EMAIL)
        self.account: GoogleAccount = connect(
            Credentials(token=access),
            base_url=google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )
        self.engine = SyncEngine(
            MemoryStateStore(), StudioSchedule(self.studio), StudioClients(self.studio)
        )

    def profile(self) -> SyncProfile:
        profiles = StudioProfiles(self.studio, "lumen").profiles()
        return next(p for p in profiles if p.user_id == str(self.ann))

    def sync(self) -> SyncReport:
        report = self.engine.sync(self.profile(), self.account.calendar, self.account.contacts)
        if report.initial_sync_completed:
            self.studio.clear_first_time(self.ann)
        return report

    def event_titles(self) -> set[str]:
        events = self.google.account(EMAIL).primary.live_events()
        return {str(event.get("summary")) for event in events}

    def contact_names(self) -> set[str]:
        people = self.google.account(EMAIL).contacts.values()
        return {str((p.get("names") or [{}])[0].get("givenName")) for p in people}

    def close(self) -> None:
        self.account.close()
        self.studio.close()


@pytest.fixture
def world(google: GoogleEmulator, tmp_path: Path) -> Iterator[StudioSync]:
    google.reset()
    sync = StudioSync(google, tmp_path / "studio.sqlite3")
    yield sync
    sync.close()


def in_days(days: int, hour: int = 10) -> Span:
    start = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    start += timedelta(days=days)
    return Span(start, start + timedelta(hours=1), LONDON)


def assert_nothing_quoted(report: SyncReport) -> None:
    """The report names rows, never their broken text (it may be a phone number)."""
    summary = report.summary()
    summary.encode()  # no lone surrogate: the report can be logged, stored and mailed
    for unwanted in ("\ufffd", "7946", "Br"):
        assert unwanted not in summary


def test_an_appointment_whose_title_is_not_utf8_is_reported_by_id_and_the_rest_syncs(
    world: StudioSync,
) -> None:
    studio, ann = world.studio, world.ann
    studio.book_session(ann, world.client, "Portrait", in_days(2))
    studio.add_appointment(ann, "Staff meeting", in_days(3))
    broken_id = studio.add_appointment(ann, "Broken", in_days(4))
    write_raw(world.path, "appointments", broken_id, "title", LONE_SURROGATE)

    report = world.sync()

    broken = appointment_key(broken_id)
    assert report.ok, report.summary()
    assert [broken] == [w.split()[1] for w in report.warnings]
    assert "its title is not valid text" in report.warnings[0]
    assert_nothing_quoted(report)
    titles = world.event_titles()
    assert len(titles) == 2  # the session and the meeting
    assert "Staff meeting" in titles
    expected = UnreadableRow(broken, ann, "its title is not valid text")
    assert expected == studio.schedule_item("appointment", broken_id)


def test_a_client_whose_name_is_not_utf8_is_reported_by_id_and_the_group_syncs(
    world: StudioSync,
) -> None:
    studio = world.studio
    broken_id = studio.add_client("Broken", "Row")
    studio.add_to_group(world.group, broken_id)
    write_raw(world.path, "clients", broken_id, "last_name", LONE_SURROGATE)

    report = world.sync()

    broken = client_key(broken_id)
    assert report.ok, report.summary()
    assert [broken] == [w.split()[1] for w in report.warnings]
    assert "its last name is not valid text" in report.warnings[0]
    assert_nothing_quoted(report)
    assert {"Harriet"} == world.contact_names()
    expected = UnreadableRow(broken, None, "its last name is not valid text")
    assert expected == studio.client_record(broken_id)


def test_a_session_whose_clients_phone_is_not_utf8_is_skipped_without_quoting_the_phone(
    world: StudioSync,
) -> None:
    studio, ann = world.studio, world.ann
    other = studio.add_client("Ida", "Lane")
    shoot_id = studio.book_session(ann, other, "Family", in_days(2))
    studio.add_appointment(ann, "Staff meeting", in_days(3))
    write_raw(world.path, "clients", other, "phone", BAD_PHONE)

    report = world.sync()

    assert report.ok, report.summary()
    assert [session_key(shoot_id)] == [w.split()[1] for w in report.warnings]
    assert "its client's phone is not valid text" in report.warnings[0]
    assert_nothing_quoted(report)
    assert {"Staff meeting"} == world.event_titles()


def test_a_synced_appointment_whose_title_becomes_invalid_text_keeps_its_google_event(
    world: StudioSync,
) -> None:
    studio, ann = world.studio, world.ann
    meeting_id = studio.add_appointment(ann, "Staff meeting", in_days(3))
    assert world.sync().ok
    write_raw(world.path, "appointments", meeting_id, "title", LONE_SURROGATE)

    report = world.sync()

    assert report.ok, report.summary()
    assert [appointment_key(meeting_id)] == [w.split()[1] for w in report.warnings]
    assert report.writes == 0
    assert {"Staff meeting"} == world.event_titles()


def test_a_user_whose_name_is_not_utf8_leaves_out_only_that_users_profile(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as studio:
        ann, ben = studio.add_user("Ann Avery", EMAIL), studio.add_user("Ben", "ben@x.example")
        write_raw(path, "users", ben, "email", BAD_PHONE)

        with caplog.at_level(logging.ERROR):
            profiles = StudioProfiles(studio, "lumen").profiles()

        assert [str(ann)] == [p.user_id for p in profiles]
        assert f"user {ben}" in caplog.text
        assert "its user's email is not valid text" in caplog.text
        assert "7946" not in caplog.text
        with pytest.raises(ValueError, match="its user's email is not valid text"):
            studio.google_prefs(ben)


def test_a_client_whose_google_contact_id_is_not_utf8_is_unreadable_for_that_user_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as studio:
        ann, ben = studio.add_user("Ann Avery", EMAIL), studio.add_user("Ben", "ben@x.example")
        group = studio.add_group(GROUP)
        made = studio.add_client_from_google(ann, group, "people/c1", first_name="Ida")
        write_raw(path, "client_origins", ann, "origin", LONE_SURROGATE, by="user_id")
        clients = StudioClients(studio)

        anns = clients.list_group(str(ann), GROUP)
        bens = clients.list_group(str(ben), GROUP)

        reason = "its Google contact id is not valid text"
        assert [Unreadable(client_key(made), reason)] == anns
        assert [(Contact, None)] == [(type(c), getattr(c, "remote_id", "")) for c in bens]

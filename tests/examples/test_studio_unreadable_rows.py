"""A corrupt studio row, synced through the real Google client against the emulator: it is
reported by id and skipped, everything else still syncs, and its Google event is never deleted."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Span, Studio, appointment_key, session_key
from studio_rows import corrupt_row

from calsync import MemoryStateStore, SyncEngine, SyncProfile, SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.testing import GoogleEmulator
from calsync.testing.contracts.sources import Defect

pytestmark = pytest.mark.emulator
EMAIL = "ann@lumen-studio.example"
LONDON = "Europe/London"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


class StudioSync:
    """Ann's studio schedule synced to her primary Google calendar in the emulator."""

    def __init__(self, google: GoogleEmulator, path: Path) -> None:
        self.google, self.path = google, path
        self.studio = Studio(path)
        self.ann = self.studio.add_user("Ann Avery", EMAIL)
        prefs = self.studio.google_prefs(self.ann)
        self.studio.set_google_prefs(
            self.ann, dataclasses.replace(prefs, sync_on=True, calendar_id=EMAIL)
        )
        self.client = self.studio.add_client("Harriet", "Moss", phone="+44 20 7946 0811")
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
        report = self.engine.sync(self.profile(), self.account.calendar)
        if report.initial_sync_completed:
            self.studio.clear_first_time(self.ann)
        return report

    def google_events(self) -> dict[str, dict[str, object]]:
        """Ann's live Google events by the studio item id in their marker."""
        events = self.google.account(EMAIL).primary.live_events()
        return {_item_id(event): event for event in events}

    def close(self) -> None:
        self.account.close()
        self.studio.close()


def _item_id(event: dict[str, object]) -> str:
    properties = event.get("extendedProperties")
    assert isinstance(properties, dict)
    private = properties["private"]
    assert isinstance(private, dict)
    values = [str(value) for value in private.values()]
    return next(v for v in values if v.startswith(("session-", "appointment-")))


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


def test_a_corrupt_row_is_reported_by_id_and_skipped_while_the_rest_reaches_google(
    world: StudioSync,
) -> None:
    studio, ann = world.studio, world.ann
    shoot = session_key(studio.book_session(ann, world.client, "Portrait", in_days(2)))
    meeting = appointment_key(studio.add_appointment(ann, "Staff meeting", in_days(3)))
    broken = appointment_key(studio.add_appointment(ann, "Broken", in_days(4)))
    corrupt_row(world.path, broken, Defect.UNKNOWN_ZONE)
    broken_shoot = session_key(studio.book_session(ann, world.client, "Family", in_days(5)))
    corrupt_row(world.path, broken_shoot, Defect.TIMED_WITHOUT_ZONE)

    report = world.sync()

    assert report.ok, report.summary()
    warned = {w.split()[1]: w for w in report.warnings}
    assert {broken, broken_shoot} == set(warned)
    assert "Mars/Olympus_Mons" in warned[broken]
    assert "no time zone" in warned[broken_shoot]
    assert {shoot, meeting} == set(world.google_events())


@pytest.mark.parametrize("defect", list(Defect), ids=lambda d: d.name.lower())
def test_a_synced_item_whose_row_becomes_corrupt_keeps_its_google_event(
    world: StudioSync, defect: Defect
) -> None:
    studio, ann = world.studio, world.ann
    shoot = session_key(studio.book_session(ann, world.client, "Portrait", in_days(2)))
    meeting = appointment_key(studio.add_appointment(ann, "Staff meeting", in_days(3)))
    assert world.sync().ok
    before = world.google_events()
    assert {shoot, meeting} == set(before)

    corrupt_row(world.path, meeting, defect, logged=True)
    by_feed = world.sync()
    ben = studio.add_user("Ben")
    studio.add_appointment(ben, "Ben's day off", in_days(3))
    studio.trim_change_log(studio.change_position())  # Ann's cursor expires: a full listing
    by_listing = world.sync()

    for report in (by_feed, by_listing):
        assert report.ok, report.summary()
        assert [meeting] == [w.split()[1] for w in report.warnings]
        assert report.writes == 0
    assert before == world.google_events()


def test_a_repaired_row_syncs_again(world: StudioSync) -> None:
    studio, ann = world.studio, world.ann
    meeting_id = studio.add_appointment(ann, "Staff meeting", in_days(3))
    meeting = appointment_key(meeting_id)
    assert world.sync().ok
    corrupt_row(world.path, meeting, Defect.END_BEFORE_START, logged=True)
    assert world.sync().warnings

    studio.update_appointment(meeting_id, span=in_days(5, hour=14), title="Staff meeting (moved)")
    report = world.sync()

    assert (report.ok, report.warnings) == (True, [])
    event = world.google_events()[meeting]
    assert event["summary"] == "Staff meeting (moved)"

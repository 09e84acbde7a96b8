"""The studio's database restored from a week-old backup, synced through the real Google client
against the emulator: nothing the week made is deleted from Google or put back there.

Before the studio's change cursors could tell (and calsync looked where its own writes took
the studio's feed), the run after the restore deleted the Google user's own events made that
week and undid their Google edits, with no warning.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Span, Studio, UnreadableRow

from calsync import SqliteStateStore, SyncEngine, SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
EMAIL = "ann@lumen-studio.example"
START = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _copy(source: Path, target: Path) -> None:
    """The SQLite online backup of one file into another (what a studio's backup does)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


class RestoredStudio:
    """Ann's studio on a file, synced two-way with her primary calendar."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        self.google, self.path, self.clock = google, tmp / "studio.sqlite3", Clock()
        self.store = SqliteStateStore(tmp / "calsync.sqlite3")
        self._open()
        self.ann = self.studio.add_user("Ann Avery", EMAIL)
        prefs = self.studio.google_prefs(self.ann)
        changed = dataclasses.replace(
            prefs, sync_on=True, calendar_id=EMAIL, sync_back_calendar=True
        )
        self.studio.set_google_prefs(self.ann, changed)
        self.account: GoogleAccount = connect(
            Credentials(token=google.issue_tokens(EMAIL)[0]),
            base_url=google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )

    def _open(self) -> None:
        self.studio = Studio(self.path, clock=self.clock)
        self.profiles = StudioProfiles(self.studio, "lumen")
        schedule, clients = StudioSchedule(self.studio), StudioClients(self.studio)
        self.engine = SyncEngine(self.store, schedule, clients, clock=self.clock)

    def sync(self) -> SyncReport:
        (profile,) = self.profiles.profiles()
        report = self.engine.sync(profile, self.account.calendar)
        if report.initial_sync_completed:
            self.profiles.initial_sync_done(profile.id)
        return report

    def restore(self, backup: Path) -> None:
        self.studio.close()
        _copy(backup, self.path)
        self._open()

    def google_titles(self) -> dict[str, str]:
        events = self.google.account(EMAIL).primary.live_events()
        return {str(event["id"]): str(event.get("summary", "")) for event in events}

    def studio_titles(self) -> list[str]:
        rows = self.studio.schedule_between(self.ann, START.date(), START.date() + timedelta(90))
        return sorted(row.title for row in rows if not isinstance(row, UnreadableRow))


@pytest.fixture
def ann(tmp_path: Path) -> Iterator[RestoredStudio]:
    with GoogleEmulator() as google:
        studio = RestoredStudio(google, tmp_path)
        yield studio
        studio.account.close()
        studio.studio.close()
        studio.store.close()


def _event(title: str, day: int) -> dict[str, object]:
    start = START + timedelta(days=day, hours=2)
    return {
        "summary": title,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


def test_a_week_of_google_changes_survives_the_studio_going_back_to_its_backup(
    ann: RestoredStudio, tmp_path: Path
) -> None:
    sofia = ann.studio.add_client("Sofia", "Marin")
    for day in range(1, 6):
        start = START + timedelta(days=day, hours=1)
        ann.studio.book_session(
            ann.ann, sofia, "Portrait", Span(start, start + timedelta(hours=1), "Europe/London")
        )
    token = ann.google.issue_tokens(EMAIL)[0]  # the Google user, in Google Calendar
    events = build_calendar_service(Credentials(token=token), base_url=ann.google.base_url)
    coffee = events.events().insert(calendarId=EMAIL, body=_event("Coffee", 3)).execute()
    ann.sync()
    backup = tmp_path / "monday.sqlite3"
    _copy(ann.path, backup)

    ann.clock.now += timedelta(days=2)  # a week: the Google user moves their event, adds two
    moved = {"summary": "Coffee with the venue manager"}
    events.events().patch(calendarId=EMAIL, eventId=coffee["id"], body=moved).execute()
    doctor = events.events().insert(calendarId=EMAIL, body=_event("Doctor", 4)).execute()
    events.events().insert(calendarId=EMAIL, body=_event("Gym", 5)).execute()
    ann.sync()
    assert "Doctor" in ann.studio_titles()
    ann.clock.now += timedelta(days=5)
    ann.restore(backup)

    report = ann.sync()

    titles = ann.google_titles()
    assert titles[str(coffee["id"])] == "Coffee with the venue manager"
    assert titles[str(doctor["id"])] == "Doctor"
    assert {"Doctor", "Gym", "Coffee with the venue manager"} <= set(ann.studio_titles())
    assert report.ok
    assert not report.held
    assert any("went back in time" in warning for warning in report.warnings)
    assert ann.sync().writes == 0

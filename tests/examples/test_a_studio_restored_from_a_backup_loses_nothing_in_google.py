"""The studio's database restored from a week-old backup, synced through the real Google client
against the emulator: nothing the week made is deleted from Google or put back there.

Before the studio's change cursors could tell (and calsync looked where its own writes took
the studio's feed), the run after the restore deleted the Google user's own events made that
week and undid their Google edits, with no warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio.db import Span, UnreadableRow
from studio_file import START, StudioOnFile

from calsync.google.services import build_calendar_service
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
EMAIL = "ann@lumen-studio.example"


class RestoredStudio(StudioOnFile):
    """Ann's studio on a file, synced two-way with her primary calendar."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        super().__init__(google, tmp, EMAIL)
        self.ann = self.user
        self.choose(sync_back_calendar=True)

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
        studio.close()


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
    ann.back_up(backup)

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

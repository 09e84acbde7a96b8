"""The Google user edits one week of their series, then shortens the series so that week is
gone: Google lists it no more, and the day's full listing removes its unlinked appointment
from the studio (docs/conflicts.md, "Known limits"). On the emulator with the real
google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind
from calsync.google.translate import event_body
from calsync.model import EventFields

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def titles(w: GoogleWorld) -> list[str]:
    return sorted(i.title for i in w.items().values() if i.kind is ItemKind.UNLINKED)


@pytest.mark.parametrize(
    "change",
    [
        {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]},
        {"recurrence": ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=2"]},
    ],
    ids=["shorter", "every-other-week"],
)
def test_the_days_full_listing_removes_an_edited_week_the_series_no_longer_has(
    world: MakeWorld, studio: StudioBuilders, change: dict[str, Any]
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    body = event_body(
        EventFields("Yoga", when=studio.timed(1, hour=9)), None, event_id="series0001"
    )
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    series = w.calendar_user.insert_raw(w.calendar_id, body)["id"]
    weeks = w.calendar_user.events().instances(calendarId=w.calendar_id, eventId=series)
    fourth = weeks.execute()["items"][3]["id"]
    w.calendar_user.patch(w.calendar_id, fourth, {"summary": "Yoga (guest teacher)"})
    w.sync()
    assert titles(w) == ["Yoga", "Yoga", "Yoga", "Yoga (guest teacher)"]
    w.calendar_user.patch(w.calendar_id, series, change)
    w.sync()

    w.clock.advance(days=1)
    report = w.sync()  # the day's full listing

    assert report.ok, report.summary()
    assert titles(w) == ["Yoga", "Yoga"]
    assert w.sync().writes == 0

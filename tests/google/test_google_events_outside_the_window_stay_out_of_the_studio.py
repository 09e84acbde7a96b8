"""Google's incremental listing (a sync token) is not windowed: it lists any event that
changed, however far back or ahead. What is synced is the window (what a full listing
holds): an event the Google user made or changed outside it does not come to the studio on
an incremental run either, and costs no read at the day's full listing. Before, an edited
occurrence of a long series 6 months back, or single events made 200 days back or 3 years
ahead, came in as unlinked appointments. On the emulator with the real
google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind, Side
from calsync.google.translate import event_body
from calsync.model import EventFields, ScheduleItem

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def instances(w: GoogleWorld, series: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    events = w.calendar_user.events()
    request = events.instances(calendarId=w.calendar_id, eventId=series)
    while request is not None:
        page = request.execute()
        items += page["items"]
        request = events.instances_next(request, page)
    return items


def unlinked(w: GoogleWorld) -> list[ScheduleItem]:
    return [i for i in w.items().values() if i.kind is ItemKind.UNLINKED]


def outside_the_window(w: GoogleWorld) -> list[str]:
    window = w.profile.options.window.resolve(w.clock())
    return [i.title for i in unlinked(w) if i.when is not None and not window.overlaps(i.when)]


def test_renaming_a_long_series_brings_no_occurrence_from_outside_the_window(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    # a weekly class running since a year ago; the Google user changed one, 6 months ago
    body = event_body(
        EventFields("Yoga", when=studio.timed(-364, hour=9)), None, event_id="series0001"
    )
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=80"]
    master = w.calendar_user.insert_raw(w.calendar_id, body)
    old = [i for i in instances(w, master["id"]) if i["start"]["dateTime"] < "2030-09-05"][-1]
    w.calendar_user.patch(w.calendar_id, old["id"], {"summary": "Yoga (guest)"})
    w.sync()
    synced = len(unlinked(w))
    assert outside_the_window(w) == []

    w.calendar_user.patch(w.calendar_id, master["id"], {"summary": "Yoga flow"})  # all events
    report = w.sync()

    assert report.ok, report.summary()
    assert outside_the_window(w) == []
    assert report.count(Side.HOST, "created") == 0
    assert {i.title for i in unlinked(w)} == {"Yoga flow"}
    assert len(unlinked(w)) == synced


def test_events_made_outside_the_window_stay_out_and_are_not_read(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    cal = w.calendar_id
    w.calendar_user.external_create(cal, EventFields("Past", when=studio.timed(-200)))
    w.calendar_user.external_create(cal, EventFields("Far", when=studio.timed(3 * 365)))
    w.calendar_user.external_create(cal, EventFields("Soon", when=studio.timed(3)))

    incremental = w.sync()

    assert incremental.count(Side.HOST, "created") == 1
    assert [i.title for i in unlinked(w)] == ["Soon"]
    w.clock.advance(days=1)  # the day's full listing
    w.google.reset_stats()

    full = w.sync()

    assert (full.ok, full.writes) == (True, 0)
    assert [i.title for i in unlinked(w)] == ["Soon"]
    assert w.google.stats()["methods"].get("calendar.events.get", 0) == 0


def test_an_event_moved_out_of_the_window_in_google_moves_in_the_studio(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """A paired event follows the rules of any pair, as a full listing would have it: the
    move comes to the studio (the item is forgotten once it has left the window)."""
    w = world(contacts=False, inbound_calendar=True)
    made = w.calendar_user.external_create(w.calendar_id, EventFields("Yoga", when=studio.timed(3)))
    w.sync()
    w.calendar_user.external_update(w.calendar_id, made.id, when=studio.timed(-200))

    report = w.sync()

    assert report.ok, report.summary()
    [item] = unlinked(w)
    assert (item.remote_id, item.when) == (made.id, studio.timed(-200))

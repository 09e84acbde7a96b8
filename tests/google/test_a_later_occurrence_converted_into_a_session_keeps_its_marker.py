"""A later occurrence of a Google user's series, converted into a session in the studio: the
marker calsync stamped on that occurrence is its own, not one the series handed on, so no
listing takes it off. Nothing is reported "made recurring in Google", and an edit of either
side costs only its own write. On the emulator with the real google-api-python-client."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind, Side
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.translate import event_body
from calsync.ids import event_id_for
from calsync.model import EventFields, Marker, TimeRange, When

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import CalendarUser, GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def writes(w: GoogleWorld) -> dict[str, int]:
    """The emulator's count of write calls since its stats were last reset."""
    methods: dict[str, int] = w.google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith((".list", ".get", ".instances"))}


def instances(user: CalendarUser, calendar_id: str, series: str) -> list[dict[str, Any]]:
    request = user.events().instances(calendarId=calendar_id, eventId=series)
    items: list[dict[str, Any]] = request.execute()["items"]
    return items


def weekly(user: CalendarUser, calendar_id: str, when: When, event_id: str) -> str:
    """A four-week series the Google user makes; its id."""
    body = event_body(EventFields("Yoga", when=when), None, event_id=event_id)
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    series: str = user.insert_raw(calendar_id, body)["id"]
    return series


def third_week_converted(w: GoogleWorld, studio: StudioBuilders) -> str:
    """The Google user's weekly Yoga; the studio converts its third week into session s9,
    synced. The third week's id."""
    w.sync()
    series = weekly(w.calendar_user, w.calendar_id, studio.timed(1, hour=9), "series0001")
    w.sync()
    third: str = instances(w.calendar_user, w.calendar_id, series)[2]["id"]
    [host_id] = [k for k, i in w.items().items() if i.remote_id == third]
    w.schedule.convert(
        studio.user, host_id, client=studio.ann, session_type="Portrait", new_id="s9"
    )
    converted = w.sync()
    assert converted.ok, converted.summary()
    return third


def made_recurring(report: Any) -> list[str]:
    return [warning for warning in report.warnings if "made recurring" in warning]


def test_a_converted_later_occurrence_is_never_reported_made_recurring(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    third_week_converted(w, studio)

    quiet = w.sync()
    w.schedule.edit(studio.user, "s9", when=studio.timed(16, hour=11))
    edited = w.sync()
    read_back = w.sync()
    w.google.expire_sync_tokens()
    full = w.sync()

    assert (quiet.writes, read_back.writes, full.writes) == (0, 0, 0)
    assert edited.count(Side.REMOTE, "updated") == 1
    assert [made_recurring(r) for r in (quiet, edited, read_back, full)] == [[], [], [], []]
    assert w.items()["s9"].kind is ItemKind.SESSION


def test_a_google_time_edit_of_a_converted_occurrence_writes_nothing_back(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    third = third_week_converted(w, studio)
    w.sync()
    moved = studio.timed(15, hour=14)
    body = event_body(EventFields("x", when=moved), None)
    w.calendar_user.patch(w.calendar_id, third, {"start": body["start"], "end": body["end"]})
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert w.items()["s9"].when == moved
    assert (report.count(Side.REMOTE, "updated"), writes(w)) == (0, {})
    assert made_recurring(report) == []


def test_a_session_made_recurring_keeps_its_first_week_and_a_converted_week_keeps_its_own(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    studio: StudioBuilders,
) -> None:
    """A series made of session s1 hands s1's marker on to every week: only the first week
    keeps it. A week converted into session s9 carries s9's marker, stamped on it: it keeps
    that one."""
    calendar = calendar_backend.list_writable_calendars()[0].id
    s1, s9 = Marker("studio.u7", "s1"), Marker("studio.u7", "s9")
    own = event_id_for(s1.namespace, s1.host_id)
    calendar_backend.create_event(calendar, own, EventFields("Wedding", when=studio.timed(3)), s1)
    window = TimeRange(studio.now - timedelta(days=30), studio.now + timedelta(days=731))
    full = calendar_backend.list_events(calendar, window, None)
    calendar_user.patch(calendar, own, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]})
    third = instances(calendar_user, calendar, own)[2]["id"]
    portrait = EventFields("Portrait", when=studio.timed(17))
    calendar_backend.update_event(calendar, third, portrait, s9, None)  # converted

    changed = calendar_backend.list_events(calendar, window, full.cursor)

    weeks = sorted(
        (e for e in changed.items if e.series_id == own),
        key=lambda e: e.fields.when.bounds()[0] if e.fields and e.fields.when else studio.now,
    )
    assert [e.marker for e in weeks] == [s1, None, s9, None]
    [warning] = made_recurring(changed)
    assert "item s1" in warning
    assert "s9" not in warning
    assert "the 2 other occurrences" in warning

"""freebusy.query: busy intervals computed from the stored events."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.google.services import build_calendar_service
from calsync.testing.emulator.freebusy import merge

from .emulator_support import new_calendar, own_email, timed_event

pytestmark = pytest.mark.emulator

WINDOW = {"timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z"}


def add(calendar: Any, calendar_id: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    body = timed_event(f"2030-01-07T{start}:00Z", f"2030-01-07T{end}:00Z", **extra)
    return dict(calendar.events().insert(calendarId=calendar_id, body=body).execute())


def busy(calendar: Any, calendar_id: str, **extra: Any) -> list[tuple[str, str]]:
    body = {**WINDOW, "items": [{"id": calendar_id}], **extra}
    answer = calendar.freebusy().query(body=body).execute()
    return [(b["start"], b["end"]) for b in answer["calendars"][calendar_id]["busy"]]


def test_overlapping_and_touching_events_merge_into_one_busy_interval(calendar, calendar_id):
    add(calendar, calendar_id, "09:00", "10:00")
    add(calendar, calendar_id, "09:30", "11:00")
    add(calendar, calendar_id, "11:00", "11:30")
    add(calendar, calendar_id, "14:00", "15:00")
    assert busy(calendar, calendar_id) == [
        ("2030-01-07T09:00:00Z", "2030-01-07T11:30:00Z"),
        ("2030-01-07T14:00:00Z", "2030-01-07T15:00:00Z"),
    ]


def test_transparent_and_cancelled_events_leave_the_time_free(calendar, calendar_id):
    add(calendar, calendar_id, "09:00", "10:00", transparency="transparent")
    cancelled = add(calendar, calendar_id, "12:00", "13:00")
    calendar.events().delete(calendarId=calendar_id, eventId=cancelled["id"]).execute()
    add(calendar, calendar_id, "16:00", "17:00")
    assert busy(calendar, calendar_id) == [("2030-01-07T16:00:00Z", "2030-01-07T17:00:00Z")]


def test_busy_intervals_are_clipped_to_the_window_and_rendered_in_its_zone(calendar, calendar_id):
    body = timed_event("2030-01-06T22:00:00Z", "2030-01-07T01:00:00Z")
    calendar.events().insert(calendarId=calendar_id, body=body).execute()
    assert busy(calendar, calendar_id, timeZone="Europe/Zurich") == [
        ("2030-01-07T01:00:00+01:00", "2030-01-07T02:00:00+01:00")
    ]


def test_a_recurring_event_is_busy_at_each_instance(calendar, calendar_id):
    series = {
        "summary": "Daily class",
        "start": {"dateTime": "2030-01-06T08:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-06T09:00:00Z", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    calendar.events().insert(calendarId=calendar_id, body=series).execute()
    assert busy(calendar, calendar_id) == [("2030-01-07T08:00:00Z", "2030-01-07T09:00:00Z")]


def test_an_event_the_owner_declined_is_free_time(target, calendar):
    target.require_emulator()
    me = own_email(calendar)
    add(
        calendar,
        "primary",
        "09:00",
        "10:00",
        attendees=[{"email": me, "responseStatus": "declined"}],
    )
    add(calendar, "primary", "11:00", "12:00", attendees=[{"email": me}])
    assert busy(calendar, "primary") == [("2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z")]


def test_an_unknown_calendar_answers_not_found_in_its_own_entry(target, calendar):
    studio = new_calendar(target, calendar)
    add(calendar, studio["id"], "09:00", "10:00")
    unknown = "nobody-at-all@group.calendar.google.com"
    body = {**WINDOW, "items": [{"id": studio["id"]}, {"id": unknown}]}
    answer = calendar.freebusy().query(body=body).execute()
    assert answer["kind"] == "calendar#freeBusy"
    assert answer["calendars"][unknown]["errors"] == [{"domain": "global", "reason": "notFound"}]
    assert answer["calendars"][unknown]["busy"] == []
    assert len(answer["calendars"][studio["id"]]["busy"]) == 1


def test_another_accounts_primary_calendar_is_visible(target, calendar):
    emulator = target.require_emulator()
    colleague = build_calendar_service(Credentials(token="colleague"), base_url=emulator.base_url)
    add(colleague, "primary", "09:00", "10:00")
    email = own_email(colleague)
    assert busy(calendar, email) == [("2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z")]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 96), st.integers(1, 12)), max_size=12))
def test_merged_intervals_are_disjoint_and_cover_exactly_the_busy_minutes(pairs):
    base = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)
    quarter = dt.timedelta(minutes=15)
    intervals = sorted((base + a * quarter, base + (a + n) * quarter) for a, n in pairs)
    merged = merge(intervals)
    assert all(end < after for (_, end), (after, _) in itertools.pairwise(merged))
    covered = {a + i for a, n in pairs for i in range(n)}
    assert {
        int((start - base) / quarter) + i
        for start, end in merged
        for i in range(int((end - start) / quarter))
    } == covered

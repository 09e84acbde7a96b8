"""Google events whose times calsync cannot hold as instants (out of datetime's range once their
offset is applied, or in a "zone" that names a file) are skipped with a warning naming them:
one such event never fails the listing of the whole calendar. The real client runs on
googleapiclient's canned transport, as the emulator refuses to store such events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service
from calsync.google.translate import Skipped, event_from_json, occurrence_start
from calsync.model import TimeRange

WINDOW = TimeRange(datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))
GOOD = {
    "id": "good00001",
    "etag": '"1"',
    "summary": "Fine",
    "start": {"dateTime": "2031-03-10T09:00:00Z"},
    "end": {"dateTime": "2031-03-10T10:00:00Z"},
}
NO_INSTANTS = {
    "after year 9999 in UTC": (
        {"dateTime": "9999-12-31T20:00:00-05:00"},
        {"dateTime": "9999-12-31T21:00:00-05:00"},
    ),
    "before year 1 in UTC": (
        {"dateTime": "0001-01-01T00:30:00+01:00"},
        {"dateTime": "0001-01-01T00:45:00+01:00"},
    ),
    "after year 9999 in its own zone": (
        {"dateTime": "9999-12-31T22:00:00Z", "timeZone": "Pacific/Kiritimati"},
        {"dateTime": "9999-12-31T23:00:00Z", "timeZone": "Pacific/Kiritimati"},
    ),
    "a zone that is a file": (
        {"dateTime": "2031-03-10T09:00:00", "timeZone": "/etc/passwd"},
        {"dateTime": "2031-03-10T10:00:00", "timeZone": "/etc/passwd"},
    ),
}


def backend_answering(*pages: dict[str, Any]) -> GoogleCalendarBackend:
    answers = [({"status": "200"}, json.dumps(page)) for page in pages]
    service = build_calendar_service(
        None, base_url="http://calendar.test", http=HttpMockSequence(answers)
    )
    return GoogleCalendarBackend(service, pacer=unpaced(), retrying=no_wait_retrying())


def bad_event(times: tuple[dict[str, str], dict[str, str]]) -> dict[str, Any]:
    start, end = times
    return {"id": "bad000001", "etag": '"2"', "summary": "x", "start": start, "end": end}


@pytest.mark.parametrize("shape", list(NO_INSTANTS))
def test_an_event_whose_times_are_no_instants_is_skipped_naming_it(shape: str) -> None:
    got = event_from_json(bad_event(NO_INSTANTS[shape]), calendar_zone="Europe/London")

    assert isinstance(got, Skipped)
    assert got.item_id == "bad000001"


@pytest.mark.parametrize("shape", list(NO_INSTANTS))
def test_one_such_event_is_a_warning_of_the_listing_not_its_failure(shape: str) -> None:
    page = {
        "timeZone": "Europe/London",
        "items": [GOOD, bad_event(NO_INSTANTS[shape])],
        "nextSyncToken": "sync-1",
    }

    listing = backend_answering(page).list_events("cal", WINDOW, None)

    assert [e.id for e in listing.items] == ["good00001"]
    assert (listing.cursor, listing.complete) == ("sync-1", True)
    assert ["bad000001" in warning for warning in listing.warnings] == [True]


@pytest.mark.parametrize(
    "shape", ["after year 9999 in UTC", "before year 1 in UTC", "a zone that is a file"]
)
def test_an_occurrence_start_that_is_no_instant_is_unreadable(shape: str) -> None:
    start, _ = NO_INSTANTS[shape]

    assert occurrence_start(start) is None

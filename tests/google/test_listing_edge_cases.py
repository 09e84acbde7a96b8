"""Listings Google answers that the emulator cannot produce: malformed events among good ones,
and series split in Google. The real client runs on googleapiclient's own canned transport
(``HttpMockSequence``) where the emulator would refuse to store such data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from googleapiclient.http import HttpMockSequence

from calsync.backends import RemoteEvent
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service
from calsync.google.split import find_split_copies
from calsync.ids import event_id_for
from calsync.model import EventFields, Marker, Timed, TimeRange

WINDOW = TimeRange(datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))
TIMES = {
    "start": {"dateTime": "2031-03-10T09:00:00Z", "timeZone": "UTC"},
    "end": {"dateTime": "2031-03-10T10:00:00Z", "timeZone": "UTC"},
}


def backend_answering(*pages: dict[str, Any]) -> GoogleCalendarBackend:
    answers = [({"status": "200"}, json.dumps(page)) for page in pages]
    service = build_calendar_service(
        None, base_url="http://calendar.test", http=HttpMockSequence(answers)
    )
    return GoogleCalendarBackend(service, pacer=unpaced(), retrying=no_wait_retrying())


def test_a_listing_skips_malformed_and_special_events_and_names_the_malformed() -> None:
    page_one = {
        "timeZone": "Europe/London",
        "items": [
            {"id": "good00001", "etag": '"1"', "summary": "Fine", **TIMES},
            {"id": "bad000001", "etag": '"2"', "start": TIMES["start"]},
            {"id": "ooo000001", "etag": '"3"', "eventType": "outOfOffice", **TIMES},
        ],
        "nextPageToken": "p2",
    }
    page_two = {
        "items": [
            {"id": "bad000002", "etag": '"4"', "summary": {"not": "text"}, **TIMES},
            "not an event",
            {"id": "good00002", "etag": '"5"', **TIMES},
        ],
        "nextSyncToken": "sync-after-page-two",
    }
    backend = backend_answering(page_one, page_two)

    listing = backend.list_events("cal", WINDOW, None)

    assert [e.id for e in listing.items] == ["good00001", "good00002"]
    assert (listing.cursor, listing.complete) == ("sync-after-page-two", True)
    assert len(listing.warnings) == 3
    assert "bad000001" in listing.warnings[0]
    assert "bad000002" in listing.warnings[1]


def instance(series: str, week: int, marker: Marker | None, event_id: str = "") -> RemoteEvent:
    start = datetime(2031, 3, 3, 10, tzinfo=UTC) + timedelta(weeks=week)
    fields = EventFields("Wedding", when=Timed(start, start + timedelta(hours=1)))
    return RemoteEvent(
        event_id or f"{series}_{week}", '"1"', fields, marker=marker, series_id=series
    )


def test_the_series_split_off_ours_is_the_copy_and_ours_keeps_the_marker() -> None:
    marker = Marker("studio.u7", "s1")
    ours = event_id_for("studio.u7", "s1")
    events = [
        instance("later0001", 3, marker),
        instance(ours, 0, marker),
        instance(ours, 1, marker),
        instance("later0001", 4, marker),
    ]

    [copy] = find_split_copies(events)

    assert (copy.root, copy.keeper, copy.indices) == ("later0001", ours, (0, 3))


def test_without_our_id_the_series_that_starts_first_keeps_the_marker() -> None:
    marker = Marker("studio.u7", "s9")  # e.g. a converted appointment: Google's own id
    events = [instance("second001", 5, marker), instance("first0001", 2, marker)]

    [copy] = find_split_copies(events)

    assert (copy.root, copy.keeper) == ("second001", "first0001")


def test_single_events_sharing_a_marker_are_left_alone() -> None:
    marker = Marker("studio.u7", "s1")
    single = instance("x", 0, marker, event_id="single001")
    events = [
        RemoteEvent(single.id, single.etag, single.fields, marker=marker),
        RemoteEvent("single002", '"2"', single.fields, marker=marker),
    ]

    assert find_split_copies(events) == []

"""Any timed span calsync sends reads back as the same instants in the same zone: in the
repeated and skipped hours of DST changes, in zones a half or three quarters of an hour off
the hour (Lord Howe's 30-minute DST, Chatham's +12:45/+13:45, Kathmandu's +05:45), and in
zones that changed their offset for good (Samoa skipped 30 December 2011); and the same
through the real client and the emulator, listed and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync.backends import RemoteEvent
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.translate import event_body, event_from_json
from calsync.model import EventFields, Marker, Timed, TimeRange
from calsync.timezones import zone_info

MARKER = Marker("studio.u7", "s1")
ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "America/Santiago",
    "UTC",
]
#: instants around DST changes and offset changes (each ± a few hours, by quarter hours)
AROUND = [
    datetime(2031, 10, 26, 1, tzinfo=UTC),  # Europe's autumn change
    datetime(2031, 3, 30, 1, tzinfo=UTC),  # Europe's spring change
    datetime(2031, 11, 2, 6, tzinfo=UTC),  # New York's autumn change
    datetime(2031, 4, 5, 15, tzinfo=UTC),  # Lord Howe's and Chatham's autumn change
    datetime(2011, 12, 29, 10, tzinfo=UTC),  # Samoa moves across the date line
    datetime(2031, 4, 6, 3, tzinfo=UTC),  # Santiago's change
]


@st.composite
def spans(draw: st.DrawFn) -> Timed:
    base = draw(st.sampled_from(AROUND))
    start = base + timedelta(minutes=15 * draw(st.integers(-16, 16)))
    end = start + timedelta(minutes=15 * draw(st.integers(0, 16)))
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):  # the host's times in the zone itself (fold=1 in a repeated hour)
        start, end = start.astimezone(zone_info(zone)), end.astimezone(zone_info(zone))
    return Timed(start, end, zone)


@given(spans())
def test_a_timed_span_reads_back_as_the_instants_and_zone_it_was_sent_with(when: Timed) -> None:
    fields = EventFields("Session", "", "", when)
    body = event_body(fields, MARKER, event_id="abc12345")

    read = event_from_json({**body, "etag": '"1"', "status": "confirmed"})

    assert isinstance(read, RemoteEvent), read
    assert read.fields == fields  # (Timed compares by instants and zone)
    assert read.fields is not None
    assert read.fields.when is not None
    assert read.fields.when.bounds() == when.bounds()


WINDOW = TimeRange(datetime(2011, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
THROUGH_GOOGLE = [
    # 01:30 GMT, the repeated hour's second pass in London (01:30 BST was an hour before)
    (datetime(2031, 10, 26, 1, 30, tzinfo=UTC), 60, "Europe/London"),
    # Lord Howe repeats half an hour: 01:45 at +10:30, after 01:45 at +11
    (datetime(2031, 4, 5, 15, 15, tzinfo=UTC), 30, "Australia/Lord_Howe"),
    (datetime(2031, 4, 5, 13, 30, tzinfo=UTC), 90, "Pacific/Chatham"),
    (datetime(2031, 6, 1, 3, 15, tzinfo=UTC), 45, "Asia/Kathmandu"),
    # Samoa skipped 30 December 2011: 23:30 on the 29th to 00:30 on the 31st, an hour
    (datetime(2011, 12, 30, 9, 30, tzinfo=UTC), 60, "Pacific/Apia"),
]


@pytest.mark.emulator
@pytest.mark.parametrize(
    ("start", "minutes", "zone"), THROUGH_GOOGLE, ids=[zone for *_, zone in THROUGH_GOOGLE]
)
def test_an_event_written_through_google_reads_back_at_the_same_instants_and_zone(
    calendar_backend: GoogleCalendarBackend, start: datetime, minutes: int, zone: str
) -> None:
    calendar = calendar_backend.create_calendar("Studio", "Europe/London").id
    when = Timed(start.astimezone(zone_info(zone)), start + timedelta(minutes=minutes), zone)
    fields = EventFields("Session", "", "", when)

    made = calendar_backend.create_event(calendar, "abc12345", fields, MARKER)
    listed = calendar_backend.list_events(calendar, WINDOW, None).items

    assert made.fields == fields
    assert [event.fields for event in listed] == [fields]
    assert calendar_backend.get_event(calendar, made.id) == made

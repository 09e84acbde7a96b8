"""Any timed span calsync sends reads back as the same instants in the same zone: in the
repeated and skipped hours of DST changes, in zones a half or three quarters of an hour off
the hour (Lord Howe's 30-minute DST, Chatham's +12:45/+13:45, Kathmandu's +05:45), and in
zones that changed their offset for good (Samoa skipped 30 December 2011)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from calsync.backends import RemoteEvent
from calsync.google.translate import event_body, event_from_json
from calsync.model import EventFields, Marker, Timed
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

"""The stored base of a pair is canonical JSON: the same fields always give the same text,
whichever way the engine encodes them (the planner compares it to tell an unchanged side)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from calsync.engine.fields import _converter, decode_base, encode_base
from calsync.model import AllDay, Email, EventFields, Phone, PostalAddress, Timed

ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Kiev")

offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets
)


@st.composite
def timed(draw: st.DrawFn) -> Timed:
    start = draw(instants)
    length = draw(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=9)))
    return Timed(start, start + length, draw(st.sampled_from(ZONES)))


@st.composite
def all_day(draw: st.DrawFn) -> AllDay:
    start = draw(st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 1, 1)))
    return AllDay(start, start + timedelta(days=draw(st.integers(1, 30))))


event_fields = st.builds(
    EventFields,
    title=st.text(),
    description=st.text(),
    location=st.text(),
    when=st.none() | timed() | all_day(),
)


def general_encoding(fields: EventFields) -> str:
    """The canonical JSON as the codec writes any field record (cattrs, sorted keys)."""
    return json.dumps(_converter.unstructure(fields), sort_keys=True, separators=(",", ":"))


@given(event_fields)
def test_event_fields_encode_to_the_same_canonical_text_as_any_field_record(
    fields: EventFields,
) -> None:
    assert general_encoding(fields) == encode_base(fields)


@given(event_fields)
def test_an_encoded_event_base_decodes_to_the_same_fields(fields: EventFields) -> None:
    assert fields == decode_base(encode_base(fields), EventFields)


def test_a_timed_base_is_written_in_utc_with_its_zone() -> None:
    start = datetime(2031, 3, 3, 9, tzinfo=timezone(timedelta(hours=1)))
    fields = EventFields(
        "Wedding",
        'Call "Priya"\nfirst',
        "",
        Timed(start, start + timedelta(hours=2), "Europe/Paris"),
    )
    expected = (
        '{"description":"Call \\"Priya\\"\\nfirst","location":"","title":"Wedding",'
        '"when":{"end":"2031-03-03T10:00:00+00:00","start":"2031-03-03T08:00:00+00:00",'
        '"zone":"Europe/Paris"}}'
    )
    assert expected == encode_base(fields)
    when = decode_base(encode_base(fields), EventFields).when
    assert isinstance(when, Timed)
    assert UTC is when.start.tzinfo


def test_an_entry_without_a_label_has_the_label_google_reads_it_with() -> None:
    """A stored base (or a host) holding an empty label means what Google reads back."""
    assert Phone("020 7946 0000", " ") == Phone("020 7946 0000", "mobile")
    assert Email("a@example.com", "") == Email("a@example.com", "home")
    assert PostalAddress(city="Paris", label="") == PostalAddress(city="Paris")
    assert Phone("1", " work ").label == "work"

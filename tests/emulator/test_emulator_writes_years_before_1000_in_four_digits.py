"""Times before the year 1000 are stored, rendered and listed as Google renders them: the year
in four digits (``0001-01-01T…``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from calsync.testing.emulator.times import format_datetime, format_timestamp

from .emulator_support import timed_event

pytestmark = pytest.mark.emulator


def test_an_event_in_the_year_one_is_stored_and_listed(calendar: Any, calendar_id: str) -> None:
    body = timed_event("0001-01-01T22:00:00Z", "0001-01-01T23:00:00Z", summary="old")

    made = calendar.events().insert(calendarId=calendar_id, body=body).execute()
    listed = calendar.events().list(calendarId=calendar_id, timeZone="UTC").execute()

    assert made["start"]["dateTime"] == "0001-01-01T22:00:00Z"
    assert [(e["summary"], e["start"]["dateTime"]) for e in listed["items"]] == [
        ("old", "0001-01-01T22:00:00Z")
    ]


def test_a_timestamp_before_the_year_1000_has_a_four_digit_year() -> None:
    moment = dt.datetime(33, 4, 5, 6, 7, 8, 901234, tzinfo=dt.UTC)

    assert format_timestamp(moment) == "0033-04-05T06:07:08.901Z"
    assert format_datetime(moment) == "0033-04-05T06:07:08Z"

"""Recurring events before the year 1000: their instances' ids and their ``UNTIL`` carry the
year in four digits (``strftime("%Y")`` gives ``33`` for the year 33 on Linux, which made ids
the emulator could not read back and rules it could not parse)."""

from __future__ import annotations

from typing import Any

import pytest

from .emulator_support import new_event_id

pytestmark = pytest.mark.emulator


def instances(calendar: Any, calendar_id: str, series: str) -> list[dict[str, Any]]:
    request = calendar.events().instances(calendarId=calendar_id, eventId=series)
    return list(request.execute()["items"])


def insert(calendar: Any, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return dict(calendar.events().insert(calendarId=calendar_id, body=body).execute())


@pytest.mark.parametrize(
    ("start", "end", "suffixes"),
    [
        ({"date": "0033-04-05"}, {"date": "0033-04-06"}, ["00330405", "00330406"]),
        (
            {"dateTime": "0999-12-31T08:00:00Z", "timeZone": "UTC"},
            {"dateTime": "0999-12-31T09:00:00Z", "timeZone": "UTC"},
            ["09991231T080000Z", "10000101T080000Z"],
        ),
    ],
    ids=["all-day", "timed"],
)
def test_an_instance_of_an_old_series_is_named_and_found_with_a_four_digit_year(
    calendar: Any,
    calendar_id: str,
    start: dict[str, str],
    end: dict[str, str],
    suffixes: list[str],
) -> None:
    body = {"id": new_event_id(), "start": start, "end": end}
    master = insert(calendar, calendar_id, {**body, "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"]})

    ids = [item["id"] for item in instances(calendar, calendar_id, master["id"])]

    assert ids == [f"{master['id']}_{suffix}" for suffix in suffixes]
    for event_id in ids:
        got = calendar.events().get(calendarId=calendar_id, eventId=event_id).execute()
        assert (got["id"], got["recurringEventId"]) == (event_id, master["id"])


@pytest.mark.parametrize(
    ("start", "end", "until"),
    [
        ({"date": "0033-04-05"}, {"date": "0033-04-06"}, "00330407"),
        (
            {"dateTime": "0033-04-05T08:00:00Z", "timeZone": "UTC"},
            {"dateTime": "0033-04-05T09:00:00Z", "timeZone": "UTC"},
            "00330407T080000Z",
        ),
    ],
    ids=["all-day", "timed"],
)
def test_an_until_before_the_year_1000_bounds_the_series(
    calendar: Any, calendar_id: str, start: dict[str, str], end: dict[str, str], until: str
) -> None:
    rule = f"RRULE:FREQ=DAILY;UNTIL={until}"
    body = {"id": new_event_id(), "start": start, "end": end, "recurrence": [rule]}

    master = insert(calendar, calendar_id, body)

    assert len(instances(calendar, calendar_id, master["id"])) == 3

"""An edited occurrence (an exception) whose original start its series no longer produces (a
shorter ``COUNT``, an ``UNTIL``, the series moved to another time) is gone with its
occurrence, as in Google: no listing returns it, and reading it is "not found"."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import new_event_id

pytestmark = pytest.mark.emulator

ZURICH = "Europe/Zurich"


def weekly(count: int) -> dict[str, Any]:
    """Tuesdays 06:00 Zurich time from 2030-01-01, ``count`` weeks."""
    return {
        "id": new_event_id(),
        "summary": "Class",
        "start": {"dateTime": "2030-01-01T06:00:00+01:00", "timeZone": ZURICH},
        "end": {"dateTime": "2030-01-01T07:00:00+01:00", "timeZone": ZURICH},
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
    }


def series_with_an_edited_last_week(calendar: Any, calendar_id: str) -> tuple[str, str]:
    """A four-week series whose fourth week the user renamed; (series id, its id)."""
    events = calendar.events()
    master = events.insert(calendarId=calendar_id, body=weekly(4)).execute()
    fourth = events.instances(calendarId=calendar_id, eventId=master["id"]).execute()["items"][3]
    body = {"summary": "Guest teacher"}
    events.patch(calendarId=calendar_id, eventId=fourth["id"], body=body).execute()
    return master["id"], fourth["id"]


def listed(calendar: Any, calendar_id: str, series: str) -> dict[str, set[str]]:
    """The ids each listing returns: instances, a single-events listing, a default one."""
    events = calendar.events()
    found = {
        "instances": events.instances(calendarId=calendar_id, eventId=series).execute(),
        "single": events.list(calendarId=calendar_id, singleEvents=True).execute(),
        "default": events.list(calendarId=calendar_id).execute(),
    }
    return {name: {item["id"] for item in page["items"]} for name, page in found.items()}


@pytest.mark.parametrize(
    "change",
    [
        {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]},
        {"recurrence": ["RRULE:FREQ=WEEKLY;UNTIL=20300110T000000Z"]},
        {
            "start": {"dateTime": "2030-01-01T08:00:00+01:00", "timeZone": ZURICH},
            "end": {"dateTime": "2030-01-01T09:00:00+01:00", "timeZone": ZURICH},
        },
    ],
    ids=["shorter-count", "until", "moved-series"],
)
def test_no_listing_returns_an_edited_occurrence_the_series_no_longer_has(
    calendar: Any, calendar_id: str, change: dict[str, Any]
) -> None:
    series, edited = series_with_an_edited_last_week(calendar, calendar_id)
    assert all(edited in ids for ids in listed(calendar, calendar_id, series).values())

    calendar.events().patch(calendarId=calendar_id, eventId=series, body=change).execute()

    assert not [
        name for name, ids in listed(calendar, calendar_id, series).items() if edited in ids
    ]


def test_an_edited_occurrence_the_series_no_longer_has_is_not_found(
    calendar: Any, calendar_id: str
) -> None:
    series, edited = series_with_an_edited_last_week(calendar, calendar_id)
    body = {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]}
    calendar.events().patch(calendarId=calendar_id, eventId=series, body=body).execute()

    with pytest.raises(HttpError) as raised:
        calendar.events().get(calendarId=calendar_id, eventId=edited).execute()

    assert raised.value.resp.status == 404

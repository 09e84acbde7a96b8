"""Recurring events: expansion, instances, exceptions and their sync."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import new_event_id, reasons

pytestmark = pytest.mark.emulator

ZURICH = "Europe/Zurich"


def weekly(count: int = 5, **extra: Any) -> dict[str, Any]:
    """Tuesdays and Fridays 06:00 Zurich time, starting Tuesday 2030-01-01."""
    return {
        "id": new_event_id(),
        "summary": "Class",
        "start": {"dateTime": "2030-01-01T06:00:00+01:00", "timeZone": ZURICH},
        "end": {"dateTime": "2030-01-01T07:00:00+01:00", "timeZone": ZURICH},
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count};BYDAY=TU,FR"],
        **extra,
    }


def insert(calendar: Any, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return dict(calendar.events().insert(calendarId=calendar_id, body=body).execute())


def instances(calendar: Any, calendar_id: str, event_id: str, **params: Any) -> list[dict]:
    result = calendar.events().instances(calendarId=calendar_id, eventId=event_id, **params)
    return list(result.execute().get("items", []))


def starts(items: list[dict]) -> list[str]:
    return [item["start"].get("dateTime") or item["start"]["date"] for item in items]


def test_instances_expand_the_rule_with_the_series_time_zone(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly())
    items = instances(calendar, calendar_id, master["id"], timeZone=ZURICH)
    assert starts(items) == [
        "2030-01-01T06:00:00+01:00",
        "2030-01-04T06:00:00+01:00",
        "2030-01-08T06:00:00+01:00",
        "2030-01-11T06:00:00+01:00",
        "2030-01-15T06:00:00+01:00",
    ]
    assert {item["recurringEventId"] for item in items} == {master["id"]}
    assert all("recurrence" not in item for item in items)
    assert items[0]["originalStartTime"] == items[0]["start"]


def test_instances_keep_wall_clock_time_across_daylight_saving(calendar, calendar_id):
    body = weekly()
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=2;INTERVAL=13"]
    master = insert(calendar, calendar_id, body)
    items = instances(calendar, calendar_id, master["id"], timeZone=ZURICH)
    assert starts(items) == ["2030-01-01T06:00:00+01:00", "2030-04-02T06:00:00+02:00"]


def test_exdate_removes_and_rdate_adds_all_day_instances(calendar, calendar_id):
    body = {
        "id": new_event_id(),
        "start": {"date": "2030-06-01"},
        "end": {"date": "2030-06-02"},
        "recurrence": [
            "EXDATE;VALUE=DATE:20300604",
            "RDATE;VALUE=DATE:20300605",
            "RRULE:FREQ=DAILY;UNTIL=20300607;INTERVAL=3",
        ],
    }
    master = insert(calendar, calendar_id, body)
    items = instances(calendar, calendar_id, master["id"])
    assert starts(items) == ["2030-06-01", "2030-06-05", "2030-06-07"]
    assert [item["end"]["date"] for item in items] == ["2030-06-02", "2030-06-06", "2030-06-08"]


def test_a_timed_recurring_event_needs_a_time_zone(calendar, calendar_id):
    body = {
        "start": {"dateTime": "2030-01-01T06:00:00Z"},
        "end": {"dateTime": "2030-01-01T07:00:00Z"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
    }
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    "line", ["RRULE:FREQ=SOMETIMES", "DTSTART:20300101T060000Z", "RRULE:FREQ=DAILY;BYDAY=XX"]
)
def test_an_invalid_recurrence_is_rejected(calendar, calendar_id, line):
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, weekly(recurrence=[line]))
    assert caught.value.status_code == 400
    assert "invalid" in reasons(caught.value)


def test_single_events_lists_instances_instead_of_the_master(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=3))
    page = calendar.events().list(calendarId=calendar_id, singleEvents=True).execute()
    assert len(page["items"]) == 3
    assert {item["recurringEventId"] for item in page["items"]} == {master["id"]}


def test_a_default_listing_returns_the_master_with_its_recurrence(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=3))
    page = calendar.events().list(calendarId=calendar_id).execute()
    assert [item["id"] for item in page["items"]] == [master["id"]]
    assert page["items"][0]["recurrence"] == weekly(count=3)["recurrence"]


def test_an_unbounded_series_is_windowed_by_time_min_and_max(calendar, calendar_id):
    body = weekly()
    body["recurrence"] = ["RRULE:FREQ=DAILY"]
    insert(calendar, calendar_id, body)
    page = (
        calendar.events()
        .list(
            calendarId=calendar_id,
            singleEvents=True,
            timeMin="2030-02-01T00:00:00Z",
            timeMax="2030-02-04T00:00:00Z",
        )
        .execute()
    )
    assert len(page["items"]) == 3


def test_modifying_one_instance_creates_an_exception(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=3))
    second = instances(calendar, calendar_id, master["id"])[1]
    moved = (
        calendar.events()
        .patch(calendarId=calendar_id, eventId=second["id"], body={"summary": "Moved class"})
        .execute()
    )
    assert moved["recurringEventId"] == master["id"]
    assert moved["originalStartTime"] == second["originalStartTime"]
    listed = calendar.events().list(calendarId=calendar_id).execute()["items"]
    assert {item["id"] for item in listed} == {master["id"], second["id"]}
    expanded = instances(calendar, calendar_id, master["id"])
    assert [item["summary"] for item in expanded] == ["Class", "Moved class", "Class"]


def test_a_moved_instance_keeps_its_original_start_time(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=2))
    first = instances(calendar, calendar_id, master["id"])[0]
    body = {
        "start": {"dateTime": "2030-01-01T08:00:00+01:00", "timeZone": ZURICH},
        "end": {"dateTime": "2030-01-01T09:00:00+01:00", "timeZone": ZURICH},
    }
    moved = (
        calendar.events().patch(calendarId=calendar_id, eventId=first["id"], body=body).execute()
    )
    assert moved["originalStartTime"] == first["originalStartTime"]
    assert moved["start"]["dateTime"] != first["start"]["dateTime"]


def test_deleting_one_instance_leaves_a_cancelled_exception(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=3))
    second = instances(calendar, calendar_id, master["id"])[1]
    calendar.events().delete(calendarId=calendar_id, eventId=second["id"]).execute()
    assert len(instances(calendar, calendar_id, master["id"])) == 2
    listed = calendar.events().list(calendarId=calendar_id).execute()["items"]
    cancelled = [item for item in listed if item.get("status") == "cancelled"]
    assert [item["id"] for item in cancelled] == [second["id"]]
    assert cancelled[0]["recurringEventId"] == master["id"]
    assert cancelled[0]["originalStartTime"] == second["originalStartTime"]
    single = calendar.events().list(calendarId=calendar_id, singleEvents=True).execute()
    assert len(single["items"]) == 2


def test_a_generated_instance_can_be_fetched_by_id(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=2))
    second = instances(calendar, calendar_id, master["id"])[1]
    fetched = calendar.events().get(calendarId=calendar_id, eventId=second["id"]).execute()
    assert fetched["recurringEventId"] == master["id"]


def test_an_incremental_single_events_listing_expands_a_changed_series(calendar, calendar_id):
    first = calendar.events().list(calendarId=calendar_id, singleEvents=True).execute()
    master = insert(calendar, calendar_id, weekly(count=3))
    changes = (
        calendar.events()
        .list(calendarId=calendar_id, singleEvents=True, syncToken=first["nextSyncToken"])
        .execute()
    )
    assert len(changes["items"]) == 3
    assert {item["recurringEventId"] for item in changes["items"]} == {master["id"]}


def test_deleting_a_series_gives_cancelled_instances_in_incremental_sync(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=2))
    full = calendar.events().list(calendarId=calendar_id, singleEvents=True).execute()
    calendar.events().delete(calendarId=calendar_id, eventId=master["id"]).execute()
    changes = (
        calendar.events()
        .list(calendarId=calendar_id, singleEvents=True, syncToken=full["nextSyncToken"])
        .execute()
    )
    assert [item["status"] for item in changes["items"]] == ["cancelled", "cancelled"]
    assert all(item["recurringEventId"] == master["id"] for item in changes["items"])
    assert all("originalStartTime" in item for item in changes["items"])


def test_an_incremental_listing_without_single_events_returns_the_exception(calendar, calendar_id):
    master = insert(calendar, calendar_id, weekly(count=3))
    full = calendar.events().list(calendarId=calendar_id).execute()
    second = instances(calendar, calendar_id, master["id"])[1]
    calendar.events().delete(calendarId=calendar_id, eventId=second["id"]).execute()
    changes = calendar.events().list(calendarId=calendar_id, syncToken=full["nextSyncToken"])
    items = changes.execute()["items"]
    assert [(item["id"], item["status"]) for item in items] == [(second["id"], "cancelled")]

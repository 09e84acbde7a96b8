"""calendars and calendarList; what a sync sees after a calendar is deleted."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import error_body, reasons, timed_event

pytestmark = pytest.mark.emulator


@pytest.fixture
def secondary(target: Any, calendar: Any) -> dict[str, Any]:
    created = calendar.calendars().insert(body={"summary": "Studio", "timeZone": "Europe/Zurich"})
    result = dict(created.execute())
    target.cleanups.append(lambda: calendar.calendars().delete(calendarId=result["id"]).execute())
    return result


def test_a_new_calendar_is_secondary_with_an_email_like_id(secondary):
    assert secondary["kind"] == "calendar#calendar"
    assert secondary["summary"] == "Studio"
    assert secondary["timeZone"] == "Europe/Zurich"
    assert "@" in secondary["id"]


def test_a_calendar_without_a_summary_is_rejected(calendar):
    with pytest.raises(HttpError) as caught:
        calendar.calendars().insert(body={"timeZone": "UTC"}).execute()
    assert caught.value.status_code == 400
    assert "required" in reasons(caught.value)


def test_a_new_calendar_appears_in_the_calendar_list(calendar, secondary):
    entry = calendar.calendarList().get(calendarId=secondary["id"]).execute()
    assert entry["kind"] == "calendar#calendarListEntry"
    assert entry["accessRole"] == "owner"
    listed = calendar.calendarList().list().execute()["items"]
    assert secondary["id"] in {item["id"] for item in listed}


def test_the_primary_calendar_is_listed_as_primary(target, calendar):
    target.require_emulator()
    items = calendar.calendarList().list().execute()["items"]
    assert [item.get("primary", False) for item in items] == [True]
    primary = calendar.calendars().get(calendarId="primary").execute()
    assert primary["id"] == items[0]["id"]


def test_the_primary_calendar_cannot_be_deleted(target, calendar):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        calendar.calendars().delete(calendarId="primary").execute()
    assert caught.value.status_code == 400


def test_events_on_a_deleted_calendar_answer_404_not_found(calendar):
    created = calendar.calendars().insert(body={"summary": "Gone soon"}).execute()
    calendar.events().insert(calendarId=created["id"], body=timed_event()).execute()
    calendar.calendars().delete(calendarId=created["id"]).execute()
    for request in (
        calendar.events().list(calendarId=created["id"]),
        calendar.events().insert(calendarId=created["id"], body=timed_event()),
        calendar.calendars().get(calendarId=created["id"]),
    ):
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 404
        assert error_body(caught.value)["errors"][0]["reason"] == "notFound"


def test_a_calendar_deleted_by_the_user_answers_404_to_a_sync(target):
    emulator = target.require_emulator()
    calendar = target.calendar()
    created = calendar.calendars().insert(body={"summary": "Synced"}).execute()
    page = calendar.events().list(calendarId=created["id"]).execute()
    emulator.delete_calendar(target.token, created["id"])
    request = calendar.events().list(calendarId=created["id"], syncToken=page["nextSyncToken"])
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 404


def test_an_incremental_calendar_list_marks_deleted_calendars(calendar):
    created = calendar.calendars().insert(body={"summary": "Temporary"}).execute()
    full = calendar.calendarList().list().execute()
    calendar.calendars().delete(calendarId=created["id"]).execute()
    changes = calendar.calendarList().list(syncToken=full["nextSyncToken"]).execute()
    deleted = {item["id"]: item.get("deleted") for item in changes["items"]}
    assert deleted[created["id"]] is True
    with pytest.raises(HttpError) as caught:
        calendar.calendarList().get(calendarId=created["id"]).execute()
    assert caught.value.status_code == 404


def test_calendar_ids_with_an_at_sign_are_percent_encoded_in_paths(calendar, secondary):
    fetched = calendar.calendars().get(calendarId=secondary["id"]).execute()
    assert fetched["id"] == secondary["id"]


def test_another_account_cannot_see_a_calendar(target, secondary):
    target.require_emulator()
    stranger = target.calendar(token="stranger")
    with pytest.raises(HttpError) as caught:
        stranger.events().list(calendarId=secondary["id"]).execute()
    assert caught.value.status_code == 404

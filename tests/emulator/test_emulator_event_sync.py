"""events.list: pages, sync tokens, incremental results and filters."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import error_body, new_event_id, reasons, timed_event

pytestmark = pytest.mark.emulator


def add(calendar: Any, calendar_id: str, count: int, **extra: Any) -> list[str]:
    ids = []
    for index in range(count):
        start = f"2030-01-{index + 1:02d}T09:00:00Z"
        end = f"2030-01-{index + 1:02d}T10:00:00Z"
        body = timed_event(start, end, id=new_event_id(), **extra)
        ids.append(calendar.events().insert(calendarId=calendar_id, body=body).execute()["id"])
    return ids


def list_all(calendar: Any, calendar_id: str, **params: Any) -> tuple[list[dict], list[dict]]:
    """Follow every page; returns (items, pages)."""
    events = calendar.events()
    request = events.list(calendarId=calendar_id, **params)
    items: list[dict] = []
    pages: list[dict] = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        items.extend(page.get("items", []))
        request = events.list_next(request, page)
    return items, pages


def test_a_listing_pages_and_gives_the_sync_token_only_on_the_last_page(calendar, calendar_id):
    ids = add(calendar, calendar_id, 5)
    items, pages = list_all(calendar, calendar_id, maxResults=2)
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert len(pages) == 3
    assert all("nextSyncToken" not in page for page in pages[:-1])
    assert all("nextPageToken" in page for page in pages[:-1])
    assert "nextSyncToken" in pages[-1]
    assert "nextPageToken" not in pages[-1]


def test_a_listing_reports_the_calendar_time_zone_and_kind(calendar, calendar_id):
    page = calendar.events().list(calendarId=calendar_id).execute()
    assert page["kind"] == "calendar#events"
    assert page["timeZone"]
    assert page["items"] == []


def test_max_results_above_2500_is_capped(target, calendar, calendar_id):
    target.require_emulator()
    add(calendar, calendar_id, 3)
    page = calendar.events().list(calendarId=calendar_id, maxResults=5000).execute()
    assert len(page["items"]) == 3


def test_max_results_below_one_is_rejected(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId=calendar_id, maxResults=0).execute()
    assert caught.value.status_code == 400


def test_an_incremental_listing_returns_changes_and_cancelled_tombstones(calendar, calendar_id):
    kept, changed, removed = add(calendar, calendar_id, 3)
    _, pages = list_all(calendar, calendar_id)
    token = pages[-1]["nextSyncToken"]
    events = calendar.events()
    events.patch(calendarId=calendar_id, eventId=changed, body={"summary": "moved"}).execute()
    events.delete(calendarId=calendar_id, eventId=removed).execute()
    items, pages = list_all(calendar, calendar_id, syncToken=token)
    by_id = {item["id"]: item for item in items}
    assert set(by_id) == {changed, removed}
    assert by_id[changed]["summary"] == "moved"
    assert by_id[removed]["status"] == "cancelled"
    assert set(by_id[removed]) <= {"kind", "etag", "id", "status"}
    assert kept not in by_id
    assert "nextSyncToken" in pages[-1]


def test_an_incremental_listing_with_no_changes_is_empty_with_a_new_token(calendar, calendar_id):
    add(calendar, calendar_id, 1)
    _, pages = list_all(calendar, calendar_id)
    page = calendar.events().list(calendarId=calendar_id, syncToken=pages[-1]["nextSyncToken"])
    result = page.execute()
    assert result.get("items", []) == []
    assert result["nextSyncToken"]


def test_incremental_pages_replay_the_same_token(calendar, calendar_id):
    _, pages = list_all(calendar, calendar_id)
    token = pages[-1]["nextSyncToken"]
    new_ids = add(calendar, calendar_id, 5)
    items, pages = list_all(calendar, calendar_id, syncToken=token, maxResults=2)
    assert sorted(item["id"] for item in items) == sorted(new_ids)
    assert len(pages) == 3
    assert "nextSyncToken" in pages[-1]


def test_changes_made_while_paging_arrive_in_the_next_increment(calendar, calendar_id):
    add(calendar, calendar_id, 3)
    events = calendar.events()
    request = events.list(calendarId=calendar_id, maxResults=2)
    first = request.execute()
    late_id = add(calendar, calendar_id, 1)[0]
    second = events.list_next(request, first).execute()
    items, _ = list_all(calendar, calendar_id, syncToken=second["nextSyncToken"])
    assert late_id in {item["id"] for item in items}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeMin", "2030-01-01T00:00:00Z"),
        ("timeMax", "2030-01-01T00:00:00Z"),
        ("updatedMin", "2030-01-01T00:00:00Z"),
        ("q", "x"),
        ("iCalUID", "x@google.com"),
        ("orderBy", "updated"),
        ("privateExtendedProperty", "a=b"),
        ("sharedExtendedProperty", "a=b"),
    ],
)
def test_a_parameter_forbidden_with_a_sync_token_is_rejected(calendar, calendar_id, name, value):
    _, pages = list_all(calendar, calendar_id)
    params = {"syncToken": pages[-1]["nextSyncToken"], name: value}
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId=calendar_id, **params).execute()
    assert caught.value.status_code == 400


def test_show_deleted_false_with_a_sync_token_is_rejected(calendar, calendar_id):
    _, pages = list_all(calendar, calendar_id)
    request = calendar.events().list(
        calendarId=calendar_id, syncToken=pages[-1]["nextSyncToken"], showDeleted=False
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_a_full_listing_hides_cancelled_events_unless_show_deleted(calendar, calendar_id):
    live, gone = add(calendar, calendar_id, 2)
    calendar.events().delete(calendarId=calendar_id, eventId=gone).execute()
    hidden, _ = list_all(calendar, calendar_id)
    shown, _ = list_all(calendar, calendar_id, showDeleted=True)
    assert [item["id"] for item in hidden] == [live]
    assert {item["id"]: item["status"] for item in shown} == {live: "confirmed", gone: "cancelled"}


def test_a_listing_filtered_by_time_min_and_max_keeps_overlapping_events(calendar, calendar_id):
    ids = add(calendar, calendar_id, 5)
    items, pages = list_all(
        calendar, calendar_id, timeMin="2030-01-02T09:30:00Z", timeMax="2030-01-04T09:00:00Z"
    )
    assert sorted(item["id"] for item in items) == sorted(ids[1:3])
    assert "nextSyncToken" in pages[-1]


def test_time_max_before_time_min_is_an_empty_range(calendar, calendar_id):
    request = calendar.events().list(
        calendarId=calendar_id, timeMin="2030-01-02T00:00:00Z", timeMax="2030-01-01T00:00:00Z"
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400
    assert "timeRangeEmpty" in reasons(caught.value)


def test_a_time_min_without_an_offset_is_rejected(calendar, calendar_id):
    request = calendar.events().list(calendarId=calendar_id, timeMin="2030-01-02T00:00:00")
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_all_day_events_are_windowed_in_the_calendar_time_zone(calendar, calendar_id):
    body = {"start": {"date": "2030-03-01"}, "end": {"date": "2030-03-02"}}
    created = calendar.events().insert(calendarId=calendar_id, body=body).execute()
    inside, _ = list_all(
        calendar, calendar_id, timeMin="2030-03-01T23:00:00Z", timeMax="2030-03-03T00:00:00Z"
    )
    outside, _ = list_all(calendar, calendar_id, timeMin="2030-03-02T00:00:00Z")
    assert [item["id"] for item in inside] == [created["id"]]
    assert outside == []


def test_a_private_extended_property_filter_selects_owned_events(calendar, calendar_id):
    owned = add(calendar, calendar_id, 2, extendedProperties={"private": {"owner": "calsync"}})
    add(calendar, calendar_id, 2, extendedProperties={"private": {"owner": "someone"}})
    items, pages = list_all(calendar, calendar_id, privateExtendedProperty="owner=calsync")
    assert sorted(item["id"] for item in items) == sorted(owned)
    assert "nextSyncToken" not in pages[-1]


def test_an_extended_property_filter_with_spaces_matches(calendar, calendar_id):
    owned = add(calendar, calendar_id, 1, extendedProperties={"private": {"k": "v w"}})
    items, _ = list_all(calendar, calendar_id, privateExtendedProperty="k=v w")
    assert [item["id"] for item in items] == owned


def test_order_by_start_time_needs_single_events(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId=calendar_id, orderBy="startTime").execute()
    assert caught.value.status_code == 400


def test_a_listing_ordered_by_start_time_gives_no_sync_token(calendar, calendar_id):
    ids = add(calendar, calendar_id, 3)
    items, pages = list_all(calendar, calendar_id, orderBy="startTime", singleEvents=True)
    assert [item["id"] for item in items] == ids
    assert "nextSyncToken" not in pages[-1]


def test_updated_min_returns_changed_events_including_deleted(calendar, calendar_id):
    first, second = add(calendar, calendar_id, 2)
    calendar.events().delete(calendarId=calendar_id, eventId=second).execute()
    items, _ = list_all(calendar, calendar_id, updatedMin="2000-01-01T00:00:00Z")
    assert {item["id"] for item in items} == {first, second}


def test_a_page_token_replayed_with_other_parameters_is_rejected(target, calendar, calendar_id):
    target.require_emulator()
    add(calendar, calendar_id, 3)
    page = calendar.events().list(calendarId=calendar_id, maxResults=1).execute()
    request = calendar.events().list(
        calendarId=calendar_id, maxResults=1, showDeleted=True, pageToken=page["nextPageToken"]
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_expired_sync_tokens_answer_410_full_sync_required(target, calendar):
    emulator = target.require_emulator()
    add(calendar, "primary", 1)
    _, pages = list_all(calendar, "primary")
    emulator.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken=pages[-1]["nextSyncToken"]).execute()
    assert caught.value.status_code == 410
    assert error_body(caught.value) == {
        "errors": [
            {
                "domain": "calendar",
                "reason": "fullSyncRequired",
                "message": "Sync token is no longer valid, a full sync is required.",
                "locationType": "parameter",
                "location": "syncToken",
            }
        ],
        "code": 410,
        "message": "Sync token is no longer valid, a full sync is required.",
    }


def test_a_full_listing_after_expiry_has_no_tombstones_for_the_gap(target, calendar):
    emulator = target.require_emulator()
    keep, gone = add(calendar, "primary", 2)
    emulator.expire_sync_tokens()
    calendar.events().delete(calendarId="primary", eventId=gone).execute()
    items, pages = list_all(calendar, "primary")
    assert [item["id"] for item in items] == [keep]
    assert "nextSyncToken" in pages[-1]


def test_a_sync_token_of_another_calendar_answers_410(calendar, calendar_id):
    _, pages = list_all(calendar, calendar_id)
    other = calendar.calendars().insert(body={"summary": "Other"}).execute()
    request = calendar.events().list(calendarId=other["id"], syncToken=pages[-1]["nextSyncToken"])
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 410
    calendar.calendars().delete(calendarId=other["id"]).execute()

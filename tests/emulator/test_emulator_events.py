"""Calendar events: identity, etags, conditional writes, validation and extended properties."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import REAL_TOKEN
from .emulator_support import error_body, new_event_id, reasons, timed_event

pytestmark = pytest.mark.emulator


def insert(calendar: Any, calendar_id: str, body: dict[str, Any], **params: Any) -> Any:
    return calendar.events().insert(calendarId=calendar_id, body=body, **params).execute()


def test_an_insert_returns_the_event_with_google_server_fields(calendar, calendar_id):
    event_id = new_event_id()
    created = insert(calendar, calendar_id, timed_event(id=event_id), sendUpdates="none")
    assert created["id"] == event_id
    assert created["kind"] == "calendar#event"
    assert created["status"] == "confirmed"
    assert created["etag"].startswith('"')
    assert created["etag"].endswith('"')
    assert created["iCalUID"]
    assert created["created"].endswith("Z")
    assert created["updated"].endswith("Z")
    assert created["sequence"] == 0


def test_an_insert_without_an_id_gets_a_base32hex_id(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    assert set(created["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(created["id"]) <= 1024


@pytest.mark.parametrize("bad_id", ["abc", "UPPERCASE123", "has-dash-123", "wxyz12345", "a" * 1025])
def test_an_insert_with_a_client_id_outside_base32hex_is_rejected(calendar, calendar_id, bad_id):
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event(id=bad_id))
    assert caught.value.status_code == 400
    assert "invalid" in reasons(caught.value)


def test_an_insert_with_an_existing_id_answers_409_duplicate(calendar, calendar_id):
    event_id = new_event_id()
    insert(calendar, calendar_id, timed_event(id=event_id))
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event(id=event_id))
    assert caught.value.status_code == 409
    assert error_body(caught.value) == {
        "errors": [
            {
                "domain": "global",
                "reason": "duplicate",
                "message": "The requested identifier already exists.",
            }
        ],
        "code": 409,
        "message": "The requested identifier already exists.",
    }


def test_an_insert_with_the_id_of_a_deleted_event_answers_409_duplicate(calendar, calendar_id):
    event_id = new_event_id()
    insert(calendar, calendar_id, timed_event(id=event_id))
    calendar.events().delete(calendarId=calendar_id, eventId=event_id).execute()
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event(id=event_id))
    assert caught.value.status_code == 409


def test_a_deleted_event_is_still_returned_by_get_as_cancelled(calendar, calendar_id):
    event_id = new_event_id()
    insert(calendar, calendar_id, timed_event(id=event_id))
    calendar.events().delete(calendarId=calendar_id, eventId=event_id).execute()
    fetched = calendar.events().get(calendarId=calendar_id, eventId=event_id).execute()
    assert fetched["status"] == "cancelled"
    assert fetched["id"] == event_id


def test_deleting_an_already_deleted_event_answers_410_deleted(calendar, calendar_id):
    event_id = new_event_id()
    insert(calendar, calendar_id, timed_event(id=event_id))
    calendar.events().delete(calendarId=calendar_id, eventId=event_id).execute()
    with pytest.raises(HttpError) as caught:
        calendar.events().delete(calendarId=calendar_id, eventId=event_id).execute()
    assert caught.value.status_code == 410
    assert error_body(caught.value)["errors"][0] == {
        "domain": "global",
        "reason": "deleted",
        "message": "Resource has been deleted",
    }


def test_a_cancelled_event_is_revived_by_patching_its_status(calendar, calendar_id):
    event_id = new_event_id()
    insert(calendar, calendar_id, timed_event(id=event_id))
    calendar.events().delete(calendarId=calendar_id, eventId=event_id).execute()
    revived = (
        calendar.events()
        .patch(calendarId=calendar_id, eventId=event_id, body={"status": "confirmed"})
        .execute()
    )
    assert revived["status"] == "confirmed"
    assert revived["summary"] == "Session"


def test_getting_an_unknown_event_answers_404_not_found(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        calendar.events().get(calendarId=calendar_id, eventId=new_event_id()).execute()
    assert caught.value.status_code == 404
    assert error_body(caught.value) == {
        "errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}],
        "code": 404,
        "message": "Not Found",
    }


def test_the_etag_changes_on_every_modification(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    events = calendar.events()
    patched = events.patch(calendarId=calendar_id, eventId=created["id"], body={"summary": "A"})
    first = patched.execute()
    second = (
        events.patch(calendarId=calendar_id, eventId=created["id"], body={"summary": "A"})
    ).execute()
    assert len({created["etag"], first["etag"], second["etag"]}) == 3


def test_a_patch_with_a_stale_if_match_answers_412_condition_not_met(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    calendar.events().patch(
        calendarId=calendar_id, eventId=created["id"], body={"summary": "moved on"}
    ).execute()
    request = calendar.events().patch(
        calendarId=calendar_id, eventId=created["id"], body={"summary": "stale"}
    )
    request.headers["If-Match"] = created["etag"]
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 412
    assert error_body(caught.value)["errors"][0] == {
        "domain": "global",
        "reason": "conditionNotMet",
        "message": "Precondition Failed",
        "locationType": "header",
        "location": "If-Match",
    }


def test_a_write_with_the_current_if_match_succeeds(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    request = calendar.events().update(
        calendarId=calendar_id, eventId=created["id"], body=timed_event(summary="new")
    )
    request.headers["If-Match"] = created["etag"]
    assert request.execute()["summary"] == "new"


def test_a_delete_with_a_stale_if_match_answers_412(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    calendar.events().patch(
        calendarId=calendar_id, eventId=created["id"], body={"summary": "x"}
    ).execute()
    request = calendar.events().delete(calendarId=calendar_id, eventId=created["id"])
    request.headers["If-Match"] = created["etag"]
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 412


def test_a_get_with_the_current_if_none_match_answers_304(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    request = calendar.events().get(calendarId=calendar_id, eventId=created["id"])
    request.headers["If-None-Match"] = created["etag"]
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 304


def test_an_update_replaces_every_client_field(calendar, calendar_id):
    body = timed_event(description="old", location="Studio")
    created = insert(calendar, calendar_id, body)
    updated = (
        calendar.events()
        .update(calendarId=calendar_id, eventId=created["id"], body=timed_event(summary="B"))
        .execute()
    )
    assert updated["summary"] == "B"
    assert "description" not in updated
    assert "location" not in updated
    assert updated["id"] == created["id"]
    assert updated["created"] == created["created"]


def test_an_update_with_the_event_as_fetched_succeeds(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event(extendedProperties={"private": {"a": "1"}}))
    fetched = calendar.events().get(calendarId=calendar_id, eventId=created["id"]).execute()
    fetched["summary"] = "Edited"
    updated = (
        calendar.events()
        .update(calendarId=calendar_id, eventId=created["id"], body=fetched)
        .execute()
    )
    assert updated["summary"] == "Edited"
    assert updated["extendedProperties"] == {"private": {"a": "1"}}
    assert updated["etag"] != fetched["etag"]


def test_a_time_change_increments_the_sequence(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    moved = (
        calendar.events()
        .patch(
            calendarId=calendar_id,
            eventId=created["id"],
            body={"start": {"dateTime": "2030-01-07T08:00:00Z"}},
        )
        .execute()
    )
    assert moved["sequence"] == created["sequence"] + 1


def test_an_all_day_event_keeps_dates_with_an_exclusive_end(calendar, calendar_id):
    body = {"summary": "Day off", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}}
    created = insert(calendar, calendar_id, body)
    assert created["start"] == {"date": "2030-01-01"}
    assert created["end"] == {"date": "2030-01-02"}


def test_an_all_day_event_ending_on_its_start_date_is_an_empty_range(calendar, calendar_id):
    body = {"start": {"date": "2030-01-01"}, "end": {"date": "2030-01-01"}}
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400
    assert "timeRangeEmpty" in reasons(caught.value)


def test_an_event_ending_before_it_starts_is_rejected(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event("2030-01-07T10:00:00Z", "2030-01-07T09:00:00Z"))
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    "start",
    [
        {"date": "2030-01-01", "dateTime": "2030-01-01T09:00:00Z"},
        {},
        {"dateTime": "2030-01-07T09:00:00Z", "timeZone": "Mars/Olympus_Mons"},
        {"date": "2030-13-01"},
    ],
    ids=["date-and-datetime", "empty", "unknown-zone", "bad-date"],
)
def test_an_invalid_start_is_rejected_with_400(calendar, calendar_id, start):
    body = {"start": start, "end": {"dateTime": "2030-01-08T10:00:00Z"}}
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400


def test_a_datetime_without_an_offset_or_a_time_zone_is_rejected(target, calendar, calendar_id):
    # Stricter than Google on purpose: Google falls back to the calendar's zone, which would
    # hide a sync engine that drops the zone; the emulator demands an offset or timeZone.
    target.require_emulator()
    body = {
        "start": {"dateTime": "2030-01-07T09:00:00"},
        "end": {"dateTime": "2030-01-07T10:00:00"},
    }
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400


def test_an_event_without_an_end_is_rejected(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, {"start": {"dateTime": "2030-01-07T09:00:00Z"}})
    assert caught.value.status_code == 400
    assert "required" in reasons(caught.value)


def test_mixing_date_and_datetime_between_start_and_end_is_rejected(calendar, calendar_id):
    body = {"start": {"date": "2030-01-07"}, "end": {"dateTime": "2030-01-08T10:00:00Z"}}
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400


def test_a_local_datetime_with_a_time_zone_is_accepted(calendar, calendar_id):
    body = {
        "start": {"dateTime": "2030-07-01T09:00:00", "timeZone": "Europe/Zurich"},
        "end": {"dateTime": "2030-07-01T10:00:00", "timeZone": "Europe/Zurich"},
    }
    created = insert(calendar, calendar_id, body)
    fetched = (
        calendar.events()
        .get(calendarId=calendar_id, eventId=created["id"], timeZone="Europe/Zurich")
        .execute()
    )
    expected = {"dateTime": "2030-07-01T09:00:00+02:00", "timeZone": "Europe/Zurich"}
    assert fetched["start"] == expected


def test_times_are_rendered_in_the_time_zone_parameter(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event())
    fetched = (
        calendar.events()
        .get(calendarId=calendar_id, eventId=created["id"], timeZone="America/New_York")
        .execute()
    )
    assert fetched["start"]["dateTime"] == "2030-01-07T04:00:00-05:00"


def test_an_unknown_body_field_is_rejected(target, calendar, calendar_id):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event(summray="typo"))
    assert caught.value.status_code == 400
    assert caught.value.resp["content-type"].startswith("application/json")


def test_an_unknown_nested_field_is_rejected(target, calendar, calendar_id):
    target.require_emulator()
    body = {"start": {"datetime": "2030-01-07T09:00:00Z"}, "end": {"dateTime": "x"}}
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, body)
    assert caught.value.status_code == 400


def test_extended_properties_round_trip(calendar, calendar_id):
    props = {"private": {"syncOwner": "calsync"}, "shared": {"kind": "session"}}
    created = insert(calendar, calendar_id, timed_event(extendedProperties=props))
    fetched = calendar.events().get(calendarId=calendar_id, eventId=created["id"]).execute()
    assert fetched["extendedProperties"] == props


def test_extended_property_keys_over_44_chars_are_dropped_and_values_truncated(
    calendar, calendar_id
):
    props = {"private": {"k" * 45: "dropped", "long": "v" * 1100, "ok": "yes"}}
    created = insert(calendar, calendar_id, timed_event(extendedProperties=props))
    assert created["extendedProperties"]["private"] == {"long": "v" * 1024, "ok": "yes"}


def test_a_patch_with_null_deletes_one_extended_property(calendar, calendar_id):
    props = {"private": {"a": "1", "b": "2"}}
    created = insert(calendar, calendar_id, timed_event(extendedProperties=props))
    patched = (
        calendar.events()
        .patch(
            calendarId=calendar_id,
            eventId=created["id"],
            body={"extendedProperties": {"private": {"a": None}}},
        )
        .execute()
    )
    assert patched["extendedProperties"]["private"] == {"b": "2"}


def test_an_update_without_extended_properties_removes_them(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event(extendedProperties={"private": {"a": "1"}}))
    updated = (
        calendar.events()
        .update(calendarId=calendar_id, eventId=created["id"], body=timed_event())
        .execute()
    )
    assert "extendedProperties" not in updated


def test_more_than_300_extended_properties_are_rejected(target, calendar, calendar_id):
    target.require_emulator()
    props = {"private": {f"k{i}": "v" for i in range(301)}}
    with pytest.raises(HttpError) as caught:
        insert(calendar, calendar_id, timed_event(extendedProperties=props))
    assert caught.value.status_code == 400


def test_a_patch_replaces_arrays_wholesale(calendar, calendar_id):
    body = timed_event(attendees=[{"email": "a@example.com"}, {"email": "b@example.com"}])
    created = insert(calendar, calendar_id, body, sendUpdates="none")
    patched = (
        calendar.events()
        .patch(
            calendarId=calendar_id,
            eventId=created["id"],
            sendUpdates="none",
            body={"attendees": [{"email": "c@example.com"}]},
        )
        .execute()
    )
    assert [a["email"] for a in patched["attendees"]] == ["c@example.com"]


def test_send_updates_none_is_accepted_on_every_write(calendar, calendar_id):
    created = insert(calendar, calendar_id, timed_event(), sendUpdates="none")
    events = calendar.events()
    events.patch(
        calendarId=calendar_id, eventId=created["id"], body={"summary": "x"}, sendUpdates="none"
    ).execute()
    events.delete(calendarId=calendar_id, eventId=created["id"], sendUpdates="none").execute()


def test_an_invalid_send_updates_value_is_rejected(calendar, calendar_id):
    request = calendar.events().insert(calendarId=calendar_id, body=timed_event())
    request.uri += "&sendUpdates=nobody"
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


@pytest.mark.skipif(REAL_TOKEN is None, reason="set CALSYNC_REAL_GOOGLE_TOKEN to run on Google")
def test_real_google_variant_is_enabled():
    """Every ``target`` test also runs against real Google when a token is configured."""
    assert REAL_TOKEN

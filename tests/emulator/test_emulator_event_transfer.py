"""events.import (keyed by iCalUID) and events.move (what each calendar's sync sees)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import new_calendar, new_event_id, own_email, reasons, timed_event

pytestmark = pytest.mark.emulator


def new_uid() -> str:
    return f"{uuid.uuid4().hex}@studio.example"


def import_event(calendar: Any, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return dict(calendar.events().import_(calendarId=calendar_id, body=body).execute())


def full_listing(calendar: Any, calendar_id: str) -> tuple[list[dict], str]:
    page = calendar.events().list(calendarId=calendar_id).execute()
    return page["items"], page["nextSyncToken"]


def changes(calendar: Any, calendar_id: str, token: str) -> list[dict]:
    return list(calendar.events().list(calendarId=calendar_id, syncToken=token).execute()["items"])


def test_an_import_adds_the_event_with_its_ical_uid(calendar, calendar_id):
    uid = new_uid()
    imported = import_event(calendar, calendar_id, timed_event(iCalUID=uid, summary="Shoot"))
    assert imported["iCalUID"] == uid
    assert imported["summary"] == "Shoot"
    listed = calendar.events().list(calendarId=calendar_id, iCalUID=uid).execute()["items"]
    assert [item["id"] for item in listed] == [imported["id"]]


def test_importing_a_known_ical_uid_updates_that_event_instead_of_copying_it(calendar, calendar_id):
    uid = new_uid()
    first = import_event(calendar, calendar_id, timed_event(iCalUID=uid, summary="Draft"))
    second = import_event(calendar, calendar_id, timed_event(iCalUID=uid, summary="Final"))
    assert second["id"] == first["id"]
    assert second["etag"] != first["etag"]
    listed = calendar.events().list(calendarId=calendar_id, iCalUID=uid).execute()["items"]
    assert [item["summary"] for item in listed] == ["Final"]


def test_an_import_of_an_event_inserted_with_that_ical_uid_updates_it(calendar, calendar_id):
    uid = new_uid()
    inserted = calendar.events().insert(calendarId=calendar_id, body=timed_event(iCalUID=uid))
    event_id = inserted.execute()["id"]
    imported = import_event(calendar, calendar_id, timed_event(iCalUID=uid, summary="Again"))
    assert imported["id"] == event_id
    assert imported["summary"] == "Again"


def test_an_import_without_an_ical_uid_is_refused(target, calendar, calendar_id):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        import_event(calendar, calendar_id, timed_event())
    assert caught.value.status_code == 400
    assert "required" in reasons(caught.value)


def test_an_import_keeps_the_organizer_it_is_given(calendar, calendar_id):
    body = timed_event(iCalUID=new_uid(), organizer={"email": "boss@example.com"})
    imported = import_event(calendar, calendar_id, body)
    assert imported["organizer"]["email"] == "boss@example.com"
    assert "self" not in imported["organizer"]


def test_an_import_of_a_deleted_events_ical_uid_brings_it_back(target, calendar):
    target.require_emulator()
    uid = new_uid()
    first = import_event(calendar, "primary", timed_event(iCalUID=uid))
    calendar.events().delete(calendarId="primary", eventId=first["id"]).execute()
    again = import_event(calendar, "primary", timed_event(iCalUID=uid, summary="Back"))
    assert (again["id"], again["status"], again["summary"]) == (first["id"], "confirmed", "Back")


def test_an_imported_out_of_office_event_becomes_a_default_event(target, calendar):
    target.require_emulator()
    body = timed_event(
        iCalUID=new_uid(),
        eventType="outOfOffice",
        outOfOfficeProperties={"autoDeclineMode": "declineNone"},
    )
    imported = import_event(calendar, "primary", body)
    assert imported["eventType"] == "default"
    assert "outOfOfficeProperties" not in imported


def test_a_moved_event_keeps_its_id_and_is_organized_by_the_destination(target, calendar):
    source, destination = new_calendar(target, calendar, "Old"), new_calendar(target, calendar)
    body = timed_event(id=new_event_id(), iCalUID=new_uid())
    created = calendar.events().insert(calendarId=source["id"], body=body).execute()
    moved = (
        calendar.events()
        .move(calendarId=source["id"], eventId=created["id"], destination=destination["id"])
        .execute()
    )
    assert (moved["id"], moved["iCalUID"]) == (created["id"], created["iCalUID"])
    assert moved["organizer"]["email"] == destination["id"]
    assert moved["organizer"]["self"] is True
    fetched = calendar.events().get(calendarId=destination["id"], eventId=created["id"]).execute()
    assert fetched["summary"] == created["summary"]
    assert created["id"] not in {e["id"] for e in full_listing(calendar, source["id"])[0]}


def test_a_move_shows_as_a_tombstone_in_the_source_and_an_event_in_the_destination(
    target, calendar
):
    source, destination = new_calendar(target, calendar, "Old"), new_calendar(target, calendar)
    created = calendar.events().insert(calendarId=source["id"], body=timed_event()).execute()
    _, source_token = full_listing(calendar, source["id"])
    _, destination_token = full_listing(calendar, destination["id"])
    calendar.events().move(
        calendarId=source["id"], eventId=created["id"], destination=destination["id"]
    ).execute()
    gone = changes(calendar, source["id"], source_token)
    arrived = changes(calendar, destination["id"], destination_token)
    assert [(e["id"], e["status"]) for e in gone] == [(created["id"], "cancelled")]
    assert [(e["id"], e["status"]) for e in arrived] == [(created["id"], "confirmed")]


def test_a_moved_series_takes_its_modified_instances_along(target, calendar):
    target.require_emulator()
    destination = new_calendar(target, calendar)
    series = {
        **timed_event("2030-01-01T09:00:00Z", "2030-01-01T10:00:00Z"),
        "start": {"dateTime": "2030-01-01T09:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-01T10:00:00Z", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    master = calendar.events().insert(calendarId="primary", body=series).execute()
    second = calendar.events().instances(calendarId="primary", eventId=master["id"]).execute()
    instance_id = second["items"][1]["id"]
    calendar.events().patch(
        calendarId="primary", eventId=instance_id, body={"summary": "Changed"}
    ).execute()
    calendar.events().move(
        calendarId="primary", eventId=master["id"], destination=destination["id"]
    ).execute()
    moved = calendar.events().instances(calendarId=destination["id"], eventId=master["id"])
    assert [item["summary"] for item in moved.execute()["items"]] == [
        "Session",
        "Changed",
        "Session",
    ]


def test_a_single_instance_cannot_be_moved(target, calendar):
    target.require_emulator()
    destination = new_calendar(target, calendar)
    series = {
        **timed_event(),
        "start": {"dateTime": "2030-01-01T09:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-01T10:00:00Z", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    master = calendar.events().insert(calendarId="primary", body=series).execute()
    first = calendar.events().instances(calendarId="primary", eventId=master["id"]).execute()
    with pytest.raises(HttpError) as caught:
        calendar.events().move(
            calendarId="primary", eventId=first["items"][0]["id"], destination=destination["id"]
        ).execute()
    assert caught.value.status_code == 400
    assert "cannotChangeOrganizerOfInstance" in reasons(caught.value)


def test_a_move_to_an_unknown_calendar_answers_404(calendar, calendar_id):
    created = calendar.events().insert(calendarId=calendar_id, body=timed_event()).execute()
    with pytest.raises(HttpError) as caught:
        calendar.events().move(
            calendarId=calendar_id, eventId=created["id"], destination="nobody@example.com"
        ).execute()
    assert caught.value.status_code == 404


def test_a_moved_event_marks_the_destination_owner_attendee_as_self(target, calendar):
    target.require_emulator()
    me = own_email(calendar)
    studio = new_calendar(target, calendar)
    body = timed_event(attendees=[{"email": studio["id"]}, {"email": me}])
    created = calendar.events().insert(calendarId="primary", body=body).execute()
    moved = (
        calendar.events()
        .move(calendarId="primary", eventId=created["id"], destination=studio["id"])
        .execute()
    )
    flags = {
        a["email"]: (a.get("self", False), a.get("organizer", False)) for a in moved["attendees"]
    }
    assert flags == {studio["id"]: (True, True), me: (False, False)}

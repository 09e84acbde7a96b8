"""Creator, organizer and attendees as Google fills them in; iCalUID uniqueness on insert."""

from __future__ import annotations

import uuid

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import insert_primary, new_calendar, own_email, reasons, timed_event

pytestmark = pytest.mark.emulator


def by_email(event: dict) -> dict[str, dict]:
    return {attendee["email"]: attendee for attendee in event["attendees"]}


def test_an_attendee_without_a_response_gets_needs_action(calendar, calendar_id):
    body = timed_event(
        attendees=[
            {"email": "guest@example.com"},
            {"email": "yes@example.com", "responseStatus": "accepted"},
        ]
    )
    created = calendar.events().insert(calendarId=calendar_id, body=body).execute()
    attendees = by_email(created)
    assert attendees["guest@example.com"]["responseStatus"] == "needsAction"
    assert attendees["yes@example.com"]["responseStatus"] == "accepted"
    fetched = calendar.events().get(calendarId=calendar_id, eventId=created["id"]).execute()
    assert by_email(fetched)["guest@example.com"]["responseStatus"] == "needsAction"


def test_the_calendar_owner_among_the_attendees_is_self_and_organizer(target, calendar):
    me = own_email(calendar)
    body = timed_event(attendees=[{"email": me}, {"email": "guest@example.com", "self": True}])
    created = insert_primary(target, calendar, body)
    attendees = by_email(created)
    assert attendees[me]["self"] is True
    assert attendees[me]["organizer"] is True
    assert "self" not in attendees["guest@example.com"]
    assert "organizer" not in attendees["guest@example.com"]


def test_on_the_primary_calendar_the_user_is_creator_and_organizer_with_self(target, calendar):
    me = own_email(calendar)
    created = insert_primary(target, calendar, timed_event())
    assert created["creator"] == {"email": me, "self": True}
    assert created["organizer"] == {"email": me, "self": True}


def test_on_a_secondary_calendar_the_calendar_organizes_and_the_user_creates(target, calendar):
    me = own_email(calendar)
    studio = new_calendar(target, calendar, "Studio")
    created = calendar.events().insert(calendarId=studio["id"], body=timed_event()).execute()
    assert created["organizer"] == {"email": studio["id"], "displayName": "Studio", "self": True}
    assert created["creator"]["email"] == me
    assert "self" not in created["creator"]


def test_attendees_added_by_a_patch_get_the_defaults_too(calendar, calendar_id):
    created = calendar.events().insert(calendarId=calendar_id, body=timed_event()).execute()
    patched = (
        calendar.events()
        .patch(
            calendarId=calendar_id,
            eventId=created["id"],
            body={"attendees": [{"email": "late@example.com"}]},
        )
        .execute()
    )
    assert by_email(patched)["late@example.com"]["responseStatus"] == "needsAction"


def test_an_attendee_without_an_email_is_refused(target, calendar, calendar_id):
    target.require_emulator()
    body = timed_event(attendees=[{"displayName": "Nobody"}])
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId=calendar_id, body=body).execute()
    assert caught.value.status_code == 400
    assert "required" in reasons(caught.value)


def test_inserting_an_ical_uid_the_calendar_already_has_answers_409_duplicate(
    calendar, calendar_id
):
    uid = f"{uuid.uuid4().hex}@studio.example"
    first = calendar.events().insert(calendarId=calendar_id, body=timed_event(iCalUID=uid))
    assert first.execute()["iCalUID"] == uid
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId=calendar_id, body=timed_event(iCalUID=uid)).execute()
    assert caught.value.status_code == 409
    assert "duplicate" in reasons(caught.value)
    listed = calendar.events().list(calendarId=calendar_id, iCalUID=uid).execute()["items"]
    assert len(listed) == 1


def test_a_deleted_event_keeps_its_ical_uid_from_a_new_insert(target, calendar):
    target.require_emulator()
    uid = f"{uuid.uuid4().hex}@studio.example"
    created = calendar.events().insert(calendarId="primary", body=timed_event(iCalUID=uid))
    event_id = created.execute()["id"]
    calendar.events().delete(calendarId="primary", eventId=event_id).execute()
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=timed_event(iCalUID=uid)).execute()
    assert caught.value.status_code == 409


def test_the_same_ical_uid_may_live_in_two_calendars(target, calendar):
    uid = f"{uuid.uuid4().hex}@studio.example"
    studio = new_calendar(target, calendar)
    for calendar_id in ("primary", studio["id"]):
        body = timed_event(iCalUID=uid)
        assert (
            calendar.events().insert(calendarId=calendar_id, body=body).execute()["iCalUID"] == uid
        )

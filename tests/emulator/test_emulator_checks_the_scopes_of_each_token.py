"""An access token acts only within the scopes it was granted, as Google's do: a call outside
them is Google's 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``; a refresh keeps the grant's scopes
and refuses (``invalid_scope``) one it never held. The emulator checked no scope, so a token
without Contacts synced contacts there and nowhere else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, build_people_service
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import timed_event
from .test_emulator_oauth import post_form, refreshable

pytestmark = pytest.mark.emulator

AUTH = "https://www.googleapis.com/auth/"
CALENDAR_ONLY = f"{AUTH}calendar.events {AUTH}calendar.calendarlist.readonly"
CONTACTS_ONLY = f"{AUTH}contacts"


def error_body(error: HttpError) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.content.decode("utf-8"))["error"]
    return body


def test_a_people_call_with_a_calendar_only_token_is_googles_scope_error(
    emulator: GoogleEmulator,
) -> None:
    access, _ = emulator.issue_tokens("ann@studio.test", CALENDAR_ONLY)
    people = build_people_service(Credentials(token=access), base_url=emulator.base_url)

    with pytest.raises(HttpError) as refused:
        people.people().createContact(body={"names": [{"givenName": "Dee"}]}).execute()

    assert refused.value.resp.status == 403
    assert error_body(refused.value) == {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "errors": [
            {
                "message": "Insufficient Permission",
                "domain": "global",
                "reason": "insufficientPermissions",
            }
        ],
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {
                    "service": "people.googleapis.com",
                    "method": "google.people.v1.PeopleService.CreateContact",
                },
            }
        ],
    }
    assert 'error="insufficient_scope"' in refused.value.resp["www-authenticate"]
    assert emulator.stats()["scope_rejections"] == 1
    assert emulator.account("ann@studio.test").contacts == {}


def test_a_calendar_call_with_a_contacts_only_token_is_refused_too(
    emulator: GoogleEmulator,
) -> None:
    access, _ = emulator.issue_tokens("ann@studio.test", CONTACTS_ONLY)
    calendar = build_calendar_service(Credentials(token=access), base_url=emulator.base_url)
    people = build_people_service(Credentials(token=access), base_url=emulator.base_url)

    with pytest.raises(HttpError) as refused:
        calendar.events().list(calendarId="primary").execute()

    detail = error_body(refused.value)["details"][0]
    assert (refused.value.resp.status, detail["reason"]) == (403, "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
    assert detail["metadata"] == {
        "service": "calendar-json.googleapis.com",
        "method": "calendar.v3.Events.List",
    }
    assert people.contactGroups().list().execute()["contactGroups"]  # what it was granted


def test_a_read_only_scope_reads_and_does_not_write(emulator: GoogleEmulator) -> None:
    access, _ = emulator.issue_tokens("ann@studio.test", f"{AUTH}calendar.readonly")
    events = build_calendar_service(Credentials(token=access), base_url=emulator.base_url).events()

    listed = events.list(calendarId="primary").execute()
    with pytest.raises(HttpError) as refused:
        events.insert(calendarId="primary", body=timed_event()).execute()

    assert listed["items"] == []
    assert refused.value.resp.status == 403
    assert emulator.account("ann@studio.test").primary.events == {}


def test_the_app_created_scope_covers_only_the_calendars_the_app_made(
    emulator: GoogleEmulator,
) -> None:
    access, _ = emulator.issue_tokens("ann@studio.test", f"{AUTH}calendar.app.created")
    calendar = build_calendar_service(Credentials(token=access), base_url=emulator.base_url)

    made = calendar.calendars().insert(body={"summary": "Studio"}).execute()
    calendar.events().insert(calendarId=made["id"], body=timed_event()).execute()
    with pytest.raises(HttpError) as refused:
        calendar.events().insert(calendarId="primary", body=timed_event()).execute()

    assert refused.value.resp.status == 403
    assert len(emulator.account("ann@studio.test").calendar(made["id"]).live_events()) == 1
    assert emulator.account("ann@studio.test").primary.events == {}


def test_a_refresh_keeps_the_scopes_of_the_grant(emulator: GoogleEmulator) -> None:
    _, refresh = emulator.issue_tokens("ann@studio.test", CALENDAR_ONLY)
    credentials = refreshable(emulator, refresh)  # (asks the refresh for no scope)
    calendar = build_calendar_service(credentials, base_url=emulator.base_url)
    people = build_people_service(credentials, base_url=emulator.base_url)

    calendar.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as refused:
        people.contactGroups().list().execute()

    assert refused.value.resp.status == 403
    assert emulator.stats()["token_requests"] == 1


def test_a_refresh_asking_for_a_scope_never_granted_is_invalid_scope(
    emulator: GoogleEmulator,
) -> None:
    _, refresh = emulator.issue_tokens("ann@studio.test", CALENDAR_ONLY)
    _, broad = emulator.issue_tokens("ben@studio.test")  # calendar and contacts
    token = emulator.base_url + "/token"
    asking = {"grant_type": "refresh_token", "refresh_token": refresh}

    status, body = post_form(token, {**asking, "scope": f"{CALENDAR_ONLY} {AUTH}contacts"})
    narrower, granted = post_form(token, {**asking, "scope": f"{AUTH}calendar.events"})
    covered, _ = post_form(  # a granted scope covers its narrower forms
        token, {**asking, "refresh_token": broad, "scope": f"{AUTH}calendar.events"}
    )

    assert (status, body["error"]) == (400, "invalid_scope")
    assert (narrower, granted["scope"]) == (200, f"{AUTH}calendar.events")
    assert covered == 200

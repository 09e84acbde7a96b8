"""Request handling shared by every method: parameters, bodies, overrides, partial responses."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service

from .emulator_support import error_body, new_event_id, timed_event

pytestmark = pytest.mark.emulator


def raw(
    url: str, method: str = "GET", body: bytes | None = None, token: str = "raw"
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_long_get_is_sent_as_a_post_with_a_method_override(target, calendar, calendar_id):
    emulator = target.require_emulator()
    calendar.events().insert(calendarId=calendar_id, body=timed_event()).execute()
    emulator.reset_stats()
    request = calendar.events().list(calendarId=calendar_id, q="x" * 2100)
    page = request.execute()
    assert request.method == "POST"
    assert request.headers["x-http-method-override"] == "GET"
    assert page["kind"] == "calendar#events"
    assert emulator.stats()["methods"] == {"calendar.events.list": 1}


def test_the_fields_parameter_selects_a_partial_response(calendar, calendar_id):
    calendar.events().insert(calendarId=calendar_id, body=timed_event(id=new_event_id())).execute()
    page = (
        calendar.events().list(calendarId=calendar_id, fields="items(id,etag),nextSyncToken")
    ).execute()
    assert set(page) == {"items", "nextSyncToken"}
    assert set(page["items"][0]) == {"id", "etag"}


def test_an_unknown_query_parameter_is_rejected(emulator):
    status, body = raw(emulator.base_url + "/calendar/v3/calendars/primary/events?colour=red")
    assert status == 400
    assert body["error"]["errors"][0]["reason"] == "invalidParameter"


def test_an_unknown_people_query_parameter_is_rejected_in_people_shape(emulator):
    url = emulator.base_url + "/v1/people/me/connections?personFields=names&colour=red"
    status, body = raw(url)
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"


def test_a_malformed_json_body_answers_400_parse_error(emulator):
    url = emulator.base_url + "/calendar/v3/calendars/primary/events"
    status, body = raw(url, "POST", b"{not json")
    assert status == 400
    assert body["error"]["errors"][0]["reason"] == "parseError"


def test_a_body_of_the_wrong_json_type_is_rejected(emulator):
    url = emulator.base_url + "/calendar/v3/calendars/primary/events"
    bad = dict(timed_event(), summary=["not", "a", "string"])
    status, _ = raw(url, "POST", json.dumps(bad).encode())
    assert status == 400


def test_an_unknown_path_answers_404(emulator):
    status, body = raw(emulator.base_url + "/calendar/v3/nowhere")
    assert status == 404
    assert body["error"]["code"] == 404


def test_a_boolean_parameter_must_be_true_or_false(emulator):
    url = emulator.base_url + "/calendar/v3/calendars/primary/events?showDeleted=yes"
    assert raw(url)[0] == 400


def test_a_method_google_has_but_the_emulator_lacks_answers_501(emulator):
    status, body = raw(emulator.base_url + "/calendar/v3/calendars/primary/acl")
    assert status == 501
    assert body["error"]["errors"][0]["reason"] == "notImplemented"


def test_delete_answers_204_without_a_body(calendar, calendar_id):
    created = calendar.events().insert(calendarId=calendar_id, body=timed_event()).execute()
    result = calendar.events().delete(calendarId=calendar_id, eventId=created["id"]).execute()
    assert result == ""


def test_http_error_reason_is_the_human_message(calendar, calendar_id):
    with pytest.raises(HttpError) as caught:
        calendar.events().get(calendarId=calendar_id, eventId=new_event_id()).execute()
    assert caught.value.reason == "Not Found"
    assert error_body(caught.value)["errors"][0]["reason"] == "notFound"


def test_the_account_snapshot_shows_cancelled_events_and_contacts(emulator):
    url = emulator.base_url + "/calendar/v3/calendars/primary/events"
    status, created = raw(url, "POST", json.dumps(timed_event()).encode(), token="inspect")
    assert status == 200
    raw(f"{url}/{created['id']}", "DELETE", token="inspect")
    person_url = emulator.base_url + "/v1/people:createContact"
    raw(person_url, "POST", json.dumps({"names": [{"givenName": "Z"}]}).encode(), token="inspect")
    account = emulator.account("inspect")
    assert account.primary.events[created["id"]]["status"] == "cancelled"
    assert account.primary.live_events() == []
    assert len(account.contacts) == 1
    assert {"contactGroups/myContacts", "contactGroups/starred"} <= set(account.contact_groups)


def test_concurrent_clients_on_many_threads_all_succeed(emulator):
    errors: list[Exception] = []

    def insert_events(worker: int) -> None:
        credentials = Credentials(token=f"thread{worker}")
        calendar = build_calendar_service(credentials, base_url=emulator.base_url)
        for _ in range(15):
            try:
                calendar.events().insert(calendarId="primary", body=timed_event()).execute()
            except Exception as error:  # collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=insert_events, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [len(emulator.account(f"thread{n}").primary.events) for n in range(6)] == [15] * 6
    assert emulator.stats()["api_calls"] == 90

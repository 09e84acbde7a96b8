"""The batch endpoints in Google's multipart/mixed wire format."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from calsync.google.services import batch_uri, new_batch_request

from .emulator_support import new_event_id, timed_event

pytestmark = pytest.mark.emulator


class Collector:
    """Batch callback recording (request_id, response, exception)."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[Any, Exception | None]] = {}

    def __call__(self, request_id: str, response: Any, exception: Exception | None) -> None:
        self.results[request_id] = (response, exception)

    def failures(self) -> dict[str, int]:
        return {
            key: exc.status_code
            for key, (_, exc) in self.results.items()
            if isinstance(exc, HttpError)
        }


def test_a_batch_of_inserts_answers_every_part(calendar, calendar_id):
    collector = Collector()
    batch = new_batch_request(calendar, callback=collector)
    ids = [new_event_id() for _ in range(20)]
    for event_id in ids:
        batch.add(calendar.events().insert(calendarId=calendar_id, body=timed_event(id=event_id)))
    batch.execute()
    assert collector.failures() == {}
    assert sorted(resp["id"] for resp, _ in collector.results.values()) == sorted(ids)


def test_a_batch_is_one_http_request_and_one_api_call_per_part(target, calendar):
    emulator = target.require_emulator()
    emulator.reset_stats()
    batch = new_batch_request(calendar)
    for _ in range(10):
        batch.add(calendar.events().insert(calendarId="primary", body=timed_event()))
    batch.execute()
    stats = emulator.stats()
    assert (stats["http_requests"], stats["api_calls"], stats["batch_requests"]) == (1, 10, 1)
    assert stats["methods"] == {"calendar.events.insert": 10}


def test_failed_parts_reach_their_callback_as_http_errors(calendar, calendar_id):
    existing = calendar.events().insert(calendarId=calendar_id, body=timed_event()).execute()
    collector = Collector()
    batch = new_batch_request(calendar, callback=collector)
    batch.add(
        calendar.events().get(calendarId=calendar_id, eventId=existing["id"]), request_id="found"
    )
    batch.add(
        calendar.events().get(calendarId=calendar_id, eventId=new_event_id()), request_id="missing"
    )
    batch.add(
        calendar.events().insert(calendarId=calendar_id, body=timed_event(id=existing["id"])),
        request_id="dup",
    )
    batch.add(
        calendar.events().delete(calendarId=calendar_id, eventId=existing["id"]),
        request_id="delete",
    )
    batch.execute()
    assert collector.failures() == {"missing": 404, "dup": 409}
    assert collector.results["found"][0]["id"] == existing["id"]
    assert collector.results["delete"] == ("", None)


def test_injected_faults_hit_individual_batch_parts(target, calendar):
    emulator = target.require_emulator()
    emulator.inject_fault(503, count=3, api_method="calendar.events.insert")
    collector = Collector()
    batch = new_batch_request(calendar, callback=collector)
    for index in range(10):
        batch.add(
            calendar.events().insert(calendarId="primary", body=timed_event()),
            request_id=str(index),
        )
    batch.execute()
    assert collector.failures() == {"0": 503, "1": 503, "2": 503}


def test_a_fault_matching_a_body_refuses_that_one_part_of_a_batch(target, calendar):
    emulator = target.require_emulator()
    emulator.inject_fault(400, "invalid", body=r'"summary": "Refused"', count=None)
    collector = Collector()
    batch = new_batch_request(calendar, callback=collector)
    for index, summary in enumerate(["Fine", "Refused", "Also fine", "Refused"]):
        body = timed_event() | {"summary": summary}
        batch.add(calendar.events().insert(calendarId="primary", body=body), request_id=str(index))
    batch.execute()
    assert collector.failures() == {"1": 400, "3": 400}
    listed = calendar.events().list(calendarId="primary").execute()["items"]
    assert sorted(event["summary"] for event in listed) == ["Also fine", "Fine"]


def test_rate_limited_batch_parts_carry_google_reasons(target, calendar):
    emulator = target.require_emulator()
    emulator.inject_fault(403, "rateLimitExceeded", count=1)
    collector = Collector()
    batch = new_batch_request(calendar, callback=collector)
    batch.add(
        calendar.events().insert(calendarId="primary", body=timed_event()), request_id="limited"
    )
    batch.execute()
    _, error = collector.results["limited"]
    assert isinstance(error, HttpError)
    assert error.status_code == 403
    assert error.error_details[0]["reason"] == "rateLimitExceeded"
    assert error.error_details[0]["domain"] == "usageLimits"


def test_a_people_batch_goes_to_the_people_batch_endpoint(target, people):
    emulator = target.require_emulator()
    collector = Collector()
    batch = new_batch_request(people, callback=collector)
    for index in range(3):
        body = {"names": [{"givenName": f"Client {index}"}]}
        batch.add(
            people.people().createContact(body=body, personFields="names"), request_id=str(index)
        )
    batch.execute()
    assert collector.failures() == {}
    assert emulator.stats()["methods"] == {"people.people.createContact": 3}


def test_the_batch_uri_helper_names_the_emulator_endpoints(emulator):
    assert batch_uri("calendar", emulator.base_url) == emulator.base_url + "/batch/calendar/v3"
    assert batch_uri("people", emulator.base_url) == emulator.base_url + "/batch"
    assert batch_uri("calendar") == "https://www.googleapis.com/batch/calendar/v3"


def raw_batch(url: str, parts: list[str], boundary: str = "b0undary") -> tuple[str, str]:
    body = "".join(
        f"--{boundary}\nContent-Type: application/http\nContent-ID: <base + {index}>\n\n{part}\n"
        for index, part in enumerate(parts)
    )
    body += f"--{boundary}--\n"
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Content-Type": f'multipart/mixed; boundary="{boundary}"',
            "Authorization": "Bearer raw-user",
        },
    )
    with urllib.request.urlopen(request) as response:
        return response.headers["Content-Type"], response.read().decode()


def test_the_batch_response_uses_crlf_and_echoes_content_ids(emulator):
    get = "GET /calendar/v3/calendars/primary HTTP/1.1\nContent-Type: application/json\n\n"
    content_type, text = raw_batch(emulator.base_url + "/batch/calendar/v3", [get, get])
    assert content_type.startswith("multipart/mixed; boundary=")
    assert "Content-ID: <response-base + 0>\r\n" in text
    assert "Content-ID: <response-base + 1>\r\n" in text
    assert "\r\nHTTP/1.1 200 OK\r\n" in text
    payload = text.split("HTTP/1.1 200 OK\r\n", 1)[1].split("\r\n\r\n", 1)[1]
    assert json.loads(payload.split("\r\n--", 1)[0])["kind"] == "calendar#calendar"


def test_outer_authorization_applies_to_parts_without_their_own(emulator):
    get = "GET /calendar/v3/calendars/primary HTTP/1.1\n\n"
    _, text = raw_batch(emulator.base_url + "/batch/calendar/v3", [get])
    assert "HTTP/1.1 200 OK" in text
    assert emulator.account("raw-user").email == "raw-user@example.com"


def test_a_part_for_another_api_answers_404(emulator):
    people_get = "GET /v1/people/me?personFields=names HTTP/1.1\n\n"
    _, text = raw_batch(emulator.base_url + "/batch/calendar/v3", [people_get])
    assert "HTTP/1.1 404 Not Found" in text


def test_a_batch_over_1000_parts_is_rejected(emulator):
    get = "GET /calendar/v3/calendars/primary HTTP/1.1\n\n"
    with pytest.raises(urllib.error.HTTPError) as caught:
        raw_batch(emulator.base_url + "/batch/calendar/v3", [get] * 1001)
    assert caught.value.code == 400


def test_a_batch_that_is_not_multipart_is_rejected(emulator):
    request = urllib.request.Request(
        emulator.base_url + "/batch/calendar/v3",
        data=b"{}",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 400

"""Fault injection, the per-user quota and request statistics (emulator controls)."""

from __future__ import annotations

import http.client
import time
from typing import Any

import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, build_people_service, new_batch_request

from .emulator_support import error_body, timed_event

pytestmark = pytest.mark.emulator


@pytest.fixture
def calendar(emulator: Any) -> Any:
    return build_calendar_service(Credentials(token="faulty"), base_url=emulator.base_url)


def list_events(calendar: Any, **params: Any) -> Any:
    return calendar.events().list(calendarId="primary", **params).execute()


def test_a_fault_fails_the_next_n_matching_calls(emulator, calendar):
    emulator.inject_fault(500, count=2)
    for _ in range(2):
        with pytest.raises(HttpError) as caught:
            list_events(calendar)
        assert caught.value.status_code == 500
        assert error_body(caught.value)["errors"][0]["reason"] == "backendError"
    assert list_events(calendar)["items"] == []
    assert emulator.stats()["faults_fired"] == 2


def test_a_fault_filtered_by_method_spares_other_calls(emulator, calendar):
    emulator.inject_fault(503, count=None, api_method="calendar.events.insert")
    list_events(calendar)
    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    assert caught.value.status_code == 503


def test_a_fault_filtered_by_http_method_and_path(emulator, calendar):
    emulator.inject_fault(500, count=None, method="POST", path=r"/events$")
    list_events(calendar)
    calendar.calendars().insert(body={"summary": "fine"}).execute()
    with pytest.raises(HttpError):
        calendar.events().insert(calendarId="primary", body=timed_event()).execute()


@pytest.mark.parametrize(
    ("status", "reason", "domain"),
    [
        (403, "rateLimitExceeded", "usageLimits"),
        (403, "userRateLimitExceeded", "usageLimits"),
        (403, "quotaExceeded", "usageLimits"),
        (429, "rateLimitExceeded", "usageLimits"),
        (503, "backendError", "global"),
    ],
)
def test_injected_errors_use_google_reasons(emulator, calendar, status, reason, domain):
    emulator.inject_fault(status, reason)
    with pytest.raises(HttpError) as caught:
        list_events(calendar)
    assert caught.value.status_code == status
    assert caught.value.error_details[0]["reason"] == reason
    assert caught.value.error_details[0]["domain"] == domain


def test_the_client_retries_rate_limits_and_server_errors_it_recognises(
    emulator, calendar, monkeypatch
):
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda seconds: None)
    emulator.inject_fault(403, "rateLimitExceeded", count=1)
    emulator.inject_fault(429, count=1)
    emulator.inject_fault(503, count=1)
    assert calendar.events().list(calendarId="primary").execute(num_retries=3)["items"] == []
    assert emulator.stats()["api_calls"] == 4


def test_the_client_does_not_retry_quota_exceeded(emulator, calendar, monkeypatch):
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda seconds: None)
    emulator.inject_fault(403, "quotaExceeded", count=1)
    with pytest.raises(HttpError):
        calendar.events().list(calendarId="primary").execute(num_retries=3)
    assert emulator.stats()["api_calls"] == 1


def test_a_fault_at_rate_one_fails_every_call_until_cleared(emulator, calendar):
    emulator.inject_fault(500, rate=1.0)
    for _ in range(3):
        with pytest.raises(HttpError):
            list_events(calendar)
    emulator.clear_faults()
    list_events(calendar)


def test_a_seeded_fault_rate_fails_a_repeatable_share(emulator, calendar):
    outcomes = []
    for _ in range(2):
        emulator.clear_faults()
        emulator.inject_fault(500, rate=0.5, seed=7)
        run = []
        for _ in range(20):
            try:
                list_events(calendar)
                run.append(True)
            except HttpError:
                run.append(False)
        outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert 3 < outcomes[0].count(False) < 17


def test_latency_delays_the_answer(emulator, calendar):
    emulator.inject_fault(latency=0.2)
    started = time.monotonic()
    list_events(calendar)
    assert time.monotonic() - started >= 0.2


def test_a_connection_reset_reaches_the_client_as_a_connection_error(emulator, calendar):
    emulator.inject_fault(reset=True, count=1)
    with pytest.raises((ConnectionError, http.client.HTTPException, httplib2.HttpLib2Error)):
        list_events(calendar)
    assert list_events(calendar)["items"] == []
    assert emulator.stats()["faults_fired"] == 1


def test_an_http_scoped_fault_fails_the_whole_batch(emulator, calendar):
    emulator.inject_fault(503, scope="http", path="^/batch/")
    batch = new_batch_request(calendar)
    batch.add(calendar.events().list(calendarId="primary"))
    with pytest.raises(HttpError) as caught:
        batch.execute()
    assert caught.value.status_code == 503
    list_events(calendar)


def test_the_quota_answers_403_user_rate_limit_exceeded(emulator, calendar):
    emulator.set_quota(3, 30.0)
    for _ in range(3):
        list_events(calendar)
    with pytest.raises(HttpError) as caught:
        list_events(calendar)
    assert caught.value.status_code == 403
    assert caught.value.error_details[0]["reason"] == "userRateLimitExceeded"
    assert emulator.stats()["quota_rejections"] == 1


def test_the_quota_window_slides(emulator, calendar):
    emulator.set_quota(1, 0.2)
    list_events(calendar)
    time.sleep(0.25)
    list_events(calendar)


def test_the_quota_can_answer_429(emulator, calendar):
    emulator.set_quota(1, 5.0, status=429)
    list_events(calendar)
    with pytest.raises(HttpError) as caught:
        list_events(calendar)
    assert caught.value.status_code == 429


def test_the_quota_is_per_account(emulator, calendar):
    emulator.set_quota(1, 5.0)
    list_events(calendar)
    other = build_calendar_service(Credentials(token="other"), base_url=emulator.base_url)
    list_events(other)


def test_every_batch_part_counts_against_the_quota(emulator, calendar):
    emulator.set_quota(3, 5.0)
    failures: list[Any] = []
    batch = new_batch_request(calendar, callback=lambda rid, resp, exc: failures.append(exc))
    for _ in range(5):
        batch.add(calendar.events().insert(calendarId="primary", body=timed_event()))
    batch.execute()
    statuses = [exc.status_code if exc else 200 for exc in failures]
    assert statuses == [200, 200, 200, 403, 403]


def test_people_over_quota_answer_429_resource_exhausted(emulator):
    people = build_people_service(Credentials(token="faulty"), base_url=emulator.base_url)
    emulator.set_quota(1, 5.0)
    request = people.contactGroups().list()
    request.execute()
    with pytest.raises(HttpError) as caught:
        people.contactGroups().list().execute()
    assert caught.value.status_code == 429
    assert error_body(caught.value)["status"] == "RESOURCE_EXHAUSTED"


def test_a_constructor_quota_applies_from_the_start():
    from calsync.testing.emulator import GoogleEmulator

    with GoogleEmulator(quota_per_window=1, quota_window_seconds=5.0) as google:
        calendar = build_calendar_service(Credentials(token="q"), base_url=google.base_url)
        list_events(calendar)
        with pytest.raises(HttpError):
            list_events(calendar)


def test_stats_count_http_requests_api_calls_and_methods(emulator, calendar):
    list_events(calendar)
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    stats = emulator.stats()
    assert (stats["http_requests"], stats["api_calls"]) == (2, 2)
    assert stats["methods"] == {"calendar.events.list": 1, "calendar.events.insert": 1}
    assert stats["statuses"] == {"200": 2}
    emulator.reset_stats()
    assert emulator.stats()["api_calls"] == 0

"""The admin endpoints under /emulator/v1/ and the standalone command line."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from emulator_admin import admin
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, build_people_service

from .emulator_support import timed_event

pytestmark = pytest.mark.emulator


@pytest.fixture
def calendar(emulator: Any) -> Any:
    return build_calendar_service(Credentials(token="admin-user"), base_url=emulator.base_url)


def test_stats_over_http_count_requests_and_calls_but_not_admin_calls(emulator, calendar):
    calendar.events().list(calendarId="primary").execute()
    status, stats = admin(emulator.base_url, "GET", "stats")
    assert status == 200
    assert (stats["http_requests"], stats["api_calls"]) == (1, 1)
    admin(emulator.base_url, "POST", "reset-stats")
    assert admin(emulator.base_url, "GET", "stats")[1]["api_calls"] == 0


def test_expire_sync_tokens_over_http(emulator, calendar):
    token = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert admin(emulator.base_url, "POST", "expire-sync-tokens")[0] == 200
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary", syncToken=token).execute()
    assert caught.value.status_code == 410


def test_faults_over_http(emulator, calendar):
    status, fault = admin(
        emulator.base_url, "POST", "faults", {"status": 429, "count": 1, "api_method": None}
    )
    assert (status, fault["reason"], fault["count"]) == (200, "rateLimitExceeded", 1)
    assert len(admin(emulator.base_url, "GET", "faults")[1]) == 1
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary").execute()
    assert caught.value.status_code == 429
    admin(emulator.base_url, "POST", "faults", {"status": 500, "count": None})
    admin(emulator.base_url, "DELETE", "faults")
    calendar.events().list(calendarId="primary").execute()


def test_an_unknown_fault_argument_is_rejected(emulator):
    status, body = admin(emulator.base_url, "POST", "faults", {"status": 500, "colour": "red"})
    assert status == 400
    assert "colour" in body["error"]


def test_quota_over_http(emulator, calendar):
    admin(emulator.base_url, "POST", "quota", {"calls": 1, "window_seconds": 5, "status": 429})
    calendar.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId="primary").execute()
    assert caught.value.status_code == 429
    admin(emulator.base_url, "POST", "quota", {"calls": None})
    calendar.events().list(calendarId="primary").execute()


def test_delete_calendar_over_http(emulator, calendar):
    created = calendar.calendars().insert(body={"summary": "Doomed"}).execute()
    body = {"account": "admin-user", "calendar_id": created["id"]}
    assert admin(emulator.base_url, "POST", "delete-calendar", body)[0] == 200
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId=created["id"]).execute()
    assert caught.value.status_code == 404
    assert admin(emulator.base_url, "POST", "delete-calendar", body)[0] == 400


def test_issue_and_revoke_tokens_over_http(emulator):
    status, tokens = admin(emulator.base_url, "POST", "issue-tokens", {"email": "a@studio.test"})
    assert status == 200
    calendar = build_calendar_service(
        Credentials(token=tokens["access_token"]), base_url=emulator.base_url
    )
    assert calendar.calendars().get(calendarId="primary").execute()["id"] == "a@studio.test"
    body = {"refresh_token": tokens["refresh_token"]}
    assert admin(emulator.base_url, "POST", "revoke-refresh-token", body)[1] == {"revoked": True}
    assert admin(emulator.base_url, "POST", "revoke-refresh-token", body)[1] == {"revoked": False}


def test_account_snapshot_over_http(emulator, calendar):
    created = calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    status, account = admin(emulator.base_url, "GET", "accounts/admin-user")
    assert status == 200
    assert account["email"] == "admin-user@example.com"
    assert created["id"] in account["calendars"]["admin-user@example.com"]["events"]


def test_reset_over_http_forgets_accounts(emulator, calendar):
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    admin(emulator.base_url, "POST", "reset")
    assert calendar.events().list(calendarId="primary").execute()["items"] == []


def test_people_propagation_delay_over_http(emulator):
    people = build_people_service(Credentials(token="admin-user"), base_url=emulator.base_url)
    admin(emulator.base_url, "POST", "people-propagation-delay", {"seconds": 60})
    api = people.people().connections()
    first = api.list(resourceName="people/me", personFields="names", requestSyncToken=True)
    token = first.execute()["nextSyncToken"]
    people.people().createContact(body={"names": [{"givenName": "Slow"}]}).execute()
    later = api.list(
        resourceName="people/me", personFields="names", requestSyncToken=True, syncToken=token
    ).execute()
    assert "connections" not in later


def test_an_unknown_admin_endpoint_answers_404(emulator):
    assert admin(emulator.base_url, "GET", "nothing")[0] == 404


def test_the_standalone_emulator_prints_its_base_url_first_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "calsync.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        calendar = build_calendar_service(Credentials(token="cli"), base_url=base_url)
        assert calendar.events().list(calendarId="primary").execute()["items"] == []
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0

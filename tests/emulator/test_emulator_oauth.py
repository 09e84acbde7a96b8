"""Bearer-token accounts and the OAuth token endpoint, driven by google-auth itself."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import google.auth.exceptions
import pytest
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow

from calsync.google.services import build_calendar_service
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import timed_event

pytestmark = pytest.mark.emulator

SCOPES = ["https://www.googleapis.com/auth/calendar"]


def refreshable(emulator: GoogleEmulator, refresh_token: str) -> Credentials:
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=emulator.base_url + "/token",
        client_id="client-id",
        client_secret="client-secret",
    )


def post_form(url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_request_without_a_token_answers_401_in_google_shape(emulator):
    url = emulator.base_url + "/calendar/v3/calendars/primary/events"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url)
    assert caught.value.code == 401
    body = json.loads(caught.value.read())["error"]
    assert body["code"] == 401
    assert body["errors"][0]["reason"] == "required"
    assert body["errors"][0]["location"] == "Authorization"


def test_the_client_cannot_refresh_anonymous_credentials_after_a_401(emulator):
    calendar = build_calendar_service(AnonymousCredentials(), base_url=emulator.base_url)
    with pytest.raises(google.auth.exceptions.GoogleAuthError):
        calendar.events().list(calendarId="primary").execute()


def test_each_bearer_token_is_its_own_account(emulator):
    alice = build_calendar_service(Credentials(token="alice"), base_url=emulator.base_url)
    bob = build_calendar_service(Credentials(token="bob"), base_url=emulator.base_url)
    alice.events().insert(calendarId="primary", body=timed_event()).execute()
    assert len(alice.events().list(calendarId="primary").execute()["items"]) == 1
    assert bob.events().list(calendarId="primary").execute()["items"] == []
    assert emulator.account("alice").email == "alice@example.com"
    assert len(emulator.account("alice@example.com").primary.events) == 1


def test_a_refresh_token_yields_access_to_its_account(emulator):
    _, refresh = emulator.issue_tokens("owner@studio.test")
    calendar = build_calendar_service(refreshable(emulator, refresh), base_url=emulator.base_url)
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    assert len(emulator.account("owner@studio.test").primary.events) == 1
    assert emulator.stats()["token_requests"] == 1


def test_issued_access_tokens_act_as_their_account(emulator):
    access, _ = emulator.issue_tokens("owner@studio.test")
    calendar = build_calendar_service(Credentials(token=access), base_url=emulator.base_url)
    primary = calendar.calendars().get(calendarId="primary").execute()
    assert primary["id"] == "owner@studio.test"


def test_a_revoked_refresh_token_answers_invalid_grant(emulator):
    _, refresh = emulator.issue_tokens("owner@studio.test")
    assert emulator.revoke_refresh_token(refresh)
    status, body = post_form(
        emulator.base_url + "/token", {"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    calendar = build_calendar_service(refreshable(emulator, refresh), base_url=emulator.base_url)
    with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
        calendar.events().list(calendarId="primary").execute()


def test_expired_access_tokens_are_refreshed_by_the_client(emulator):
    _, refresh = emulator.issue_tokens("owner@studio.test")
    credentials = refreshable(emulator, refresh)
    calendar = build_calendar_service(credentials, base_url=emulator.base_url)
    calendar.events().list(calendarId="primary").execute()
    first_token = credentials.token
    emulator.expire_access_tokens()
    calendar.events().list(calendarId="primary").execute()
    assert credentials.token != first_token
    assert emulator.stats()["statuses"]["401"] == 1


def test_an_unknown_grant_type_is_rejected(emulator):
    status, body = post_form(emulator.base_url + "/token", {"grant_type": "password"})
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_the_authorization_code_flow_with_pkce_yields_working_credentials(emulator, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    config = {
        "installed": {
            "client_id": "desktop-client",
            "client_secret": "secret",
            "auth_uri": emulator.base_url + "/o/oauth2/auth",
            "token_uri": emulator.base_url + "/token",
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = Flow.from_client_config(
        config,
        scopes=SCOPES,
        redirect_uri="http://localhost:8765/",
        autogenerate_code_verifier=True,
    )
    url, _ = flow.authorization_url(login_hint="studio@example.com", access_type="offline")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(url)
    location = caught.value.headers["Location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    flow.fetch_token(code=code)
    credentials = flow.credentials
    assert credentials.refresh_token
    calendar = build_calendar_service(credentials, base_url=emulator.base_url)
    assert calendar.calendars().get(calendarId="primary").execute()["id"] == "studio@example.com"


def test_an_authorization_code_is_single_use(emulator):
    query = urllib.parse.urlencode(
        {"client_id": "c", "redirect_uri": "http://localhost/", "response_type": "code"}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(NoRedirect).open(f"{emulator.base_url}/o/oauth2/auth?{query}")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(caught.value.headers["Location"]).query)
    form = {
        "grant_type": "authorization_code",
        "code": code["code"][0],
        "redirect_uri": "http://localhost/",
    }
    assert post_form(emulator.base_url + "/token", form)[0] == 200
    status, body = post_form(emulator.base_url + "/token", form)
    assert (status, body["error"]) == (400, "invalid_grant")

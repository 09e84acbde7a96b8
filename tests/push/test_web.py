"""calsync.web on uvicorn: /healthz and the OAuth web flow (state bound to the browser, PKCE,
token stored, needs_reauth cleared), against the emulator's consent and token endpoints."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from push_world import serving
from starlette.applications import Starlette
from starlette.requests import Request

from calsync import SyncOptions, SyncProfile
from calsync.google.auth import ClientConfig
from calsync.google.web_auth import WebAuthorization
from calsync.profile import ProfileStatus
from calsync.testing import MemoryProfileStore
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore
from calsync.web import create_app

pytestmark = pytest.mark.emulator

PROFILE = SyncProfile(
    "studio.bea", "bea", None, SyncOptions(), "bea@example.com", status=ProfileStatus.NEEDS_REAUTH
)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Keeps cookies, never follows redirects; answers (status, headers, body)."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def get(self, url: str) -> tuple[int, Any, str]:
        try:
            with self.opener.open(url, timeout=10) as answer:
                return answer.status, answer.headers, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()


class Hosted:
    def __init__(self, google: GoogleEmulator) -> None:
        self.google = google
        self.tokens = MemoryTokenStore()
        self.profiles = MemoryProfileStore([PROFILE])
        self.authorised: list[str] = []
        self.base_url = ""


@pytest.fixture
def hosted(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hosted]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    hosted = Hosted(google)
    client = ClientConfig(
        "calsync-web.apps.googleusercontent.com",
        "not-a-secret",
        auth_uri=f"{google.base_url}/o/oauth2/auth",
        token_uri=f"{google.base_url}/token",
    )

    def signed_in(request: Request) -> str | None:  # the host's own login, simplified
        return request.query_params.get("profile")

    def make_app(base_url: str) -> Starlette:
        authorization = WebAuthorization(
            client,
            f"{base_url}/oauth/google/callback",
            hosted.tokens,
            hosted.profiles,
            on_authorised=hosted.authorised.append,
        )
        return create_app(
            authorization=authorization, current_profile=signed_in, secure_cookies=False
        )

    with serving(make_app) as base_url:
        hosted.base_url = base_url
        yield hosted


def test_healthz_answers_ok(hosted: Hosted) -> None:
    status, _, body = Browser().get(f"{hosted.base_url}/healthz")

    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_the_web_flow_stores_the_token_and_clears_needs_reauth(hosted: Hosted) -> None:
    browser = Browser()

    status, headers, _ = browser.get(f"{hosted.base_url}/oauth/google/start?profile=studio.bea")
    consent = headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(consent).query)
    _, google_answer, _ = browser.get(consent)
    callback = google_answer["Location"]
    done, _, page = browser.get(callback)

    assert status == 302
    assert (query["code_challenge_method"], query["login_hint"]) == (["S256"], ["bea@example.com"])
    assert "HttpOnly" in headers["Set-Cookie"]
    assert (done, "Google is connected" in page) == (200, True)
    token = hosted.tokens.load("studio.bea")
    assert token is not None
    assert token.access_token is not None
    assert hosted.google.account(token.access_token).email == "bea@example.com"
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.OK
    assert hosted.authorised == ["studio.bea"]


def test_a_callback_not_started_by_this_browser_is_refused(hosted: Hosted) -> None:
    victim, attacker = Browser(), Browser()
    _, headers, _ = attacker.get(f"{hosted.base_url}/oauth/google/start?profile=studio.bea")
    _, google_answer, _ = attacker.get(headers["Location"])

    refused, _, _ = victim.get(google_answer["Location"])  # the attacker's code, in a victim
    replay_ok, _, _ = attacker.get(google_answer["Location"])
    replayed, _, _ = attacker.get(google_answer["Location"])

    assert (refused, replay_ok, replayed) == (403, 200, 403)


def test_a_forged_state_and_a_signed_out_user_are_refused(hosted: Hosted) -> None:
    browser = Browser()
    _, headers, _ = browser.get(f"{hosted.base_url}/oauth/google/start?profile=studio.bea")
    _, google_answer, _ = browser.get(headers["Location"])
    parts = urllib.parse.urlparse(google_answer["Location"])
    answer = dict(urllib.parse.parse_qsl(parts.query), state="forged")
    forged = parts._replace(query=urllib.parse.urlencode(answer)).geturl()

    assert browser.get(forged)[0] == 403
    assert Browser().get(f"{hosted.base_url}/oauth/google/start")[0] == 403
    assert browser.get(f"{hosted.base_url}/oauth/google/callback?error=access_denied")[0] == 400
    assert hosted.tokens.load("studio.bea") is None


def test_the_web_flow_brings_a_user_who_never_connected_into_the_next_round(
    hosted: Hosted,
) -> None:
    never = attrs.evolve(PROFILE, id="studio.cy", email="cy@example.com")
    hosted.profiles.put(attrs.evolve(never, status=ProfileStatus.NOT_CONNECTED))
    browser = Browser()

    _, headers, _ = browser.get(f"{hosted.base_url}/oauth/google/start?profile=studio.cy")
    _, google_answer, _ = browser.get(headers["Location"])
    done, _, _ = browser.get(google_answer["Location"])

    assert done == 200
    assert hosted.profiles.get("studio.cy").status is ProfileStatus.OK

"""calsync.web on uvicorn: /healthz and the OAuth web flow (state bound to the browser and to
the signed-in profile, PKCE, token stored, needs_reauth cleared, fixed error pages), against the
emulator's consent and token endpoints."""

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
from oauth_client import emulator_client
from push_world import serving
from starlette.applications import Starlette
from starlette.requests import Request

from calsync import SyncOptions, SyncProfile
from calsync.google.web_auth import WebAuthorization
from calsync.profile import ProfileStatus
from calsync.testing import MemoryProfileStore
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore
from calsync.web import STATE_COOKIE, create_app

pytestmark = pytest.mark.emulator

PROFILE = SyncProfile(
    "studio.bea", "bea", None, SyncOptions(), "bea@example.com", status=ProfileStatus.NEEDS_REAUTH
)
SIGNED_IN = "X-Test-Signed-In"  # the host's login, simplified: the browser says who it is


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Keeps cookies, never follows redirects; answers (status, headers, body). Signed in to
    the host as ``profile_id``, if given."""

    def __init__(self, profile_id: str | None = None) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        if profile_id is not None:
            self.opener.addheaders = [(SIGNED_IN, profile_id)]

    def plant_state_cookie(self, state: str) -> None:
        """What a sibling subdomain or a man in the middle on http can do to a browser."""
        cookie = http.cookiejar.Cookie(
            0, STATE_COOKIE, state, None, False, "127.0.0.1", False, False, "/oauth/google",
            True, False, None, False, None, None, {},
        )  # fmt: skip
        self.cookies.set_cookie(cookie)

    def connect(self, base_url: str) -> tuple[int, Any, str]:
        """Start, consent at Google, and land on the callback: its (status, headers, page)."""
        _, started, _ = self.get(f"{base_url}/oauth/google/start")
        _, google_answer, _ = self.get(started["Location"])
        return self.get(google_answer["Location"])

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
    hosted = Hosted(google)
    client = emulator_client(google, monkeypatch)

    def signed_in(request: Request) -> str | None:  # the host's own login, simplified
        return request.headers.get(SIGNED_IN)

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
    browser = Browser("studio.bea")

    status, headers, _ = browser.get(f"{hosted.base_url}/oauth/google/start")
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
    victim, attacker = Browser("studio.bea"), Browser("studio.bea")
    _, headers, _ = attacker.get(f"{hosted.base_url}/oauth/google/start")
    _, google_answer, _ = attacker.get(headers["Location"])

    refused, _, _ = victim.get(google_answer["Location"])  # the attacker's code, in a victim
    replay_ok, _, _ = attacker.get(google_answer["Location"])
    replayed, _, _ = attacker.get(google_answer["Location"])

    assert (refused, replay_ok, replayed) == (403, 200, 403)


def test_a_forged_state_and_a_signed_out_user_are_refused(hosted: Hosted) -> None:
    browser = Browser("studio.bea")
    _, headers, _ = browser.get(f"{hosted.base_url}/oauth/google/start")
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
    done, _, _ = Browser("studio.cy").connect(hosted.base_url)

    assert done == 200
    assert hosted.profiles.get("studio.cy").status is ProfileStatus.OK


def test_a_victim_signed_in_as_another_profile_cannot_finish_an_attackers_flow(
    hosted: Hosted,
) -> None:
    hosted.profiles.put(attrs.evolve(PROFILE, id="studio.mal", email="mal@example.com"))
    attacker, victim = Browser("studio.mal"), Browser("studio.bea")
    _, started, _ = attacker.get(f"{hosted.base_url}/oauth/google/start")
    consent = started["Location"]
    victim.plant_state_cookie(
        urllib.parse.parse_qs(urllib.parse.urlparse(consent).query)["state"][0]
    )
    _, google_answer, _ = victim.get(consent)  # the victim consents with their own account

    refused, _, page = victim.get(google_answer["Location"])

    assert (refused, "another profile" in page) == (403, True)
    assert (hosted.tokens.load("studio.mal"), hosted.tokens.load("studio.bea")) == (None, None)
    assert hosted.authorised == []


def test_a_callback_in_a_signed_out_browser_is_refused_and_stores_nothing(hosted: Hosted) -> None:
    browser = Browser("studio.bea")
    _, started, _ = browser.get(f"{hosted.base_url}/oauth/google/start")
    _, google_answer, _ = browser.get(started["Location"])
    browser.opener.addheaders = []  # signed out of the host meanwhile

    refused, _, page = browser.get(google_answer["Location"])

    assert (refused, page) == (403, "Sign in to connect Google.")
    assert hosted.tokens.load("studio.bea") is None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("access_denied", (400, "Google was not connected: the authorisation was declined.")),
        ("invalid_scope", (400, "Google did not connect (invalid_scope); please start again.")),
        (
            "temporarily_unavailable",
            (503, "Google could not answer now (temporarily_unavailable); please start again."),
        ),
        ("server_error", (503, "Google could not answer now (server_error); please start again.")),
        (
            "access_denied.\n\nYour account is locked: call +1-555-0100",
            (400, "Google did not connect; please start again."),
        ),
    ],
)
def test_googles_error_answer_gets_a_fixed_page_never_the_links_text(
    hosted: Hosted, error: str, expected: tuple[int, str]
) -> None:
    """A refusal is the user's (400); Google's own trouble (RFC 6749's ``server_error`` and
    ``temporarily_unavailable``) is a 503, as when its token endpoint cannot answer."""
    url = f"{hosted.base_url}/oauth/google/callback?error={urllib.parse.quote(error)}"

    status, headers, page = Browser("studio.bea").get(url)

    assert ((status, page), headers["X-Content-Type-Options"]) == (expected, "nosniff")


def test_every_text_page_of_the_flow_forbids_content_sniffing(hosted: Hosted) -> None:
    _, signed_out, _ = Browser().get(f"{hosted.base_url}/oauth/google/start")
    _, done, _ = Browser("studio.bea").connect(hosted.base_url)

    assert [signed_out["X-Content-Type-Options"], done["X-Content-Type-Options"]] == ["nosniff"] * 2


def test_a_profile_removed_before_google_answered_gets_no_token_and_the_user_is_told(
    hosted: Hosted,
) -> None:
    browser = Browser("studio.bea")
    _, started, _ = browser.get(f"{hosted.base_url}/oauth/google/start")
    hosted.profiles.remove("studio.bea")
    _, google_answer, _ = browser.get(started["Location"])

    status, _, page = browser.get(google_answer["Location"])

    assert (status, "no longer exists" in page, "Google refused" in page) == (403, True, False)
    assert hosted.tokens.load("studio.bea") is None
    assert hosted.google.stats()["token_requests"] == 0  # the code was not even exchanged
    assert hosted.authorised == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"reset": True}, (503, "Google could not be reached; please start again.")),
        ({"status": 400}, (502, "Google refused the authorisation; please start again.")),
    ],
)
def test_only_a_refusal_by_google_is_called_one(
    hosted: Hosted, fault: dict[str, Any], expected: tuple[int, str]
) -> None:
    hosted.google.inject_fault(path="^/token", scope="http", **fault)

    status, _, page = Browser("studio.bea").connect(hosted.base_url)

    assert (status, page) == expected
    assert hosted.tokens.load("studio.bea") is None

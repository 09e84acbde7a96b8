"""The web flow asks with ``include_granted_scopes``: Google's answer lists every scope the
user granted the client (more than asked when the host's sign-in got ``openid email`` from the
same client), or fewer when the user unticked one on the consent page. The token is kept with
what was granted; only a scope the profile needs missing refuses the connection, and the page
names it."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import attrs
import pytest
from oauth_client import emulator_client
from push_world import serving
from starlette.applications import Starlette
from starlette.requests import Request

from calsync import SyncOptions
from calsync.google.auth import (
    CALENDAR_EVENTS,
    CONTACTS,
    DEFAULT_SCOPES,
    ClientConfig,
    ScopesNotGranted,
    finish_web_flow,
    start_web_flow,
)
from calsync.google.web_auth import WebAuthorization
from calsync.profile import ProfileStatus
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore
from calsync.web import create_app

from .test_web import PROFILE, SIGNED_IN, Browser, Hosted

pytestmark = pytest.mark.emulator

CONTACT_SYNC = SyncOptions(contacts=True, client_group="Clients")
SIGN_IN_SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email"]


@pytest.fixture
def client(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> ClientConfig:
    return emulator_client(google, monkeypatch)


@pytest.fixture
def hosted(google: GoogleEmulator, client: ClientConfig) -> Iterator[Hosted]:
    hosted = Hosted(google)  # studio.bea, needs_reauth, no contact sync

    def signed_in(request: Request) -> str | None:
        return request.headers.get(SIGNED_IN)

    def make_app(base_url: str) -> Starlette:
        authorization = WebAuthorization(
            client, f"{base_url}/oauth/google/callback", hosted.tokens, hosted.profiles
        )
        return create_app(
            authorization=authorization, current_profile=signed_in, secure_cookies=False
        )

    with serving(make_app) as base_url:
        hosted.base_url = base_url
        yield hosted


def granting(consent_url: str, granted: list[str]) -> str:
    """The consent URL as if the user's consent granted ``granted``."""
    parts = urllib.parse.urlsplit(consent_url)
    query = dict(urllib.parse.parse_qsl(parts.query), scope=" ".join(granted))
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


def connect(hosted: Hosted, granted: list[str]) -> tuple[int, str]:
    """Start, consent granting ``granted``, and land on the callback: (status, page)."""
    browser = Browser("studio.bea")
    _, started, _ = browser.get(f"{hosted.base_url}/oauth/google/start")
    _, google_answer, _ = browser.get(granting(started["Location"], granted))
    status, _, page = browser.get(google_answer["Location"])
    return status, page


def test_scopes_granted_to_the_client_before_are_kept_with_the_token(hosted: Hosted) -> None:
    status, page = connect(hosted, [*DEFAULT_SCOPES, *SIGN_IN_SCOPES])

    token = hosted.tokens.load("studio.bea")
    assert (status, page) == (200, "Google is connected. You can close this window.")
    assert token is not None
    assert set(token.scopes) == {*DEFAULT_SCOPES, *SIGN_IN_SCOPES}
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.OK


def test_contacts_left_unticked_connect_a_profile_that_does_not_sync_contacts(
    hosted: Hosted,
) -> None:
    status, _ = connect(hosted, [s for s in DEFAULT_SCOPES if s != CONTACTS])

    token = hosted.tokens.load("studio.bea")
    assert status == 200
    assert token is not None
    assert CONTACTS not in token.scopes
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.OK


def test_contacts_left_unticked_do_not_connect_a_profile_that_syncs_contacts(
    hosted: Hosted,
) -> None:
    hosted.profiles.put(attrs.evolve(PROFILE, options=CONTACT_SYNC))

    status, page = connect(hosted, [s for s in DEFAULT_SCOPES if s != CONTACTS])

    assert (status, page) == (
        403,
        "Google was not connected: access to your Google Contacts was not granted. "
        "Please start again and allow it.",
    )
    assert hosted.tokens.load("studio.bea") is None
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.NEEDS_REAUTH


def test_a_calendar_scope_left_unticked_does_not_connect_and_is_named(hosted: Hosted) -> None:
    status, page = connect(hosted, [s for s in DEFAULT_SCOPES if s != CALENDAR_EVENTS])

    assert (status, "the events of your calendars" in page) == (403, True)
    assert hosted.tokens.load("studio.bea") is None


def test_finish_web_flow_keeps_more_scopes_and_refuses_fewer_than_asked(
    client: ClientConfig,
) -> None:
    callback = "https://sync.studio.example/oauth/google/callback"
    tokens = MemoryTokenStore()

    def finish(granted: list[str]) -> None:
        request = start_web_flow(client, callback)
        _, google_answer, _ = Browser().get(granting(request.url, granted))
        answer = dict(
            urllib.parse.parse_qsl(urllib.parse.urlsplit(google_answer["Location"]).query)
        )
        finish_web_flow(
            client,
            callback,
            request,
            code=answer["code"],
            state=answer["state"],
            store=tokens,
            key="studio.bea",
        )

    with pytest.raises(ScopesNotGranted) as refused:
        finish([s for s in DEFAULT_SCOPES if s != CONTACTS])
    stored_after_refusal = tokens.load("studio.bea")
    finish([*DEFAULT_SCOPES, *SIGN_IN_SCOPES])

    assert refused.value.missing == (CONTACTS,)
    assert stored_after_refusal is None
    token = tokens.load("studio.bea")
    assert token is not None
    assert set(token.scopes) == {*DEFAULT_SCOPES, *SIGN_IN_SCOPES}

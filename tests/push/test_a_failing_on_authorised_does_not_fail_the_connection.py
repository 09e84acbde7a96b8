"""``on_authorised`` is the host's "sync now" (``processor.request_sync``, or a
``CeleryTrigger`` that raises while Redis is down). It runs once the token is stored and the
profile set back to OK: when it fails, the connection stands, the user is told it worked, and
the state cookie is cleared; the log names the exception's type only."""

from __future__ import annotations

import logging

import pytest
from oauth_client import emulator_client
from push_world import serving
from starlette.applications import Starlette

from calsync.google.web_auth import WebAuthorization
from calsync.profile import ProfileStatus
from calsync.testing.emulator import GoogleEmulator
from calsync.web import create_app

from .test_web import SIGNED_IN, Browser, Hosted

pytestmark = pytest.mark.emulator

BROKER_DOWN = "Error 111 connecting to redis://:hunter2@redis:6379. Connection refused."


def request_sync(profile_id: str) -> None:
    raise ConnectionError(BROKER_DOWN)


def test_a_failing_on_authorised_leaves_the_user_connected_and_told_so(
    google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hosted = Hosted(google)
    client = emulator_client(google, monkeypatch)

    def make_app(base_url: str) -> Starlette:
        authorization = WebAuthorization(
            client,
            f"{base_url}/oauth/google/callback",
            hosted.tokens,
            hosted.profiles,
            on_authorised=request_sync,
        )
        return create_app(
            authorization=authorization,
            current_profile=lambda request: request.headers.get(SIGNED_IN),
            secure_cookies=False,
        )

    browser = Browser("studio.bea")
    with caplog.at_level(logging.INFO), serving(make_app) as base_url:
        status, done, page = browser.connect(base_url)

    assert (status, page) == (200, "Google is connected. You can close this window.")
    assert "Max-Age=0" in done["Set-Cookie"]
    assert hosted.tokens.load("studio.bea") is not None
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.OK
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("on_authorised failed (ConnectionError)" in message for message in warnings)
    assert not any("hunter2" in message for message in warnings)

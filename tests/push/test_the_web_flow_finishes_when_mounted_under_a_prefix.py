"""``create_app`` mounted in the host's own application (``Mount("/calsync", ...)``): the state
cookie's path follows the prefix, so the browser sends it to the callback, and the callback
clears it there."""

from __future__ import annotations

import pytest
from oauth_client import emulator_client
from push_world import serving
from starlette.applications import Starlette
from starlette.routing import Mount

from calsync.google.web_auth import WebAuthorization
from calsync.profile import ProfileStatus
from calsync.testing.emulator import GoogleEmulator
from calsync.web import create_app

from .test_web import Browser, Hosted

pytestmark = pytest.mark.emulator


def test_the_flow_finishes_when_the_app_is_mounted_under_a_prefix(
    google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosted = Hosted(google)
    client = emulator_client(google, monkeypatch)

    def host_app(base_url: str) -> Starlette:
        authorization = WebAuthorization(
            client, f"{base_url}/calsync/oauth/google/callback", hosted.tokens, hosted.profiles
        )
        calsync_app = create_app(
            authorization=authorization,
            current_profile=lambda request: "studio.bea",
            secure_cookies=False,
        )
        return Starlette(routes=[Mount("/calsync", app=calsync_app)])

    browser = Browser()
    with serving(host_app) as base_url:
        _, started, _ = browser.get(f"{base_url}/calsync/oauth/google/start")
        _, google_answer, _ = browser.get(started["Location"])
        status, done, page = browser.get(google_answer["Location"])

    assert (status, page) == (200, "Google is connected. You can close this window.")
    assert "Path=/calsync/oauth/google" in started["Set-Cookie"]
    assert "Path=/calsync/oauth/google" in done["Set-Cookie"]  # cleared where it was set
    assert [cookie.name for cookie in browser.cookies] == []
    assert hosted.tokens.load("studio.bea") is not None
    assert hosted.profiles.get("studio.bea").status is ProfileStatus.OK

"""Neither OAuth flow lets the libraries under it log the authorization code, the PKCE
verifier, the client's secret or the tokens, whatever level the host logs at: requests-oauthlib
writes the token request and answer at DEBUG, google-auth-oauthlib the redirect's request line
(``GET /?code=…``) at INFO. Their records outside calsync's flows pass as the host configured."""

from __future__ import annotations

import base64
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from oauth_client import emulator_client

from calsync import SyncOptions, SyncProfile
from calsync.google.auth import ClientConfig, run_desktop_flow
from calsync.google.web_auth import WebAuthorization
from calsync.testing import MemoryProfileStore
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore

pytestmark = pytest.mark.emulator

CALLBACK = "https://sync.studio.example/oauth/google/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def google_redirect(consent_url: str) -> str:
    """Consent at the emulated Google (urllib: it logs nothing); where Google redirects."""
    opener = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(consent_url, timeout=10)
    location: str = redirected.value.headers["Location"]
    return location


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record the host's logging saw, but the emulator's (it plays Google)."""
    return "\n".join(
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in caplog.records
        if not record.name.startswith("calsync.testing")
    )


def secrets_in(text: str, secrets: dict[str, str | None]) -> list[str]:
    return [name for name, secret in secrets.items() if secret and secret in text]


def client_secrets(client: ClientConfig) -> dict[str, str | None]:
    basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    return {"client secret": client.client_secret, "client credentials": basic}


@pytest.fixture
def client(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> ClientConfig:
    return emulator_client(google, monkeypatch)


def test_the_web_flow_logs_neither_the_code_nor_the_verifier_nor_the_tokens(
    client: ClientConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = MemoryTokenStore()
    profile = SyncProfile("studio.bea", "bea", None, SyncOptions(), "bea@example.com")
    auth = WebAuthorization(client, CALLBACK, tokens, MemoryProfileStore([profile]))

    request = auth.begin("studio.bea")
    answer = urllib.parse.urlparse(google_redirect(request.url)).query
    (code,) = urllib.parse.parse_qs(answer)["code"]
    auth.complete(
        state=request.state, code=code, browser_state=request.state, profile_id=profile.id
    )

    token = tokens.load("studio.bea")
    assert token is not None  # the flow did go through
    secrets = {
        "code": code,
        "code as sent": urllib.parse.quote(code, safe=""),
        "PKCE verifier": request.code_verifier,
        "access token": token.access_token,
        "refresh token": token.refresh_token,
        **client_secrets(client),
    }
    text = logged(caplog)
    assert secrets_in(text, secrets) == []
    assert "profile studio.bea: Google authorised" in text  # calsync's own records still pass


def test_the_desktop_flow_logs_neither_the_code_nor_the_tokens(
    client: ClientConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = MemoryTokenStore()
    redirects: list[str] = []

    def browser(url: str) -> None:
        def visit() -> None:
            redirects.append(google_redirect(url))
            with urllib.request.urlopen(redirects[0], timeout=10) as landed:
                landed.read()

        threading.Thread(target=visit, daemon=True).start()

    run_desktop_flow(client, tokens, "p1", open_url=browser, timeout_seconds=10)

    token = tokens.load("p1")
    assert token is not None
    (code,) = urllib.parse.parse_qs(urllib.parse.urlparse(redirects[0]).query)["code"]
    secrets = {
        "code": code,
        "code as sent": urllib.parse.quote(code, safe=""),
        "access token": token.access_token,
        "refresh token": token.refresh_token,
        **client_secrets(client),
    }
    text = logged(caplog)
    assert secrets_in(text, secrets) == []
    assert "code_verifier" not in text
    assert "GET /?" not in text


def test_the_oauth_libraries_log_as_configured_outside_calsyncs_flows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("requests_oauthlib.oauth2_session", "google_auth_oauthlib.flow"):
        caplog.set_level(logging.DEBUG, logger=name)  # (another test may have quieted them)

    logging.getLogger("requests_oauthlib.oauth2_session").debug("the host's own OAuth")
    logging.getLogger("google_auth_oauthlib.flow").info("the host's own flow")

    assert [record.getMessage() for record in caplog.records] == [
        "the host's own OAuth",
        "the host's own flow",
    ]

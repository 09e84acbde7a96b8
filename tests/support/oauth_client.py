"""The OAuth client a test connects users with through the emulator's consent and token
endpoints (plain http, which oauthlib refuses unless told, is allowed for the test)."""

from __future__ import annotations

import pytest

from calsync.google.auth import ClientConfig
from calsync.testing.emulator import GoogleEmulator


def emulator_client(
    google: GoogleEmulator,
    monkeypatch: pytest.MonkeyPatch,
    client_id: str = "calsync-web.apps.googleusercontent.com",
) -> ClientConfig:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    return ClientConfig(
        client_id,
        "not-a-secret",
        auth_uri=f"{google.base_url}/o/oauth2/auth",
        token_uri=f"{google.base_url}/token",
    )

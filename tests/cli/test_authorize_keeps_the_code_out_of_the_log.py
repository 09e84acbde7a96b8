"""``calsync authorize`` never logs the OAuth authorization code: the local redirect server of
google_auth_oauthlib logs each request line (``GET /?code=…&state=…``) at INFO, and the command
keeps that library (and the others that log secrets) at WARNING, ``--verbose`` or not."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore

pytestmark = pytest.mark.emulator
SUPPORT = Path(__file__).resolve().parents[1] / "support"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def config(tmp_path: Path, google: GoogleEmulator) -> Path:
    google.reset()
    path = tmp_path / "calsync.toml"
    path.write_text(
        f"""
state = "state.sqlite3"
host = "memory_host:open_host"

[google]
client_id = "demo-client"
client_secret = "demo-secret"
tokens = "tokens.sqlite3"
base_url = "{google.base_url}"
""",
        encoding="utf-8",
    )
    return path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the test follows the redirect itself, to learn the code


def consent(address: str) -> tuple[str, str]:
    """Play the user's browser: consent at the emulator, then follow its redirect to the
    command's local server; returns the authorization code the redirect carried, as sent
    (URL-encoded) and decoded."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(address, timeout=30)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
    else:
        raise AssertionError("the emulator's consent page did not redirect")
    query = urlsplit(location).query
    (sent,) = [part.removeprefix("code=") for part in query.split("&") if part.startswith("code=")]
    (code,) = parse_qs(query)["code"]
    with urllib.request.urlopen(location, timeout=30) as answer:
        assert answer.status == 200
    return sent, code


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["info", "verbose"])
def test_authorize_logs_neither_the_code_nor_the_redirects_request_line(
    config: Path, tmp_path: Path, verbose: list[str]
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "calsync.cli",
            *verbose,
            "--config",
            str(config),
            "authorize",
            "cli.ben",
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SUPPORT)},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Open this address")
        sent, code = consent(process.stdout.readline().strip())
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 0, err
    assert "cli.ben: Google connected" in out
    assert sent
    assert code
    for secret in (sent, code):
        assert secret not in err
        assert secret not in out
    assert "GET /?" not in err
    assert " INFO google_auth_oauthlib" not in err
    token = SqliteTokenStore(tmp_path / "tokens.sqlite3").load("cli.ben")
    assert token is not None  # the flow did go through

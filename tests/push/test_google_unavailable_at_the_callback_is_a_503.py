"""A Google that cannot answer now is not a refusal of the code: a 5xx (or 429) from its token
endpoint, or its ``server_error``/``temporarily_unavailable``, is a ``TransientError`` and a 503
page ("Google could not be reached"), not 502 "Google refused the authorisation"; nothing is
stored, and the user may start again."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from calsync.errors import AuthError, TransientError
from calsync.google.auth import ClientConfig
from calsync.testing.emulator import GoogleEmulator

from .test_web import Browser, Hosted, hosted
from .test_web_authorization import authorization, consent, emulated

__all__ = ["emulated", "hosted"]  # (fixtures, shared with the modules they come from)


@pytest.mark.emulator
@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_token_endpoint_that_cannot_answer_is_transient(
    google: GoogleEmulator, emulated: ClientConfig, status: int
) -> None:
    auth = authorization(client=emulated)
    state, code = consent(auth)
    google.inject_fault(status, scope="http", path="^/token$", count=1)

    with pytest.raises(TransientError) as raised:
        auth.complete(state=state, code=code, browser_state=state, profile_id="studio.bea")

    assert not isinstance(raised.value, AuthError)
    assert auth.tokens.load("studio.bea") is None


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """A token endpoint answering OAuth's ``temporarily_unavailable`` in a 400."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": "temporarily_unavailable"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


def test_a_token_endpoint_temporarily_unavailable_is_transient(
    unavailable_token_endpoint: str,
) -> None:
    client = ClientConfig("calsync-web", "not-a-secret", token_uri=unavailable_token_endpoint)
    auth = authorization(client=client)
    request = auth.begin("studio.bea")

    with pytest.raises(TransientError, match="temporarily_unavailable"):
        auth.complete(
            state=request.state, code="4/code", browser_state=request.state, profile_id="studio.bea"
        )

    assert auth.tokens.load("studio.bea") is None


@pytest.mark.emulator
def test_the_callback_answers_503_when_googles_token_endpoint_fails(hosted: Hosted) -> None:
    hosted.google.inject_fault(500, scope="http", path="^/token$", count=1)

    status, _, page = Browser("studio.bea").connect(hosted.base_url)

    assert (status, page) == (503, "Google could not be reached; please start again.")
    assert hosted.tokens.load("studio.bea") is None

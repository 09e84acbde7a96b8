"""Google's OAuth 2.0 endpoints: token (refresh and authorization-code grants), auth, revoke.

Tokens are random strings mapped to account emails and the scopes granted; nothing about them
is ever logged. ``/o/oauth2/auth`` approves every request at once, granting the scopes asked
(a test plays a user who unticks one by asking for fewer), and redirects with a code for the
account named by ``login_hint`` (default ``user@example.com``), so desktop and web flows run
unattended.

Scopes, as Google keeps them: an access token carries the scopes of its grant (the API calls
check them, :mod:`calsync.testing.emulator.scopes`); a refresh keeps the grant's scopes, or
narrows them to a ``scope`` asked for (a granted scope covers its narrower forms:
``calendar`` covers ``calendar.events``); asking a refresh for a scope the grant does not
cover is 400 ``invalid_scope``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import urllib.parse
from typing import Any

from attrs import define, frozen

from calsync.testing.emulator.wire import ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

ACCESS_TTL = 3599
DEFAULT_LOGIN = "user@example.com"
DEFAULT_SCOPES = "https://www.googleapis.com/auth/calendar https://www.googleapis.com/auth/contacts"


def scope_set(scopes: str) -> frozenset[str]:
    """The scopes of a space-separated ``scope`` value."""
    return frozenset(scopes.split())


def not_covered(asked: frozenset[str], granted: frozenset[str]) -> frozenset[str]:
    """The scopes of ``asked`` that ``granted`` does not cover: a scope covers itself and its
    narrower forms (``calendar`` covers ``calendar.events`` and ``calendar.readonly``,
    ``contacts`` covers ``contacts.readonly``)."""
    return frozenset(
        scope
        for scope in asked
        if not any(scope == held or scope.startswith(held + ".") for held in granted)
    )


@frozen
class Access:
    """What an access token stands for: an account, with the scopes granted."""

    email: str
    scopes: frozenset[str]


@define
class Grant:
    """What a refresh token or an authorization code stands for."""

    email: str
    scopes: str
    redirect_uri: str | None = None
    challenge: str | None = None
    challenge_method: str | None = None


class TokenRegistry:
    """Access tokens, refresh tokens and codes, with revocation and expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every token."""
        with self._lock:
            self._access: dict[str, Access] = {}
            self._refresh: dict[str, Grant] = {}
            self._codes: dict[str, Grant] = {}
            self._dead: set[str] = set()

    def issue(self, email: str, scopes: str = DEFAULT_SCOPES) -> tuple[str, str]:
        """A new (access token, refresh token) pair for ``email``, granted ``scopes``
        (space-separated)."""
        refresh = f"1//emu-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._refresh[refresh] = Grant(email.lower(), scopes)
        return self.mint_access(email, scopes), refresh

    def mint_access(self, email: str, scopes: str = DEFAULT_SCOPES) -> str:
        """A new access token for ``email`` with ``scopes`` (space-separated)."""
        token = f"ya29.emu-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._access[token] = Access(email.lower(), scope_set(scopes))
        return token

    def lookup(self, token: str) -> tuple[bool, str | None]:
        """(known, email): a minted token gives its account; a dead one gives (True, None)."""
        with self._lock:
            if token in self._dead:
                return True, None
            access = self._access.get(token)
            return access is not None, access.email if access is not None else None

    def scopes(self, token: str) -> frozenset[str] | None:
        """The scopes a live minted access token carries; ``None`` for any other token (a
        token the emulator did not mint acts with every scope)."""
        with self._lock:
            access = self._access.get(token)
            return access.scopes if access is not None else None

    def revoke(self, token: str) -> bool:
        """Revoke a refresh or access token; True when it was known."""
        with self._lock:
            if self._refresh.pop(token, None) is not None:
                return True
            if self._access.pop(token, None) is not None:
                self._dead.add(token)
                return True
            return False

    def expire_access_tokens(self) -> int:
        """Make every minted access token answer 401; returns how many expired."""
        with self._lock:
            self._dead.update(self._access)
            count = len(self._access)
            self._access.clear()
            return count

    def refresh_grant(self, token: str) -> Grant | None:
        """The grant of a live refresh token."""
        with self._lock:
            return self._refresh.get(token)

    def new_code(self, grant: Grant) -> str:
        """A single-use authorization code."""
        code = f"4/emu-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._codes[code] = grant
        return code

    def take_code(self, code: str) -> Grant | None:
        """Consume an authorization code."""
        with self._lock:
            return self._codes.pop(code, None)


def _oauth_error(error: str, description: str, status: int = 400) -> ApiResponse:
    return ApiResponse.json(status, {"error": error, "error_description": description})


def _form(request: ApiRequest) -> dict[str, str]:
    values = urllib.parse.parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    values.update({k: v for k, v in request.query.items() if k not in values})
    return {name: items[0] for name, items in values.items() if items}


def token_endpoint(registry: TokenRegistry, request: ApiRequest) -> ApiResponse:
    """``POST /token``: the refresh-token and authorization-code grants."""
    if request.method != "POST":
        return _oauth_error("invalid_request", "Only POST is supported.", 405)
    form = _form(request)
    grant_type = form.get("grant_type", "")
    if grant_type == "refresh_token":
        return _refresh(registry, form)
    if grant_type == "authorization_code":
        return _exchange_code(registry, form)
    return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _token_body(access: str, scopes: str, refresh: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": ACCESS_TTL,
        "scope": scopes,
        "token_type": "Bearer",
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


def _refresh(registry: TokenRegistry, form: dict[str, str]) -> ApiResponse:
    token = form.get("refresh_token")
    if not token:
        return _oauth_error("invalid_request", "Missing required parameter: refresh_token")
    grant = registry.refresh_grant(token)
    if grant is None:
        return _oauth_error("invalid_grant", "Token has been expired or revoked.")
    asked = form.get("scope")
    scopes = " ".join(sorted(scope_set(asked))) if asked else grant.scopes
    not_granted = not_covered(scope_set(scopes), scope_set(grant.scopes))
    if not_granted:  # a refresh may narrow its grant, never widen it
        return _oauth_error(
            "invalid_scope", f"Scopes not granted to this token: {' '.join(sorted(not_granted))}"
        )
    return ApiResponse.json(200, _token_body(registry.mint_access(grant.email, scopes), scopes))


def _exchange_code(registry: TokenRegistry, form: dict[str, str]) -> ApiResponse:
    grant = registry.take_code(form.get("code", ""))
    if grant is None:
        return _oauth_error("invalid_grant", "Malformed auth code.")
    if grant.redirect_uri and form.get("redirect_uri") != grant.redirect_uri:
        return _oauth_error("redirect_uri_mismatch", "Bad Request")
    if grant.challenge and not _verifier_ok(grant, form.get("code_verifier", "")):
        return _oauth_error("invalid_grant", "Invalid code verifier.")
    access, refresh = registry.issue(grant.email, grant.scopes)
    return ApiResponse.json(200, _token_body(access, grant.scopes, refresh))


def _verifier_ok(grant: Grant, verifier: str) -> bool:
    if grant.challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
        return secrets.compare_digest(expected, grant.challenge or "")
    return secrets.compare_digest(verifier, grant.challenge or "")


def authorize_endpoint(registry: TokenRegistry, request: ApiRequest) -> ApiResponse:
    """``GET /o/oauth2/auth``: consent granted at once, redirect back with a code."""
    query = {name: values[0] for name, values in request.query.items() if values}
    redirect_uri = query.get("redirect_uri")
    if not redirect_uri or query.get("response_type") != "code" or not query.get("client_id"):
        return _oauth_error("invalid_request", "Missing redirect_uri, client_id or response_type")
    scopes = query.get("scope", DEFAULT_SCOPES)
    grant = Grant(
        (query.get("login_hint") or DEFAULT_LOGIN).lower(),
        scopes,
        redirect_uri,
        query.get("code_challenge"),
        query.get("code_challenge_method", "plain") if query.get("code_challenge") else None,
    )
    answer = {"code": registry.new_code(grant), "scope": scopes}
    if "state" in query:
        answer["state"] = query["state"]
    separator = "&" if "?" in redirect_uri else "?"
    location = redirect_uri + separator + urllib.parse.urlencode(answer)
    return ApiResponse(302, b"", {"Location": location})


def revoke_endpoint(registry: TokenRegistry, request: ApiRequest) -> ApiResponse:
    """``POST /revoke?token=…``: revoke an access or refresh token."""
    token = _form(request).get("token", "")
    if not registry.revoke(token):
        return _oauth_error("invalid_token", "Token expired or revoked")
    return ApiResponse.json(200, {})

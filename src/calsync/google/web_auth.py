"""The hosted edition's OAuth web-server flow as two framework-neutral steps.

    auth = WebAuthorization(client, "https://sync.studio.example/oauth/google/callback",
                            tokens, profiles)
    request = auth.begin("studio42.user7")        # redirect the browser to request.url and
                                                  # bind request.state to it (a cookie)
    profile_id = auth.complete(state=..., code=..., browser_state=cookie)

* ``begin`` makes the consent URL (PKCE S256, ``access_type=offline``) and keeps the pending
  request (profile, PKCE verifier) under its ``state`` for ``ttl`` seconds, in memory: serve
  the callback from the process that served the start, or give a shared ``pending`` mapping.
* ``complete`` refuses a ``state`` it did not issue, one that expired or was used already, and
  one that is not the state bound to the browser (CSRF: another site cannot make the user's
  browser finish a flow it started). It exchanges the code with the verifier, stores the
  token in the :class:`~calsync.tokens.TokenStore` under the profile id, sets a
  ``NEEDS_REAUTH`` profile back to ``OK`` and calls ``on_authorised``.

:mod:`calsync.web` serves both steps over HTTP; hosts with their own framework call them from
their routes.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence

from attrs import frozen

from calsync.errors import AuthError
from calsync.google.auth import (
    DEFAULT_SCOPES,
    AuthorizationRequest,
    ClientConfig,
    finish_web_flow,
    start_web_flow,
)
from calsync.profile import ProfileStatus, ProfileStore
from calsync.tokens import TokenStore

__all__ = ["AuthorizationRefused", "PendingAuthorization", "WebAuthorization"]

logger = logging.getLogger(__name__)


class AuthorizationRefused(AuthError):
    """The callback is not the answer to a flow this browser started (or it expired)."""


@frozen
class PendingAuthorization:
    """A flow between its start and its callback."""

    profile_id: str
    request: AuthorizationRequest
    started: float  # monotonic seconds

    def __repr__(self) -> str:
        return f"PendingAuthorization(profile_id={self.profile_id!r})"


class WebAuthorization:
    """Connects a profile's Google account through the web-server flow.

    Args:
        client: the host's OAuth client (a "web application" client).
        redirect_uri: the callback URL registered with Google.
        tokens: where the tokens go (key: the profile id).
        profiles: the host's profiles (a ``NEEDS_REAUTH`` status is cleared).
        scopes: the scopes asked for.
        ttl: seconds a started flow may take.
        on_authorised: called with the profile id after the token is stored (e.g. to
            request a sync).
        pending: where pending flows are kept (default: a dict in this process).
    """

    def __init__(
        self,
        client: ClientConfig,
        redirect_uri: str,
        tokens: TokenStore,
        profiles: ProfileStore,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        ttl: float = 600.0,
        on_authorised: Callable[[str], object] | None = None,
        pending: MutableMapping[str, PendingAuthorization] | None = None,
    ) -> None:
        self.client = client
        self.redirect_uri = redirect_uri
        self.tokens = tokens
        self.profiles = profiles
        self.scopes = tuple(scopes)
        self.ttl = ttl
        self.on_authorised = on_authorised
        self._pending: MutableMapping[str, PendingAuthorization] = (
            {} if pending is None else pending
        )
        self._lock = threading.Lock()

    def begin(self, profile_id: str, *, login_hint: str | None = None) -> AuthorizationRequest:
        """Start a flow for ``profile_id``: where to send the browser, and the ``state`` to
        bind to it. The login hint defaults to the profile's email."""
        if login_hint is None:
            emails = [p.email for p in self.profiles.profiles() if p.id == profile_id]
            login_hint = emails[0] if emails and emails[0] else None
        request = start_web_flow(
            self.client, self.redirect_uri, scopes=self.scopes, login_hint=login_hint
        )
        now = time.monotonic()
        with self._lock:
            for state, pending in list(self._pending.items()):
                if now - pending.started > self.ttl:
                    del self._pending[state]
            self._pending[request.state] = PendingAuthorization(profile_id, request, now)
        logger.info("profile %s: Google authorisation started", profile_id)
        return request

    def complete(self, *, state: str, code: str, browser_state: str | None) -> str:
        """Finish the flow Google redirected back with; returns the profile id.

        Raises:
            AuthorizationRefused: unknown, expired or reused ``state``, or not this browser's.
            AuthError: Google refused the code.
        """
        if not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise AuthorizationRefused("the authorisation was not started from this browser")
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started > self.ttl:
            raise AuthorizationRefused("unknown or expired authorisation; start again")
        try:
            finish_web_flow(
                self.client,
                self.redirect_uri,
                pending.request,
                code=code,
                state=state,
                store=self.tokens,
                key=pending.profile_id,
                scopes=self.scopes,
            )
        except Exception as exc:
            raise AuthError(f"Google refused the authorisation code: {exc}") from exc
        self._clear_reauth(pending.profile_id)
        logger.info("profile %s: Google authorised", pending.profile_id)
        if self.on_authorised is not None:
            self.on_authorised(pending.profile_id)
        return pending.profile_id

    def _clear_reauth(self, profile_id: str) -> None:
        for profile in self.profiles.profiles():
            if profile.id == profile_id and profile.status is ProfileStatus.NEEDS_REAUTH:
                self.profiles.set_status(profile_id, ProfileStatus.OK, "Google authorised again")

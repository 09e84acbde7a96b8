"""The hosted edition's OAuth web-server flow as two framework-neutral steps.

    auth = WebAuthorization(client, "https://sync.studio.example/oauth/google/callback",
                            tokens, profiles)
    request = auth.begin("studio42.user7")        # redirect the browser to request.url and
                                                  # bind request.state to it (a cookie)
    profile_id = auth.complete(state=..., code=..., browser_state=cookie,
                               profile_id=signed_in_profile)

* ``begin`` makes the consent URL (PKCE S256, ``access_type=offline``) and keeps the pending
  request (PKCE verifier, ``state``) for ``ttl`` seconds under the profile id, one per profile:
  a new start replaces the profile's previous one. They are kept in memory: serve the callback
  from the process that served the start, or give a shared ``pending`` mapping.
* ``complete`` refuses a ``state`` that is not the state bound to the browser (CSRF: another
  site cannot make the user's browser finish a flow it started) and one that is not the
  pending flow of the signed-in profile (unknown, expired, used already, or started for
  another profile). It exchanges the code with the verifier and, if the profile still exists
  and Google granted the scopes it needs, stores the token (with the scopes granted) in the
  :class:`~calsync.tokens.TokenStore` under the profile id, sets a ``NEEDS_REAUTH`` or
  ``NOT_CONNECTED`` profile back to ``OK`` (``account_connected``) and calls
  ``on_authorised``. The scopes it needs are all those asked, except :data:`CONTACTS` for a
  profile that does not sync contacts (a user may untick it on Google's consent page); scopes
  granted beyond those asked (the client's earlier grants) are kept with the token.

The login hint (the profile's email) only preselects an account on Google's page: the user may
consent with any Google account, and the one they chose is connected.

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
from google.oauth2.credentials import Credentials

from calsync.errors import AuthError, TransientError
from calsync.google.auth import (
    CONTACTS,
    DEFAULT_SCOPES,
    AuthorizationRequest,
    ClientConfig,
    finish_web_flow,
    save_credentials,
    start_web_flow,
)
from calsync.profile import ProfileStore, SyncProfile
from calsync.tokens import MemoryTokenStore, TokenStore

__all__ = ["AuthorizationRefused", "PendingAuthorization", "WebAuthorization"]

logger = logging.getLogger(__name__)

_PROFILE_GONE = "the profile this authorisation was for no longer exists; nothing was stored"


class AuthorizationRefused(AuthError):
    """The callback is not the answer to a flow this browser started (or it expired).

    Also raised when the signed-in profile is not the one the flow was started for, and when
    that profile was removed before Google answered; nothing is stored then.
    """


@frozen
class PendingAuthorization:
    """A flow between its start and its callback."""

    profile_id: str
    request: AuthorizationRequest
    started: float  # seconds of the authorisation's clock

    def __repr__(self) -> str:
        return f"PendingAuthorization(profile_id={self.profile_id!r})"


class WebAuthorization:
    """Connects a profile's Google account through the web-server flow.

    Args:
        client: the host's OAuth client (a "web application" client).
        redirect_uri: the callback URL registered with Google.
        tokens: where the tokens go (key: the profile id).
        profiles: the host's profiles (a ``NEEDS_REAUTH`` or ``NOT_CONNECTED`` status is cleared).
        scopes: the scopes asked for.
        ttl: seconds a started flow may take; older ones are refused and forgotten.
        on_authorised: called with the profile id after the token is stored (e.g. to
            request a sync). An exception from it is logged (its type) and does not undo
            or fail the connection.
        pending: where pending flows are kept, one per profile id (default: a dict in this
            process). Expired flows are forgotten oldest first, in the mapping's order.
        clock: seconds for ``ttl`` (default monotonic; give ``time.time`` when ``pending``
            is shared between machines).
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
        clock: Callable[[], float] = time.monotonic,
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
        self._clock = clock
        self._lock = threading.Lock()

    def begin(self, profile_id: str, *, login_hint: str | None = None) -> AuthorizationRequest:
        """Start a flow for ``profile_id``: where to send the browser, and the ``state`` to
        bind to it. It replaces the profile's pending flow, if any. The login hint defaults to
        the profile's email."""
        if login_hint is None:
            emails = [p.email for p in self.profiles.profiles() if p.id == profile_id]
            login_hint = emails[0] if emails and emails[0] else None
        request = start_web_flow(
            self.client, self.redirect_uri, scopes=self.scopes, login_hint=login_hint
        )
        now = self._clock()
        with self._lock:
            self._pending.pop(profile_id, None)  # re-inserted last: the mapping stays in age order
            self._pending[profile_id] = PendingAuthorization(profile_id, request, now)
            self._forget_expired(now)
        logger.info("profile %s: Google authorisation started", profile_id)
        return request

    def complete(self, *, state: str, code: str, browser_state: str | None, profile_id: str) -> str:
        """Finish the flow Google redirected back with, for the signed-in ``profile_id``;
        returns the profile id.

        Raises:
            AuthorizationRefused: ``state`` is not this browser's, or not the pending flow of
                ``profile_id`` (unknown, expired, used, or started for another profile); or
                the profile no longer exists (nothing is stored).
            ScopesNotGranted: the user consented without a scope the profile needs (an
                :class:`AuthError`; nothing is stored).
            AuthError: Google refused the code.
            TransientError: Google could not be reached, or its token endpoint was
                unavailable (a 5xx or 429 answer, or ``temporarily_unavailable``).
        """
        if not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
            raise AuthorizationRefused("the authorisation was not started from this browser")
        pending = self._claim(profile_id, state)
        profile = next((p for p in self.profiles.profiles() if p.id == profile_id), None)
        if profile is None:
            raise AuthorizationRefused(_PROFILE_GONE)
        self._connect(profile_id, self._exchange(pending, code, self._required(profile)))
        logger.info("profile %s: Google authorised", profile_id)
        if self.on_authorised is not None:
            try:
                self.on_authorised(profile_id)
            except Exception as exc:  # the connection is made: the next round syncs the user
                logger.warning(
                    "profile %s: Google authorised, but on_authorised failed (%s)",
                    profile_id,
                    type(exc).__name__,
                )
                logger.debug("on_authorised of profile %s failed", profile_id, exc_info=True)
        return profile_id

    def _required(self, profile: SyncProfile) -> tuple[str, ...]:
        if profile.options.contacts:
            return self.scopes
        return tuple(scope for scope in self.scopes if scope != CONTACTS)

    def _forget_expired(self, now: float) -> None:
        expired = []
        for profile_id, pending in self._pending.items():  # oldest first: stop at a fresh one
            if now - pending.started <= self.ttl:
                break
            expired.append(profile_id)
        for profile_id in expired:
            del self._pending[profile_id]

    def _claim(self, profile_id: str, state: str) -> PendingAuthorization:
        with self._lock:
            pending = self._pending.get(profile_id)
            if pending is None or not hmac.compare_digest(
                state.encode(), pending.request.state.encode()
            ):
                raise AuthorizationRefused(
                    "unknown or expired authorisation, or one started for another profile; "
                    "start again"
                )
            del self._pending[profile_id]
        if self._clock() - pending.started > self.ttl:
            raise AuthorizationRefused("the authorisation expired; start again")
        return pending

    def _exchange(
        self, pending: PendingAuthorization, code: str, required: Sequence[str]
    ) -> Credentials:
        # a scratch store: the host's gets the token only once the profile is known to exist
        received = MemoryTokenStore()
        try:
            return finish_web_flow(
                self.client,
                self.redirect_uri,
                pending.request,
                code=code,
                state=pending.request.state,
                store=received,
                key=pending.profile_id,
                scopes=self.scopes,
                required=required,
            )
        except (AuthError, TransientError):  # too little granted; Google unavailable (5xx)
            raise
        except OSError as exc:  # requests' connection errors are OSErrors
            raise TransientError(f"Google could not be reached: {exc}") from exc
        except Exception as exc:
            raise AuthError(f"Google refused the authorisation code: {exc}") from exc

    def _connect(self, profile_id: str, credentials: Credentials) -> None:
        save_credentials(self.tokens, profile_id, credentials)
        try:
            self.profiles.account_connected(profile_id)  # needs_reauth / not_connected: OK
        except KeyError:
            self.tokens.delete(profile_id)  # removed while Google answered: keep nothing
            raise AuthorizationRefused(_PROFILE_GONE) from None

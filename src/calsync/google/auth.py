"""Connecting a user's Google account: scopes, the two OAuth flows, and where tokens live.

Scopes — the narrowest that do the job (see ``docs/google.md``):

* :data:`CALENDAR_EVENTS` — read and write events on the calendar the user chooses.
* :data:`CALENDAR_LIST_READONLY` — list the user's calendars to choose from.
* :data:`CALENDAR_APP_CREATED` — create a dedicated calendar (and manage only the calendars
  this app created). ``https://www.googleapis.com/auth/calendar`` would also do all three but
  lets the app delete and re-share every calendar the user has; calsync never asks for it.
* :data:`CONTACTS` — read and write contacts (Google has no narrower scope that can write).

A token that lacks every scope a channel syncs with (:data:`SYNC_SCOPES`: Contacts unticked on
the consent page, or connected while contact sync was off) leaves that channel waiting for the
user to reconnect Google and allow it; the other channel syncs (:func:`channels_not_granted`,
:class:`~calsync.errors.AccessNotGranted`).

Flows (both on google-auth-oauthlib, both with PKCE and ``access_type=offline``):

* desktop: :func:`run_desktop_flow` opens the consent page in the browser and catches the
  redirect on a loopback port;
* hosted: :func:`start_web_flow` gives the URL to redirect the user to (and the state and
  PKCE verifier to keep in the user's session); :func:`finish_web_flow` exchanges the code.
  Google may grant more scopes than asked (the client's earlier grants) or fewer (the user
  unticked some): the token is kept with the scopes granted, and refused
  (:class:`ScopesNotGranted`) only when a scope the host requires is missing.

Connecting an account is one call: :func:`connect_account` stores the tokens and tells the
host's :class:`~calsync.profile.ProfileStore` (``account_connected``), which sets a
``NEEDS_REAUTH`` or ``NOT_CONNECTED`` profile back to ``OK`` so the next round syncs the user.
Both flows make that call when given ``profiles=``.

Tokens: the host implements :class:`TokenStore` (or uses :class:`SqliteTokenStore`).
:func:`load_credentials` returns credentials that write every refreshed token back to it. A
refresh Google refuses (``invalid_grant``: revoked, expired, password changed) surfaces in a
sync as :class:`~calsync.errors.AuthError`, and the report says the user must re-authorise.
Tokens are never logged: while a flow runs, the records below WARNING that the OAuth libraries
write in its thread (the redirect's request line with the code, the token request and answer)
are dropped (:data:`FLOW_LOGGERS`); the host's logging is otherwise left as configured.
"""

from __future__ import annotations

import json
import logging
import threading
import webbrowser
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

from attrs import frozen
from google.auth.transport import Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow, InstalledAppFlow

from calsync.errors import AuthError, TransientError
from calsync.model import Channel
from calsync.profile import ProfileStore
from calsync.tokens import StoredToken, TokenStore

__all__ = [
    "CALENDAR_APP_CREATED",
    "CALENDAR_EVENTS",
    "CALENDAR_LIST_READONLY",
    "CONTACTS",
    "DEFAULT_SCOPES",
    "FLOW_LOGGERS",
    "OAUTH_UNAVAILABLE",
    "SYNC_SCOPES",
    "AuthorizationRequest",
    "ClientConfig",
    "ScopesNotGranted",
    "StoredCredentials",
    "channels_not_granted",
    "connect_account",
    "finish_web_flow",
    "granted_scopes",
    "load_credentials",
    "run_desktop_flow",
    "save_credentials",
    "scopes_for",
    "start_web_flow",
]

logger = logging.getLogger(__name__)

CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
CALENDAR_LIST_READONLY = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
CALENDAR_APP_CREATED = "https://www.googleapis.com/auth/calendar.app.created"
CONTACTS = "https://www.googleapis.com/auth/contacts"
#: All calendars, all rights: calsync never asks for it, but a token granted it syncs.
CALENDAR = "https://www.googleapis.com/auth/calendar"
CALENDAR_EVENTS_OWNED = "https://www.googleapis.com/auth/calendar.events.owned"

#: The scopes any one of which lets calsync read and write a channel's items in Google.
SYNC_SCOPES: dict[Channel, frozenset[str]] = {
    Channel.CALENDAR: frozenset(
        {CALENDAR, CALENDAR_EVENTS, CALENDAR_EVENTS_OWNED, CALENDAR_APP_CREATED}
    ),
    Channel.CONTACTS: frozenset({CONTACTS}),
}

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

#: The loggers that write a flow's secrets below WARNING: google-auth-oauthlib's redirect
#: server logs its request line (``GET /?code=…``) at INFO, requests-oauthlib the token request
#: and answer (the code, the PKCE verifier, the client's secret, the access and refresh tokens)
#: at DEBUG; the packages' own loggers are named for what a later version may log there.
FLOW_LOGGERS = (
    "google_auth_oauthlib.flow",
    "requests_oauthlib.oauth2_session",
    "requests_oauthlib",
    "oauthlib",
)

#: The OAuth error codes (RFC 6749) of a Google that cannot answer now, not a refusal: at the
#: token endpoint (oauthlib's errors) and on the redirect back from the consent page.
OAUTH_UNAVAILABLE = frozenset({"server_error", "temporarily_unavailable"})


def scopes_for(
    *, choose_calendar: bool = True, create_calendar: bool = True, contacts: bool = True
) -> tuple[str, ...]:
    """The scopes for what the host offers: choosing an existing calendar, creating a
    dedicated one, contact sync. A host that only ever uses a dedicated calendar needs only
    :data:`CALENDAR_APP_CREATED` for the calendar side."""
    scopes: list[str] = []
    if choose_calendar:
        scopes += [CALENDAR_EVENTS, CALENDAR_LIST_READONLY]
    if create_calendar:
        scopes.append(CALENDAR_APP_CREATED)
    if contacts:
        scopes.append(CONTACTS)
    return tuple(scopes)


#: Everything calsync offers: choose or create a calendar, and contacts.
DEFAULT_SCOPES = scopes_for()

_SCOPE_NAMES = {
    CALENDAR_EVENTS: "the events of your calendars",
    CALENDAR_LIST_READONLY: "the list of your calendars",
    CALENDAR_APP_CREATED: "the calendars this app creates",
    CONTACTS: "your Google Contacts",
}


def channels_not_granted(scopes: Collection[str]) -> frozenset[Channel] | None:
    """The channels a token granted ``scopes`` cannot sync (none of their
    :data:`SYNC_SCOPES`); ``None`` when ``scopes`` is empty: a token stored without its
    scopes (by an older calsync, or a host) may allow anything, and only Google can tell."""
    if not scopes:
        return None
    granted = frozenset(scopes)
    return frozenset(channel for channel, sync in SYNC_SCOPES.items() if not granted & sync)


def granted_scopes(credentials: object) -> tuple[str, ...]:
    """The scopes ``credentials`` were granted, as far as they say (empty: unknown). Only
    OAuth user credentials know theirs."""
    if not isinstance(credentials, Credentials):
        return ()
    return tuple(credentials.granted_scopes or credentials.scopes or ())


class ScopesNotGranted(AuthError):
    """The user consented without a scope the host requires (unticked on Google's consent
    page); nothing was stored. ``missing`` names the scopes."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        names = " and ".join(_SCOPE_NAMES.get(scope, scope) for scope in self.missing)
        super().__init__(f"access to {names} was not granted")


@frozen
class ClientConfig:
    """The host's OAuth client (from the Google Cloud console)."""

    client_id: str
    client_secret: str
    auth_uri: str = GOOGLE_AUTH_URI
    token_uri: str = GOOGLE_TOKEN_URI

    @classmethod
    def from_file(cls, path: str | Path) -> ClientConfig:
        """Read a ``client_secret_*.json`` downloaded from the console.

        Raises:
            OSError: the file cannot be read.
            ValueError: it is not UTF-8 JSON, or not a client's settings (an object, under
                ``installed`` or ``web`` or not, whose ``client_id`` and ``client_secret``
                are text, as are ``auth_uri`` and ``token_uri`` when present).
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(
                f"not an OAuth client's settings: a JSON {type(data).__name__} instead of an "
                "object with 'installed' or 'web'"
            )
        entry = data.get("installed") or data.get("web") or data
        if not isinstance(entry, dict):
            raise ValueError("not an OAuth client's settings: 'installed' or 'web' is no object")
        fields = {
            "client_id": entry.get("client_id"),
            "client_secret": entry.get("client_secret"),
            "auth_uri": entry.get("auth_uri", GOOGLE_AUTH_URI),
            "token_uri": entry.get("token_uri", GOOGLE_TOKEN_URI),
        }
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"not an OAuth client's settings: no text {name!r}")
        return cls(
            fields["client_id"], fields["client_secret"], fields["auth_uri"], fields["token_uri"]
        )

    def as_dict(self, kind: str, redirect_uris: Sequence[str] = ()) -> dict[str, Any]:
        """The client in the JSON shape google-auth-oauthlib reads (``installed``/``web``)."""
        entry: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "auth_uri": self.auth_uri,
            "token_uri": self.token_uri,
        }
        if redirect_uris:
            entry["redirect_uris"] = list(redirect_uris)
        return {kind: entry}


# -- credentials that write back -----------------------------------------------------------


class StoredCredentials(Credentials):
    """OAuth user credentials that save every refreshed token to their :class:`TokenStore`."""

    store: TokenStore | None = None
    key: str = ""

    def refresh(self, request: Request) -> None:
        refreshed_from = self.refresh_token
        super().refresh(request)  # type: ignore[no-untyped-call]  # untyped in google-auth
        if self.store is None:
            return
        # only over the token it was refreshed from: a user who disconnected Google meanwhile
        # stays disconnected, and one who connected again keeps the new grant
        if self.store.save_refreshed(self.key, token_of(self), refreshed_from):
            logger.debug("saved the refreshed Google token of %s", self.key)
        else:  # (the key is the host's: it may be an address, so only at DEBUG)
            logger.info("the stored Google authorisation changed during the run: it is kept")
            logger.debug("kept the stored Google token of %s", self.key)


def token_of(credentials: Credentials) -> StoredToken:
    """What to store of ``credentials``."""
    expiry = credentials.expiry
    if expiry is not None and expiry.tzinfo is None:  # google-auth keeps naive UTC
        expiry = expiry.replace(tzinfo=UTC)
    return StoredToken(
        credentials.refresh_token, credentials.token, expiry, granted_scopes(credentials)
    )


def save_credentials(store: TokenStore, key: str, credentials: Credentials) -> None:
    """Store the tokens of ``credentials`` (after a flow) under ``key``."""
    store.save(key, token_of(credentials))


def connect_account(
    store: TokenStore,
    key: str,
    credentials: Credentials,
    profiles: ProfileStore | None = None,
) -> None:
    """What a host's "Authenticate Google" button does once Google said yes: store the tokens
    of ``credentials`` under the profile id ``key`` and tell ``profiles`` the account is
    connected (:meth:`~calsync.profile.ProfileStore.account_connected`), which sets a
    ``NEEDS_REAUTH`` or ``NOT_CONNECTED`` status back to ``OK``; the next round syncs the user.

    Raises:
        KeyError: ``profiles`` has no profile ``key`` (the tokens are stored all the same).
    """
    save_credentials(store, key, credentials)
    logger.info("profile %s: Google account connected", key)
    if profiles is not None:
        profiles.account_connected(key)


def load_credentials(store: TokenStore, key: str, client: ClientConfig) -> StoredCredentials | None:
    """Credentials for ``key`` that write refreshed tokens back, or ``None`` when the user
    has not connected Google yet."""
    token = store.load(key)
    if token is None or not token.refresh_token:
        return None
    expiry = token.expiry.astimezone(UTC).replace(tzinfo=None) if token.expiry else None
    credentials = StoredCredentials(  # type: ignore[no-untyped-call]  # untyped in google-auth
        token.access_token,
        refresh_token=token.refresh_token,
        token_uri=client.token_uri,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=list(token.scopes) or None,
        expiry=expiry,
    )
    credentials.store, credentials.key = store, key
    return credentials


# -- the flows -----------------------------------------------------------------------------


class _FlowRecords(logging.Filter):
    """Drops the records below WARNING that a :data:`FLOW_LOGGERS` logger writes in a thread
    running one of calsync's flows: they carry the code, the verifier and the tokens.

    A filter on those loggers rather than a level: the host's configuration stays as it is,
    and the records they write outside calsync's flows (the host's own OAuth) pass as before.
    A flow runs in one thread: the redirect server is served, and the code exchanged, in the
    thread that called it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    @contextmanager
    def running(self) -> Iterator[None]:
        """The records of this thread are a flow's until the block ends."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not getattr(self._local, "depth", 0)


def _filtered_flow_loggers() -> _FlowRecords:
    flow_records = _FlowRecords()
    for name in FLOW_LOGGERS:  # (a logger made now is the one the library gets later)
        logging.getLogger(name).addFilter(flow_records)
    return flow_records


_flow_records = _filtered_flow_loggers()


def run_desktop_flow(
    client: ClientConfig,
    store: TokenStore,
    key: str,
    *,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    port: int = 0,
    open_url: Callable[[str], object] | None = None,
    timeout_seconds: int | None = 300,
    login_hint: str | None = None,
    profiles: ProfileStore | None = None,
    required: Sequence[str] | None = None,
) -> Credentials:
    """The installed-app flow: show Google's consent page in the browser (``open_url``,
    default the system browser), catch the redirect on ``http://localhost:<port>/``, and
    store the tokens under ``key`` — with ``profiles``, through :func:`connect_account`, so a
    profile waiting for its user to (re-)connect Google syncs again.

    The tokens are stored with the scopes Google granted (fewer than ``scopes`` when the user
    unticked some on the consent page); ``required`` (default: all of ``scopes``) are the
    ones without which nothing is stored.

    Raises:
        google_auth_oauthlib.flow.WSGITimeoutError: the user did not finish in time.
        ScopesNotGranted: Google did not grant a ``required`` scope.
        TransientError: Google's token endpoint was unavailable (a 5xx or 429 answer, or
            ``temporarily_unavailable``); nothing was stored, the user may try again.
    """
    flow = _DesktopFlow.from_client_config(client.as_dict("installed"), list(scopes))
    extra: dict[str, Any] = {"prompt": "consent"}
    if login_hint:
        extra["login_hint"] = login_hint
    browser = _register_browser(open_url) if open_url is not None else None
    with _flow_records.running():
        credentials: Credentials = flow.run_local_server(
            port=port,
            open_browser=True,
            browser=browser,
            authorization_prompt_message=None,
            timeout_seconds=timeout_seconds,
            **extra,
        )
    _check_granted(credentials, scopes if required is None else required, key)
    connect_account(store, key, credentials, profiles)
    return credentials


class _DesktopFlow(InstalledAppFlow):  # type: ignore[misc]  # (untyped in google-auth-oauthlib)
    """The installed-app flow, taking the token whatever scopes Google granted."""

    def fetch_token(self, **kwargs: Any) -> Any:
        fetch = super().fetch_token
        try:
            return _exchanged(self.oauth2session, lambda: fetch(**kwargs))
        except Warning as changed:  # oauthlib's "Scope has changed from ... to ..."
            token = _token_in(changed)
            self.oauth2session.token = token  # what oauthlib would have kept had it not raised
            return token


class _CallbackBrowser(webbrowser.BaseBrowser):
    def __init__(self, open_url: Callable[[str], object]) -> None:
        super().__init__("calsync")
        self._open_url = open_url

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self._open_url(url)
        return True


def _register_browser(open_url: Callable[[str], object]) -> str:
    name = f"calsync-{id(open_url)}"
    webbrowser.register(name, None, _CallbackBrowser(open_url))
    return name


@frozen
class AuthorizationRequest:
    """Where to send the user, and what to keep in their session until Google sends them
    back (``state`` to check, ``code_verifier`` for PKCE)."""

    url: str
    state: str
    code_verifier: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(state={self.state!r})"


def start_web_flow(
    client: ClientConfig,
    redirect_uri: str,
    *,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    login_hint: str | None = None,
) -> AuthorizationRequest:
    """The first half of the web-server flow (hosted edition): the consent URL."""
    flow = Flow.from_client_config(
        client.as_dict("web", [redirect_uri]), list(scopes), redirect_uri=redirect_uri
    )
    extra: dict[str, Any] = {"prompt": "consent", "include_granted_scopes": "true"}
    if login_hint:
        extra["login_hint"] = login_hint
    with _flow_records.running():
        url, state = flow.authorization_url(**extra)
    return AuthorizationRequest(url, state, flow.code_verifier)


def finish_web_flow(
    client: ClientConfig,
    redirect_uri: str,
    request: AuthorizationRequest,
    *,
    code: str,
    state: str,
    store: TokenStore,
    key: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    profiles: ProfileStore | None = None,
    required: Sequence[str] | None = None,
) -> Credentials:
    """The second half: check ``state``, exchange ``code`` and store the tokens under ``key``
    — with ``profiles``, through :func:`connect_account`, so a profile waiting for its user
    to (re-)connect Google syncs again.

    The tokens are stored with the scopes Google granted: more than ``scopes`` when the user
    granted the client others before (``include_granted_scopes``), fewer when they unticked
    some. ``required`` (default: all of ``scopes``) are the ones without which nothing is
    stored.

    Raises:
        ValueError: ``state`` is not the one the request was made with.
        ScopesNotGranted: Google did not grant a ``required`` scope.
        TransientError: Google's token endpoint was unavailable (a 5xx or 429 answer, or
            ``temporarily_unavailable``); nothing was stored, the user may try again.
    """
    if state != request.state:
        raise ValueError("the OAuth state does not match this authorisation request")
    flow = Flow.from_client_config(
        client.as_dict("web", [redirect_uri]),
        list(scopes),
        redirect_uri=redirect_uri,
        state=request.state,
        code_verifier=request.code_verifier,
    )
    _fetch_token(flow, code)
    credentials: Credentials = flow.credentials
    _check_granted(credentials, scopes if required is None else required, key)
    connect_account(store, key, credentials, profiles)
    return credentials


def _check_granted(credentials: Credentials, required: Sequence[str], key: str) -> None:
    granted = set(token_of(credentials).scopes)
    missing = [scope for scope in required if scope not in granted]
    if missing:
        logger.info("profile %s: Google did not grant %s", key, " ".join(missing))
        raise ScopesNotGranted(missing)


def _fetch_token(flow: Flow, code: str) -> None:
    """Exchange ``code``, taking the token whatever scopes Google granted."""
    try:
        with _flow_records.running():
            _exchanged(flow.oauth2session, lambda: flow.fetch_token(code=code))
    except Warning as changed:  # oauthlib's "Scope has changed from ... to ..."
        flow.oauth2session.token = _token_in(changed)  # what oauthlib would have kept


def _exchanged(session: Any, fetch: Callable[[], Any]) -> Any:
    """``fetch()``'s token from ``session`` (a requests-oauthlib ``OAuth2Session``), with a
    Google that cannot answer now as a :class:`TransientError`: oauthlib would take whatever
    body a 5xx came with for a refusal of the code.

    Raises:
        TransientError: the token endpoint answered 5xx or 429, or ``server_error`` or
            ``temporarily_unavailable``.
    """
    session.register_compliance_hook("access_token_response", _unavailable_is_transient)
    try:
        return fetch()
    except Exception as exc:
        error = getattr(exc, "error", None)  # (an oauthlib OAuth2Error's code)
        if error in OAUTH_UNAVAILABLE:
            raise TransientError(f"Google cannot answer now ({error})") from exc
        raise


def _unavailable_is_transient(response: Any) -> Any:  # (a requests.Response: untyped)
    """requests-oauthlib's hook on the token endpoint's answer, before it is parsed."""
    status: int = response.status_code
    if status >= 500 or status == 429:
        raise TransientError(f"Google's token endpoint is unavailable (HTTP {status})")
    return response


def _token_in(changed: Warning) -> dict[str, Any]:
    """The token oauthlib's scope warning carries (raised again when it carries none)."""
    token = getattr(changed, "token", None)
    if not isinstance(token, dict) or "access_token" not in token:
        raise changed
    return token

"""calsync's Google backend: Calendar v3 and People v1 on google-api-python-client.

The usual entry points::

    from calsync.google import connect, load_credentials, shared_pacer

    credentials = load_credentials(token_store, profile.id, client_config)
    google = connect(credentials, pacer=shared_pacer(profile.id))
    report = engine.sync(profile, google.calendar, google.contacts)

See ``docs/google.md`` for scopes, quota pacing, batching and the error mapping.
"""

from __future__ import annotations

from calsync.google.account import GoogleAccount, connect, shared_pacer
from calsync.google.auth import (
    DEFAULT_SCOPES,
    AuthorizationRequest,
    ClientConfig,
    connect_account,
    finish_web_flow,
    load_credentials,
    run_desktop_flow,
    save_credentials,
    scopes_for,
    start_web_flow,
)
from calsync.google.calendar import DEFAULT_SKIPPED_EVENT_TYPES, CalendarInfo, GoogleCalendarBackend
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.pacing import QuotaPacer, unpaced
from calsync.google.retry import default_retrying, no_wait_retrying
from calsync.google.services import (
    batch_uri,
    build_calendar_service,
    build_people_service,
    new_batch_request,
)
from calsync.tokens import MemoryTokenStore, SqliteTokenStore, StoredToken, TokenStore

__all__ = [
    "DEFAULT_SCOPES",
    "DEFAULT_SKIPPED_EVENT_TYPES",
    "AuthorizationRequest",
    "CalendarInfo",
    "ClientConfig",
    "GoogleAccount",
    "GoogleCalendarBackend",
    "GoogleContactsBackend",
    "MemoryTokenStore",
    "QuotaPacer",
    "SqliteTokenStore",
    "StoredToken",
    "TokenStore",
    "batch_uri",
    "build_calendar_service",
    "build_people_service",
    "connect",
    "connect_account",
    "default_retrying",
    "finish_web_flow",
    "load_credentials",
    "new_batch_request",
    "no_wait_retrying",
    "run_desktop_flow",
    "save_credentials",
    "scopes_for",
    "shared_pacer",
    "start_web_flow",
    "unpaced",
]

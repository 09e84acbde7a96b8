"""One call to get both Google backends of one user.

::

    credentials = load_credentials(token_store, profile.id, client)
    google = connect(credentials, pacer=shared_pacer(profile.id))
    report = engine.sync(profile, google.calendar, google.contacts)

Each backend gets its own ``httplib2.Http`` (which is not thread-safe): use one
:class:`GoogleAccount` per thread. An account may be kept between runs of its user (its
resources, connections and remembered contacts are reused), as long as no two threads use it at
once: the processor's leases guarantee one run of a user at a time.

Both backends of a user share one :class:`~calsync.google.pacing.QuotaPacer`;
:func:`shared_pacer` keeps one per user for the whole process, so consecutive runs of a user
stay under the quota together.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

import httplib2
import tenacity
from attrs import frozen
from google.auth.credentials import Credentials

from calsync.google.calendar import DEFAULT_SKIPPED_EVENT_TYPES, GoogleCalendarBackend
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import default_retrying
from calsync.google.services import build_calendar_service, build_people_service

__all__ = ["GoogleAccount", "connect", "shared_pacer"]

_pacers: dict[str, QuotaPacer] = {}
_pacers_lock = threading.Lock()


def shared_pacer(
    user: str, *, calls_per_window: int = 600, window_seconds: float = 60.0
) -> QuotaPacer:
    """The process-wide pacer of ``user`` (any stable key: profile id, account email), made
    on first use with the given quota."""
    with _pacers_lock:
        pacer = _pacers.get(user)
        if pacer is None:
            pacer = _pacers[user] = QuotaPacer(calls_per_window, window_seconds)
        return pacer


@frozen
class GoogleAccount:
    """One user's Google backends and the pacer they share."""

    calendar: GoogleCalendarBackend
    contacts: GoogleContactsBackend
    pacer: QuotaPacer

    def close(self) -> None:
        """Close both services' HTTP connections: httplib2 keeps them open until the objects
        are garbage-collected, so a server that connects per run would pile up sockets."""
        self.calendar.service.close()
        self.contacts.service.close()


def connect(
    credentials: Credentials | None,
    *,
    base_url: str | None = None,
    pacer: QuotaPacer | None = None,
    retrying: tenacity.Retrying | None = None,
    batch_size: int = 50,
    skip_event_types: Collection[str] = DEFAULT_SKIPPED_EVENT_TYPES,
    timeout: float = 60.0,
) -> GoogleAccount:
    """Both backends for the user of ``credentials``.

    Args:
        credentials: the user's credentials (e.g. from
            :func:`~calsync.google.auth.load_credentials`).
        base_url: an emulator's base URL; Google when ``None``.
        pacer: the user's pacer (default: a new one for 600 calls a minute).
        retrying: the retry policy (default: :func:`~calsync.google.retry.default_retrying`).
        batch_size: calendar writes per batch request.
        skip_event_types: event types left out of calendar listings.
        timeout: socket timeout of each request, in seconds.
    """
    pacer = pacer or QuotaPacer()
    retrying = retrying or default_retrying()
    calendar_service = build_calendar_service(
        credentials, base_url=base_url, http=httplib2.Http(timeout=timeout)
    )
    people_service = build_people_service(
        credentials, base_url=base_url, http=httplib2.Http(timeout=timeout)
    )
    calendar = GoogleCalendarBackend(
        calendar_service,
        pacer=pacer,
        retrying=retrying,
        batch_size=batch_size,
        skip_event_types=skip_event_types,
    )
    contacts = GoogleContactsBackend(people_service, pacer=pacer, retrying=retrying)
    return GoogleAccount(calendar, contacts, pacer)

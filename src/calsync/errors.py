"""calsync's exception tree.

Every error calsync raises on purpose derives from :class:`CalsyncError`. Third-party errors
(``googleapiclient.errors.HttpError``, ``google.auth`` errors, ``sqlite3`` errors) are mapped into
this tree in exactly one place per boundary and re-raised with ``raise ... from exc``::

    CalsyncError
    ├── ConfigurationError          bad profile, template or option: fix the configuration
    │   └── TemplateError           a template names a field outside the allow-list
    ├── SourceError                 a host adapter failed
    │   └── InvalidHostItem         a host item that cannot be synced (reported, never sent)
    ├── StateError                  the state store failed
    │   ├── StateUnavailable        the store takes no writes at all now (disk full, lost
    │   │                           connection, file locked): the run stops where it is
    │   └── SchemaVersionError      the store was written by an incompatible calsync
    └── BackendError                the remote side (Google) failed
        ├── AuthError               credentials revoked/invalid: the user must re-authorise
        │   ├── NotConnected        no credentials at all: the user never connected Google
        │   └── AccessNotGranted    the credentials work but do not cover this service (a
        │                           scope not granted): that channel waits, the other syncs
        ├── PermissionDenied        the account may not do this (403 forbidden)
        ├── NotFound                the resource does not exist
        │   └── CalendarGone        the profile's calendar was deleted: start over
        ├── AlreadyExists           a create hit an existing id (409)
        ├── PreconditionFailed      an etag precondition failed (412 / FAILED_PRECONDITION)
        ├── SyncTokenExpired        a sync token is no longer valid (410 / EXPIRED_SYNC_TOKEN)
        ├── InvalidRequest          the request was rejected as malformed (400)
        ├── QuotaExceeded           403 quotaExceeded: a usage limit, not retryable within a run
        └── TransientError          worth retrying: 5xx, timeouts, connection resets
            └── RateLimited         429 / 403 rate limits; ``retry_after`` when the server said

Beside the tree, :class:`RunStopped` is a ``BaseException``: it is not an error of an item
but the host's process stopping a run where it is (a worker's time limit, or
:class:`LeaseLost`: its runner no longer holds the profile's lease), and no handler of item
failures may take it for one.
"""

from __future__ import annotations

__all__ = [
    "AccessNotGranted",
    "AlreadyExists",
    "AuthError",
    "BackendError",
    "CalendarGone",
    "CalsyncError",
    "ConfigurationError",
    "InvalidHostItem",
    "InvalidRequest",
    "LeaseLost",
    "NotConnected",
    "NotFound",
    "PermissionDenied",
    "PreconditionFailed",
    "QuotaExceeded",
    "RateLimited",
    "RunStopped",
    "SchemaVersionError",
    "SourceError",
    "StateError",
    "StateUnavailable",
    "SyncTokenExpired",
    "TemplateError",
    "TransientError",
]


class CalsyncError(Exception):
    """Base of every error calsync raises on purpose."""


class ConfigurationError(CalsyncError):
    """A profile, template or option is invalid. Raised when it is built, never mid-sync."""


class TemplateError(ConfigurationError):
    """A template is malformed or names a field outside the allow-list."""


class SourceError(CalsyncError):
    """A host adapter (``ScheduleSource``/``ContactSource``) failed."""


class InvalidHostItem(SourceError):
    """A host item cannot be synced as it is (e.g. an end before its start).

    The item is reported and skipped; nothing is sent for it.
    """


class StateError(CalsyncError):
    """The state store failed."""


class StateUnavailable(StateError):
    """The state store can take no reads or writes now, whatever the item: its disk is full,
    its file locked beyond the timeout or damaged, its database unreachable, or the open
    transaction was rolled back under the run. Nothing more can be recorded, so the run stops
    where it is, keeping what was recorded; the intents journaled before each write let the
    next run adopt what reached Google unrecorded. (A plain :class:`StateError` concerns one
    write, e.g. a row the store refuses: that item fails and the run goes on.)"""


class SchemaVersionError(StateError):
    """The state store's schema was written by an incompatible version of calsync."""


class BackendError(CalsyncError):
    """The remote side failed. ``status`` and ``reason`` echo the server's answer when known."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class AuthError(BackendError):
    """The credentials are revoked or invalid; the user has to authorise calsync again."""


class NotConnected(AuthError):
    """No credentials are stored for the profile: the user never connected a Google account
    (or the host deleted the tokens). The user has to connect one."""


class AccessNotGranted(AuthError):
    """The saved authorisation works but does not cover the Google service called (the user
    did not grant its scope: Contacts unticked on the consent page, or connected before
    contact sync was on). Only the channel that needs it waits; the user must reconnect Google
    and allow it. Raised before any request when the stored scopes already say so, and for
    Google's 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``."""


class PermissionDenied(BackendError):
    """The account is not allowed to do this (e.g. a read-only calendar)."""


class NotFound(BackendError):
    """The resource does not exist (or the account cannot see it)."""


class CalendarGone(NotFound):
    """The profile's calendar no longer exists: the profile must start over."""


class AlreadyExists(BackendError):
    """A create used an id that is taken (HTTP 409 ``duplicate``)."""


class PreconditionFailed(BackendError):
    """The resource changed since it was read (etag mismatch)."""


class SyncTokenExpired(BackendError):
    """A sync token can no longer be used; a full listing is required."""


class InvalidRequest(BackendError):
    """The server rejected the request as malformed; retrying will not help."""


class TransientError(BackendError):
    """A failure worth retrying later: 5xx, timeouts, connection resets."""


class RateLimited(TransientError):
    """The server asked us to slow down. ``retry_after`` is in seconds when it said so."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class QuotaExceeded(BackendError):
    """A usage limit (not a rate) was exceeded; retrying within minutes will not help, so it
    is never retried within a run (the item is tried again next run)."""


class RunStopped(BaseException):  # not an error: a stop, like KeyboardInterrupt
    """Raised into a run to stop it where it is (e.g. by a worker's time limit, from a signal
    handler). Like ``KeyboardInterrupt`` it passes every ``except Exception``, so the engine,
    which isolates each item's failure, never takes it for an item's error: the run ends at
    once, what it recorded stays recorded (the transaction in flight is rolled back, as in a
    crash), and the processor reports the run as stopped and tells the user, as it does any
    failed run. Subclass it for a host's own reasons to stop.
    """


class LeaseLost(RunStopped):
    """Raised into a run whose runner no longer surely holds the profile's lease: another
    runner took it over, or it was not renewed within its time (the process was paused, the
    state store unreachable), so another runner may be syncing the profile now.

    The run stops before its next batch of writes, so two runners never go on writing one
    user's items side by side; what it recorded stays recorded. The processor neither tells
    the user (it is not the user's problem: the other runner syncs the profile) nor changes
    the profile's status.
    """

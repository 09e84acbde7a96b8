"""The one boundary where Google's errors become calsync's.

Everything the Google backend calls runs inside :func:`google_errors`, which re-raises
``googleapiclient.errors.HttpError``, ``google.auth`` errors and transport failures as the
:mod:`calsync.errors` tree (``raise ... from exc``). Batch parts, whose errors arrive in a
callback instead of being raised, go through the same :func:`error_for`.

The mapping, by HTTP status and the reasons in the error body (Calendar's ``errors[].reason``,
People's ``status`` and ``details[].reason``)::

    401, refresh refused (invalid_grant, revoked)      AuthError
    403 ACCESS_TOKEN_SCOPE_INSUFFICIENT                AccessNotGranted (an AuthError: only the
        (insufficientPermissions)                      channel of that API waits for the user)
    400 EXPIRED_SYNC_TOKEN, 410 fullSyncRequired       SyncTokenExpired
    400 FAILED_PRECONDITION (People etag), 412         PreconditionFailed
    400 (anything else)                                InvalidRequest
    403 rateLimitExceeded / userRateLimitExceeded, 429 RateLimited (retry_after from Retry-After)
    403 quotaExceeded / dailyLimitExceeded             QuotaExceeded
    403 (anything else)                                PermissionDenied
    404, 410 deleted                                   NotFound (reason "deleted" for 410)
    409 conflict (a clash inside a batch)              TransientError
    409 (duplicate, anything else)                     AlreadyExists
    408, 5xx, timeouts, resets, transport errors       TransientError
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from calsync.errors import (
    AccessNotGranted,
    AlreadyExists,
    AuthError,
    BackendError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    SyncTokenExpired,
    TransientError,
)

__all__ = ["error_for", "google_errors", "google_reasons", "retry_after_seconds"]

logger = logging.getLogger(__name__)

RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"}
)
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "QUOTA_EXCEEDED"})
AUTH_REASONS = frozenset({"invalid_grant", "authError", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
#: A token without the scope the call needs (one-platform ErrorInfo reason, Calendar reason).
SCOPE_REASONS = frozenset({"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"})
EXPIRED_TOKEN_REASONS = frozenset(
    {"EXPIRED_SYNC_TOKEN", "fullSyncRequired", "updatedMinTooLongAgo"}
)


def google_reasons(exc: HttpError) -> tuple[set[str], str | None, str]:
    """The machine-readable reasons, the RPC status (People) and the message of ``exc``.

    Parsed from the body itself: ``HttpError.reason`` is the human message, and its
    ``error_details`` keeps only one of ``details``/``errors``.
    """
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return set(), None, str(getattr(exc, "reason", "") or "")
    if not isinstance(error, dict):
        return set(), None, str(error)
    reasons: set[str] = set()
    for entry in [*_list(error.get("errors")), *_list(error.get("details"))]:
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            reasons.add(entry["reason"])
    status = error.get("status")
    message = error.get("message")
    return reasons, status if isinstance(status, str) else None, str(message or "")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds, if usable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _header(exc: HttpError, name: str) -> str | None:
    response = getattr(exc, "resp", None)
    if response is None or not hasattr(response, "get"):
        return None
    value = response.get(name) or response.get(name.lower())
    return str(value) if value is not None else None


def error_for(exc: HttpError) -> BackendError:
    """The calsync error for one ``HttpError`` (also used for batch parts)."""
    response = getattr(exc, "resp", None)
    if response is None:  # a BatchError: the batch answer itself was unreadable
        return TransientError(f"unreadable batch answer from Google: {exc}")
    status = int(getattr(response, "status", 0) or 0)
    reasons, rpc_status, message = google_reasons(exc)
    reason = _main_reason(reasons, rpc_status)
    text = f"Google answered {status}" + (f" {reason}" if reason else "")
    text += f": {message}" if message else ""
    kind = _kind(status, reasons, rpc_status)
    if issubclass(kind, RateLimited):
        delay = retry_after_seconds(_header(exc, "retry-after"))
        return kind(text, status=status, reason=reason, retry_after=delay)
    return kind(text, status=status, reason=reason)


def _main_reason(reasons: set[str], rpc_status: str | None) -> str | None:
    for group in (EXPIRED_TOKEN_REASONS, QUOTA_REASONS, RATE_LIMIT_REASONS, AUTH_REASONS):
        found = sorted(reasons & group)
        if found:
            return found[0]
    return sorted(reasons)[0] if reasons else rpc_status


def _kind(status: int, reasons: set[str], rpc_status: str | None) -> type[BackendError]:
    if status == 403 and reasons & SCOPE_REASONS:
        return AccessNotGranted
    if status == 401 or reasons & {"invalid_grant", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}:
        return AuthError
    if status == 400:
        if reasons & EXPIRED_TOKEN_REASONS:
            return SyncTokenExpired
        if rpc_status == "FAILED_PRECONDITION" or "failedPrecondition" in reasons:
            return PreconditionFailed
        return InvalidRequest
    if status in (403, 429):
        return _limit_kind(status, reasons)
    return _simple_kind(status, reasons)


def _limit_kind(status: int, reasons: set[str]) -> type[BackendError]:
    if reasons & QUOTA_REASONS:
        return QuotaExceeded
    if status == 429 or reasons & RATE_LIMIT_REASONS:
        return RateLimited
    return PermissionDenied


def _simple_kind(status: int, reasons: set[str]) -> type[BackendError]:
    if status == 404:
        return NotFound
    if status == 409:
        # ``conflict``: a part clashed with another part of its batch, not a taken id
        return TransientError if "conflict" in reasons else AlreadyExists
    if status == 410:
        return NotFound if "deleted" in reasons else SyncTokenExpired
    if status == 412:
        return PreconditionFailed
    if status == 408 or status >= 500:
        return TransientError
    return BackendError


#: OAuth's answers refusing a grant (RFC 6749, section 5.2): the user (or the host's OAuth
#: client) must act; anything else from the token service passes.
OAUTH_REFUSALS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)


def _auth_error(exc: auth_exceptions.GoogleAuthError) -> BackendError:
    if isinstance(exc, auth_exceptions.TransportError) or exc.retryable:
        return TransientError(f"Google's token service could not be reached: {type(exc).__name__}")
    # the message of a refused refresh names the reason (invalid_grant …), never the token
    reason = _oauth_error(exc)
    if isinstance(exc, auth_exceptions.RefreshError) and reason not in OAUTH_REFUSALS:
        # no OAuth refusal (a proxy's 502 page, a status google-auth does not retry): the
        # service failed, the credentials were not refused
        return TransientError(f"Google's token service failed: {reason or 'no OAuth answer'}")
    reason = reason or type(exc).__name__
    return AuthError(f"Google refused the saved authorisation ({reason})", reason=reason)


def _oauth_error(exc: auth_exceptions.GoogleAuthError) -> str | None:
    """The OAuth error code a token service answered with (``invalid_grant`` …), if any."""
    data = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    text = str(exc.args[0]) if exc.args else ""
    return next((code for code in OAUTH_REFUSALS if text.startswith(code)), None)


#: Failures of the connection itself: the request may or may not have reached Google.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
)


@contextlib.contextmanager
def google_errors() -> Iterator[None]:
    """Map every Google, google-auth and transport error raised inside into calsync's tree."""
    try:
        yield
    except HttpError as exc:
        raise error_for(exc) from exc
    except auth_exceptions.GoogleAuthError as exc:
        raise _auth_error(exc) from exc
    except TRANSPORT_ERRORS as exc:
        raise TransientError(f"connection to Google failed: {type(exc).__name__}") from exc

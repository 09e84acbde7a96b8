"""Google's errors become calsync's, by status and reason, in one place."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httplib2
import pytest
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import BatchError, HttpError

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
from calsync.google.errors import error_for, google_errors, retry_after_seconds


def calendar_error(status: int, reason: str, message: str = "msg", **headers: str) -> HttpError:
    body = {
        "error": {
            "errors": [{"domain": "global", "reason": reason, "message": message}],
            "code": status,
            "message": message,
        }
    }
    return _http_error(status, body, headers)


def people_error(
    status: int, rpc_status: str, reason: str | None = None, **headers: str
) -> HttpError:
    error: dict[str, Any] = {"code": status, "message": "msg", "status": rpc_status}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return _http_error(status, {"error": error}, headers)


def _http_error(status: int, body: Any, headers: dict[str, str]) -> HttpError:
    response = httplib2.Response({"status": status, **{k.lower(): v for k, v in headers.items()}})
    response.reason = "Reason"
    return HttpError(response, json.dumps(body).encode(), uri="https://example/x")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (calendar_error(401, "authError"), AuthError),
        (calendar_error(400, "invalid"), InvalidRequest),
        (calendar_error(403, "rateLimitExceeded"), RateLimited),
        (calendar_error(403, "userRateLimitExceeded"), RateLimited),
        (calendar_error(429, "rateLimitExceeded"), RateLimited),
        (calendar_error(403, "quotaExceeded"), QuotaExceeded),
        (calendar_error(403, "forbiddenForNonOrganizer"), PermissionDenied),
        (calendar_error(404, "notFound"), NotFound),
        (calendar_error(409, "duplicate"), AlreadyExists),
        (calendar_error(410, "fullSyncRequired"), SyncTokenExpired),
        (calendar_error(410, "updatedMinTooLongAgo"), SyncTokenExpired),
        (calendar_error(410, "deleted"), NotFound),
        (calendar_error(412, "conditionNotMet"), PreconditionFailed),
        (calendar_error(500, "backendError"), TransientError),
        (calendar_error(503, "backendError"), TransientError),
        (people_error(400, "FAILED_PRECONDITION", "EXPIRED_SYNC_TOKEN"), SyncTokenExpired),
        (people_error(400, "FAILED_PRECONDITION"), PreconditionFailed),
        (people_error(400, "INVALID_ARGUMENT"), InvalidRequest),
        (people_error(404, "NOT_FOUND"), NotFound),
        (people_error(409, "ALREADY_EXISTS"), AlreadyExists),
        (people_error(429, "RESOURCE_EXHAUSTED"), RateLimited),
        (
            people_error(403, "PERMISSION_DENIED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"),
            AccessNotGranted,  # an AuthError that stops only the channel of that API
        ),
        (people_error(410, "FAILED_PRECONDITION"), SyncTokenExpired),
    ],
)
def test_http_errors_map_by_status_and_reason(
    error: HttpError, expected: type[BackendError]
) -> None:
    mapped = error_for(error)

    assert type(mapped) is expected
    assert mapped.status == error.resp.status


def test_the_reason_code_is_kept_and_the_uri_is_not_in_the_message() -> None:
    mapped = error_for(calendar_error(410, "fullSyncRequired", "Sync token is no longer valid"))

    assert mapped.reason == "fullSyncRequired"
    assert "Sync token is no longer valid" in str(mapped)
    assert "https://example" not in str(mapped)


def test_an_error_body_that_is_not_json_maps_by_status() -> None:
    response = httplib2.Response({"status": 502})
    mapped = error_for(HttpError(response, b"<html>Bad gateway</html>"))

    assert type(mapped) is TransientError


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0.5", 0.5), ("Sat, 01 Jan 2031 00:00:30 GMT", 30.0), ("soon", None)],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str, expected: float | None) -> None:
    now = datetime(2031, 1, 1, tzinfo=UTC)

    assert expected == retry_after_seconds(header, now=now)


def test_a_rate_limit_carries_the_servers_retry_after() -> None:
    mapped = error_for(calendar_error(429, "rateLimitExceeded", **{"Retry-After": "12"}))

    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 12.0


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (auth_exceptions.RefreshError("invalid_grant: Token has been revoked."), AuthError),
        (auth_exceptions.RefreshError("invalid_client: x", {"error": "invalid_client"}), AuthError),
        (auth_exceptions.RefreshError("<html>502 Bad Gateway</html>"), TransientError),
        (auth_exceptions.RefreshError("{}", {"error": {"code": 403}}), TransientError),
        (auth_exceptions.RefreshError("temporarily_unavailable", retryable=True), TransientError),
        (auth_exceptions.TransportError("connection refused"), TransientError),
        (ConnectionResetError(104, "reset"), TransientError),
        (TimeoutError("timed out"), TransientError),
        (httplib2.ServerNotFoundError("no such host"), TransientError),
        (BatchError("Response not in multipart/mixed format."), TransientError),
    ],
)
def test_every_failure_leaves_the_boundary_as_a_calsync_error(
    raised: Exception, expected: type[BackendError]
) -> None:
    with pytest.raises(expected) as caught, google_errors():
        raise raised

    assert caught.value.__cause__ is raised


def test_a_refused_refresh_says_invalid_grant_and_never_the_token() -> None:
    secret = "1//secret-refresh-token"
    with pytest.raises(AuthError) as caught, google_errors():
        raise auth_exceptions.RefreshError(f"invalid_grant: bad token {secret}")

    assert caught.value.reason == "invalid_grant"
    assert secret not in str(caught.value)


def test_other_exceptions_pass_through_untouched() -> None:
    with pytest.raises(KeyError), google_errors():
        raise KeyError("a bug, not Google")

"""Google's error bodies, in both shapes the emulated APIs use.

Calendar v3 answers ``{"error": {"errors": [{domain, reason, message, ...}], "code", "message"}}``;
People v1 answers the one-platform shape ``{"error": {"code", "message", "status", "details"}}``
with a ``google.rpc.ErrorInfo`` detail when a machine-readable reason exists.  One
:class:`ApiError` carries what both need and is rendered by the API that raised it.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

logger = logging.getLogger(__name__)

Api = Literal["calendar", "people"]

#: google.rpc.Code names used by one-platform APIs for each HTTP status.
PEOPLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}

#: Google's standard message for each usage-limit reason (G-ERR).
REASON_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "backendError": "Backend Error",
    "notFound": "Not Found",
    "forbidden": "Forbidden",
    "authError": "Invalid Credentials",
}

USAGE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class ApiError(Exception):
    """A Google API error raised by a handler and rendered in the caller API's shape."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        status: str | None = None,
        info_reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.status = status
        self.info_reason = info_reason
        self.headers = dict(headers or {})

    def body(self, api: Api) -> dict[str, Any]:
        """The JSON error body this error has in ``api``."""
        if api == "people":
            return self._people_body()
        return self._calendar_body()

    def _calendar_body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location is not None:
            item["locationType"] = self.location_type or "parameter"
            item["location"] = self.location
        return {"error": {"errors": [item], "code": self.code, "message": self.message}}

    def _people_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": self.status or PEOPLE_STATUS.get(self.code, "UNKNOWN"),
        }
        if self.info_reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.info_reason,
                    "domain": "people.googleapis.com",
                }
            ]
        return {"error": error}


def upper_snake(reason: str) -> str:
    """``userRateLimitExceeded`` -> ``USER_RATE_LIMIT_EXCEEDED`` (ErrorInfo reason style)."""
    out = [f"_{ch}" if ch.isupper() else ch.upper() for ch in reason]
    return "".join(out).lstrip("_")


def reason_error(code: int, reason: str, message: str | None = None) -> ApiError:
    """An error for an arbitrary status and reason, as used by faults and quota."""
    domain = "usageLimits" if reason in USAGE_LIMIT_REASONS else "global"
    text = message or REASON_MESSAGES.get(reason) or reason
    return ApiError(code, reason, text, domain=domain, info_reason=upper_snake(reason))


def not_found(api: Api = "calendar") -> ApiError:
    """404 for a resource (or calendar) the caller cannot see."""
    if api == "people":
        return ApiError(404, "notFound", "Requested entity was not found.")
    return ApiError(404, "notFound", "Not Found")


def bad_request(message: str = "Bad Request", *, location: str | None = None) -> ApiError:
    """400 ``badRequest``."""
    return ApiError(400, "badRequest", message, location=location)


def invalid(message: str, *, location: str | None = None) -> ApiError:
    """400 ``invalid`` (a value Google refuses)."""
    return ApiError(400, "invalid", message, location=location)


class RefusedZone(ApiError):
    """400 ``invalid`` for an event whose ``start``/``end`` ``timeZone`` Google's database
    does not take, one ``errors`` entry per time refused, as Google answered ``Europe/Kyiv``
    in August 2022 (OutlookGoogleCalendarSync issues #1525, #1528, #1530)::

        {"error": {"code": 400, "message": "Invalid time zone definition for start time.",
                   "errors": [{"domain": "global", "reason": "invalid",
                               "message": "Invalid time zone definition for start time."},
                              {… "Invalid time zone definition for end time." …}]}}
    """

    def __init__(self, fields: list[str]) -> None:
        self.messages = [f"Invalid time zone definition for {field} time." for field in fields]
        super().__init__(400, "invalid", self.messages[0])

    def body(self, api: Api) -> dict[str, Any]:
        items = [
            {"domain": self.domain, "reason": self.reason, "message": message}
            for message in self.messages
        ]
        return {"error": {"errors": items, "code": self.code, "message": self.message}}


def required(message: str, *, location: str | None = None) -> ApiError:
    """400 ``required`` (a missing field or parameter)."""
    return ApiError(400, "required", message, location=location)


def invalid_argument(message: str) -> ApiError:
    """People 400 ``INVALID_ARGUMENT``."""
    return ApiError(400, "badRequest", message, status="INVALID_ARGUMENT")


def failed_precondition(message: str, info_reason: str | None = None) -> ApiError:
    """People 400 ``FAILED_PRECONDITION`` (stale etag, expired sync token)."""
    return ApiError(
        400, "failedPrecondition", message, status="FAILED_PRECONDITION", info_reason=info_reason
    )


def duplicate() -> ApiError:
    """409 ``duplicate``: the requested identifier already exists."""
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def already_exists(message: str) -> ApiError:
    """People 409 ``ALREADY_EXISTS``."""
    return ApiError(409, "duplicate", message, status="ALREADY_EXISTS")


def deleted() -> ApiError:
    """410 ``deleted``: deleting an already deleted event."""
    return ApiError(410, "deleted", "Resource has been deleted")


def condition_not_met() -> ApiError:
    """412 ``conditionNotMet`` for a stale ``If-Match``."""
    return ApiError(
        412,
        "conditionNotMet",
        "Precondition Failed",
        location="If-Match",
        location_type="header",
    )


def full_sync_required() -> ApiError:
    """Calendar 410 ``fullSyncRequired`` for an expired sync token."""
    return ApiError(
        410,
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        domain="calendar",
        location="syncToken",
    )


def expired_sync_token() -> ApiError:
    """People 400 ``FAILED_PRECONDITION`` with ErrorInfo reason ``EXPIRED_SYNC_TOKEN``."""
    return failed_precondition(
        "Sync token is expired. Clear local cache and retry call without the sync token.",
        "EXPIRED_SYNC_TOKEN",
    )


def unauthenticated(*, missing: bool) -> ApiError:
    """401: no credentials (``required``) or unknown/expired ones (``authError``)."""
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    if missing:
        return ApiError(
            401,
            "required",
            "Login Required.",
            location="Authorization",
            location_type="header",
            headers=headers,
        )
    return ApiError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers=headers,
    )


def parse_error(api: Api) -> ApiError:
    """400 for a request body that is not valid JSON."""
    if api == "people":
        return invalid_argument("Invalid JSON payload received. Unexpected token.")
    return ApiError(400, "parseError", "Parse Error")


def unknown_field(api: Api, field: str, where: str) -> ApiError:
    """400 for a body field the schema does not have."""
    if api == "people":
        return invalid_argument(
            f"Invalid JSON payload received. Unknown name \"{field}\" at '{where}': "
            "Cannot find field."
        )
    return invalid(f"Invalid field: {where}.{field}" if where else f"Invalid field: {field}")


def unknown_parameter(api: Api, name: str) -> ApiError:
    """400 for a query parameter the method does not have."""
    if api == "people":
        return invalid_argument(
            f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
            f"parameter. Field '{name}' could not be found in request message."
        )
    return ApiError(
        400,
        "invalidParameter",
        f"Unknown parameter: '{name}'",
        location=name,
    )


def invalid_parameter(api: Api, name: str, value: str, detail: str = "") -> ApiError:
    """400 for a query parameter with a value of the wrong type or range."""
    message = f"Invalid value '{value}' for parameter '{name}'.{' ' + detail if detail else ''}"
    if api == "people":
        return invalid_argument(message)
    return ApiError(400, "invalid", message, location=name)


def not_implemented(method_id: str) -> ApiError:
    """501 for a method the emulator knows from discovery but does not emulate."""
    return ApiError(501, "notImplemented", f"The emulator does not implement {method_id}.")


#: The services Google names in a scope error's ``ErrorInfo``.
SERVICES: dict[Api, str] = {
    "calendar": "calendar-json.googleapis.com",
    "people": "people.googleapis.com",
}


class InsufficientScopes(ApiError):
    """403 for a token whose scopes do not cover the method called.

    Google answers it in one shape for both APIs: Calendar's ``errors`` list (reason
    ``insufficientPermissions``) together with the one-platform ``status`` and an
    ``ErrorInfo`` detail whose reason is ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``, plus a
    ``WWW-Authenticate`` header naming the scopes that would do.
    """

    def __init__(self, api: Api, method_id: str, scopes: frozenset[str]) -> None:
        challenge = (
            'Bearer realm="https://accounts.google.com/", error="insufficient_scope", '
            f'scope="{" ".join(sorted(scopes))}"'
        )
        super().__init__(
            403,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
            status="PERMISSION_DENIED",
            info_reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            headers={"WWW-Authenticate": challenge},
        )
        self.service = SERVICES[api]
        self.method = _rpc_method(api, method_id)

    def body(self, api: Api) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [
                    {
                        "message": "Insufficient Permission",
                        "domain": "global",
                        "reason": self.reason,
                    }
                ],
                "status": self.status,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": self.info_reason,
                        "domain": "googleapis.com",
                        "metadata": {"service": self.service, "method": self.method},
                    }
                ],
            }
        }


def _rpc_method(api: Api, method_id: str) -> str:
    """The RPC name Google gives a method in ``ErrorInfo.metadata`` (``calendar.v3.Events.List``;
    for People an approximation, ``google.people.v1.PeopleService.ListConnections``)."""
    parts = [part[:1].upper() + part[1:] for part in method_id.split(".")[1:]]
    if api == "calendar":
        return "calendar.v3." + ".".join(parts)
    return "google.people.v1.PeopleService." + "".join(reversed(parts[1:] or parts))

"""From an HTTP request to a response: admin, OAuth, batch or one API call.

An API call goes through: routing (discovery paths) → counting → authentication → the
token's scopes (:mod:`calsync.testing.emulator.scopes`) → injected faults → quota → query and
body validation → the handler, under the state lock.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import unquote

from calsync.testing.emulator import (  # noqa: F401 (modules that register handlers)
    calendar_list,
    calendars,
    contact_groups,
    event_listing,
    event_transfer,
    events,
    freebusy,
    people,
    push,
    user_settings,
)
from calsync.testing.emulator.admin import ADMIN_PREFIX, AdminEndpoints
from calsync.testing.emulator.batch import format_batch, parse_batch
from calsync.testing.emulator.context import HANDLERS, CallContext
from calsync.testing.emulator.core import EmulatorCore
from calsync.testing.emulator.discovery import (
    BodyValidator,
    MethodSpec,
    calendar_spec,
    parse_query,
    people_spec,
)
from calsync.testing.emulator.errors import (
    Api,
    ApiError,
    invalid_parameter,
    not_found,
    not_implemented,
    parse_error,
    unauthenticated,
)
from calsync.testing.emulator.faults import Fault, Scope
from calsync.testing.emulator.fields import Selection, apply_fields, parse_fields
from calsync.testing.emulator.oauth import authorize_endpoint, revoke_endpoint, token_endpoint
from calsync.testing.emulator.scopes import check_scopes
from calsync.testing.emulator.state import Account
from calsync.testing.emulator.wire import JSON_TYPE, ApiRequest, ApiResponse

logger = logging.getLogger(__name__)

BATCH_PATHS: dict[str, Api] = {"/batch/calendar/v3": "calendar", "/batch": "people"}
AUTH_PATHS = ("/o/oauth2/auth", "/o/oauth2/v2/auth")


class ResetConnection(Exception):
    """Raised to make the server drop the connection without answering."""


def api_of(path: str) -> Api:
    """Which API's error shape a path gets."""
    return "people" if path.startswith("/v1/") or path == "/batch" else "calendar"


def error_response(error: ApiError, api: Api) -> ApiResponse:
    """An ``ApiError`` as an HTTP response in ``api``'s shape."""
    return ApiResponse.json(error.code, error.body(api), error.headers)


class Dispatcher:
    """Serves every request the HTTP server receives."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core
        self.admin = AdminEndpoints(core)
        self._validators = {
            "calendar": BodyValidator(calendar_spec()),
            "people": BodyValidator(people_spec()),
        }

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one top-level HTTP request (``ResetConnection`` for a reset fault)."""
        if request.path.startswith(ADMIN_PREFIX):
            return self.admin.handle(request)
        self.core.counters.count("http_requests")
        failed = self._fault("http", request, None, api_of(request.path))
        if failed is not None:
            return failed
        tokens = self.core.tokens
        if request.path == "/token":
            self.core.counters.count("token_requests")
            return token_endpoint(tokens, request)
        if request.path in AUTH_PATHS:
            return authorize_endpoint(tokens, request)
        if request.path == "/revoke":
            return revoke_endpoint(tokens, request)
        if request.path in BATCH_PATHS and request.method == "POST":
            return self._batch(request, BATCH_PATHS[request.path])
        return self.call(request)

    def _batch(self, request: ApiRequest, api: Api) -> ApiResponse:
        self.core.counters.count("batch_requests")
        try:
            parts = parse_batch(request)
        except ApiError as error:
            return error_response(error, api)
        results = [(part.content_id, self.call(part.request, api)) for part in parts]
        return format_batch(results)

    def _fault(
        self, scope: Scope, request: ApiRequest, spec: MethodSpec | None, api: Api
    ) -> ApiResponse | None:
        fault = self.core.faults.take(
            scope, request.method, request.path, spec.id if spec else None, request.body
        )
        if fault is None:
            return None
        self.core.counters.count("faults_fired")
        return self._apply_fault(fault, api)

    @staticmethod
    def _apply_fault(fault: Fault, api: Api) -> ApiResponse | None:
        if fault.latency:
            time.sleep(fault.latency)
        if fault.reset:
            raise ResetConnection
        if fault.answer is not None:
            headers = {"Content-Type": JSON_TYPE}
            return ApiResponse(200, fault.answer.encode("utf-8", "surrogatepass"), headers)
        error = fault.error()
        return error_response(error, api) if error is not None else None

    def _route(self, request: ApiRequest) -> tuple[MethodSpec, dict[str, str]] | None:
        spec = calendar_spec() if request.path.startswith("/calendar/") else people_spec()
        return spec.match(request.method, request.path)

    def call(self, request: ApiRequest, batch_api: Api | None = None) -> ApiResponse:
        """Answer one API call (a top-level request or one batch part)."""
        routed = self._route(request)
        api = batch_api or api_of(request.path)
        if routed is None or (batch_api is not None and routed[0].api != batch_api):
            return error_response(not_found(api), api)
        spec, raw_path = routed
        self.core.counters.call(spec.id)
        try:
            response = self._call(request, spec, raw_path)
        except ApiError as error:
            response = error_response(error, spec.api)
        self.core.counters.status(response.status)
        return response

    def _call(self, request: ApiRequest, spec: MethodSpec, raw_path: dict[str, str]) -> ApiResponse:
        account = self._authenticate(request)
        path = {name: unquote(value) for name, value in raw_path.items()}
        self._check_scopes(request, spec, account, path)
        failed = self._fault("call", request, spec, spec.api)
        if failed is not None:
            return failed
        self._admit(account, spec)
        params = parse_query(spec, request.query)
        if params.get("alt", "json") != "json":
            raise invalid_parameter(spec.api, "alt", params["alt"], "Only json is served.")
        selection = parse_fields(spec.api, params["fields"]) if params.get("fields") else None
        body = self._body(spec, request)
        handler = HANDLERS.get(spec.id)
        if handler is None:
            raise not_implemented(spec.id)
        context = CallContext(
            self.core.state,
            account,
            spec.api,
            spec.id,
            params,
            path,
            body,
            request.headers,
            request.query,
        )
        with self.core.state.lock:
            result = handler(context)
        return _respond(result, selection)

    def _authenticate(self, request: ApiRequest) -> Account:
        token = request.bearer_token
        if token is None:
            raise unauthenticated(missing=True)
        with self.core.state.lock:
            account = self.core.account_for_token(token)
        if account is None:
            raise unauthenticated(missing=False)
        return account

    def _check_scopes(
        self, request: ApiRequest, spec: MethodSpec, account: Account, path: dict[str, str]
    ) -> None:
        """403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` when the token's scopes do not cover the
        call (an authenticated request has a token)."""
        granted = self.core.tokens.scopes(request.bearer_token or "")
        try:
            with self.core.state.lock:
                check_scopes(granted, spec, account, path)
        except ApiError:
            self.core.counters.count("scope_rejections")
            raise

    def _admit(self, account: Account, spec: MethodSpec) -> None:
        if self.core.quota.admit(account.email, time.monotonic()):
            return
        self.core.counters.count("quota_rejections")
        if spec.api == "people":
            raise ApiError(
                429,
                "rateLimitExceeded",
                "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per "
                "user' of service 'people.googleapis.com'.",
                status="RESOURCE_EXHAUSTED",
                info_reason="RATE_LIMIT_EXCEEDED",
            )
        raise self.core.quota.error()

    def _body(self, spec: MethodSpec, request: ApiRequest) -> Any:
        if spec.request_schema is None or not request.body.strip():
            return None
        try:
            body = json.loads(request.body)
        except ValueError:
            raise parse_error(spec.api) from None
        schema = spec.request_schema
        where = schema[:1].lower() + schema[1:] if spec.api == "people" else ""
        self._validators[spec.api].validate(schema, body, where)
        return body


def _respond(result: dict[str, Any] | ApiResponse, selection: Selection | None) -> ApiResponse:
    if isinstance(result, ApiResponse):
        return result
    headers = {"ETag": str(result["etag"])} if "etag" in result else {}
    return ApiResponse.json(200, apply_fields(result, selection), headers)

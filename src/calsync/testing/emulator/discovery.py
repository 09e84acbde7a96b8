"""Routes, query parameters and body schemas taken from the client's own discovery documents.

The emulator validates every request against the static discovery documents shipped inside
google-api-python-client, so a parameter or body field Google does not know is rejected here
exactly where Google would reject it, and routing matches the paths the client builds.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from attrs import frozen
from googleapiclient.discovery_cache import get_static_doc

from calsync.testing.emulator.errors import (
    Api,
    invalid,
    invalid_argument,
    invalid_parameter,
    unknown_field,
    unknown_parameter,
)

logger = logging.getLogger(__name__)

MAX_SCHEMA_DEPTH = 12


@frozen
class MethodSpec:
    """One discovery method: its id, HTTP verb, path pattern, parameters and the OAuth scopes
    any one of which lets a token call it."""

    id: str
    api: Api
    http_method: str
    pattern: re.Pattern[str]
    query_params: Mapping[str, Mapping[str, Any]]
    request_schema: str | None
    response_schema: str | None
    scopes: frozenset[str] = frozenset()

    @property
    def literal_length(self) -> int:
        """How much of the pattern is literal text (more specific routes win)."""
        return len(re.sub(r"\(\?P<\w+>[^)]*\)", "", self.pattern.pattern))


class ApiSpec:
    """The discovery document of one API, prepared for routing and validation."""

    def __init__(self, api: Api, version: str, prefix: str) -> None:
        doc = json.loads(get_static_doc(api, version))
        self.api: Api = api
        self.schemas: dict[str, Any] = doc["schemas"]
        self._globals: dict[str, Any] = doc.get("parameters", {})
        methods = [self._method(m, prefix) for m in _walk_methods(doc.get("resources", {}))]
        self.methods = sorted(methods, key=lambda m: -m.literal_length)

    def _method(self, method: dict[str, Any], prefix: str) -> MethodSpec:
        path = method.get("flatPath", method["path"])
        regex = _path_regex(path)
        params = {
            name: spec
            for name, spec in method.get("parameters", {}).items()
            if spec.get("location") == "query"
        }
        params.update(self._globals)
        return MethodSpec(
            id=method["id"],
            api=self.api,
            http_method=method["httpMethod"],
            pattern=re.compile(f"^{re.escape(prefix)}{regex}$"),
            query_params=params,
            request_schema=method.get("request", {}).get("$ref"),
            response_schema=method.get("response", {}).get("$ref"),
            scopes=frozenset(method.get("scopes", ())),
        )

    def match(self, http_method: str, path: str) -> tuple[MethodSpec, dict[str, str]] | None:
        """The method serving ``http_method path`` and its raw path parameters, if any."""
        for spec in self.methods:
            if spec.http_method != http_method:
                continue
            found = spec.pattern.match(path)
            if found:
                return spec, found.groupdict()
        return None


def _path_regex(path: str) -> str:
    """``calendars/{calendarId}`` -> a regex with one named group per path parameter."""
    pieces = re.split(r"\{\+?(\w+)\}", path)
    out = [
        re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>[^/:]+)"
        for index, piece in enumerate(pieces)
    ]
    return "".join(out)


def _walk_methods(resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in resources.values():
        yield from resource.get("methods", {}).values()
        yield from _walk_methods(resource.get("resources", {}))


@cache
def calendar_spec() -> ApiSpec:
    """Calendar v3, served under ``/calendar/v3/``."""
    return ApiSpec("calendar", "v3", "/calendar/v3/")


@cache
def people_spec() -> ApiSpec:
    """People v1, served under ``/`` (its paths start with ``v1/``)."""
    return ApiSpec("people", "v1", "/")


def parse_query(spec: MethodSpec, query: dict[str, list[str]]) -> dict[str, Any]:
    """Validate and convert query parameters; unknown names and bad values raise ``ApiError``.

    Returns a dict of name to converted value (a list for repeated parameters).
    """
    parsed: dict[str, Any] = {}
    for name, values in query.items():
        param = spec.query_params.get(name)
        if param is None:
            raise unknown_parameter(spec.api, name)
        converted = [_convert(spec.api, name, param, value) for value in values]
        if param.get("repeated"):
            parsed[name] = converted
        elif len(converted) > 1:
            raise invalid_parameter(spec.api, name, values[-1], "It must not be repeated.")
        else:
            parsed[name] = converted[0]
    return parsed


def _convert(api: Api, name: str, param: Mapping[str, Any], value: str) -> Any:
    kind = param.get("type")
    if kind == "boolean":
        if value not in ("true", "false"):
            raise invalid_parameter(api, name, value, "Expected true or false.")
        return value == "true"
    if kind == "integer":
        return _convert_int(api, name, param, value)
    enum = param.get("enum")
    if enum and value not in enum:
        raise invalid_parameter(api, name, value, f"Allowed values: {', '.join(enum)}.")
    return value


def _convert_int(api: Api, name: str, param: Mapping[str, Any], value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise invalid_parameter(api, name, value, "Expected an integer.") from None
    low, high = param.get("minimum"), param.get("maximum")
    if (low is not None and number < int(low)) or (high is not None and number > int(high)):
        raise invalid_parameter(api, name, value, f"Values must be within [{low}, {high}].")
    return number


class BodyValidator:
    """Checks a JSON body against a discovery schema: known fields and JSON types only."""

    def __init__(self, api_spec: ApiSpec) -> None:
        self._spec = api_spec

    def validate(self, schema_name: str, body: Any, where: str = "") -> None:
        """Raise ``ApiError`` when ``body`` has fields or types ``schema_name`` does not."""
        self._check({"$ref": schema_name}, body, where, 0)

    def _check(self, schema: Mapping[str, Any], value: Any, where: str, depth: int) -> None:
        if value is None or depth > MAX_SCHEMA_DEPTH:
            return
        if "$ref" in schema:
            schema = self._spec.schemas[schema["$ref"]]
        kind = schema.get("type", "any")
        if kind == "object":
            self._check_object(schema, value, where, depth)
        elif kind == "array":
            if not isinstance(value, list):
                raise self._type_error(where, "a list")
            for index, item in enumerate(value):
                self._check(schema.get("items", {}), item, f"{where}[{index}]", depth + 1)
        else:
            self._check_scalar(kind, schema.get("format"), value, where)

    def _check_object(self, schema: Mapping[str, Any], value: Any, where: str, depth: int) -> None:
        if not isinstance(value, dict):
            raise self._type_error(where, "an object")
        props: Mapping[str, Any] | None = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                self._check(props[key], item, _join(where, key), depth + 1)
            elif extra is not None:
                self._check(extra, item, _join(where, key), depth + 1)
            else:
                raise unknown_field(self._spec.api, key, where)

    def _check_scalar(self, kind: str, fmt: str | None, value: Any, where: str) -> None:
        ok = True
        if kind == "string":
            ok = isinstance(value, str) or (fmt in ("int64", "uint64") and _is_int(value))
        elif kind == "boolean":
            ok = isinstance(value, bool)
        elif kind == "integer":
            ok = _is_int(value)
        elif kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise self._type_error(where, f"a {kind}")

    def _type_error(self, where: str, expected: str) -> Exception:
        message = f"Invalid value at '{where}': expected {expected}."
        if self._spec.api == "people":
            return invalid_argument(f"Invalid JSON payload received. {message}")
        return invalid(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

"""Transport-neutral request and response values shared by HTTP and batch parts."""

from __future__ import annotations

import json
import logging
import urllib.parse
from http import HTTPStatus
from typing import Any

import attrs
from attrs import define

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=UTF-8"


@define
class ApiRequest:
    """One HTTP request (top-level or a batch part) with lower-cased header names."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes = b""

    @classmethod
    def from_target(
        cls, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> ApiRequest:
        """Build from a request line target (``/path?query``), honouring method overrides.

        The client turns GETs with URIs over 2048 characters into a form-encoded POST with
        ``x-http-method-override: GET``; such a request is turned back into the GET.
        """
        parts = urllib.parse.urlsplit(target)
        lowered = {k.lower(): v for k, v in headers.items()}
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        override = lowered.get("x-http-method-override", "").upper()
        if override and method.upper() == "POST":
            if lowered.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
                for name, values in form.items():
                    query.setdefault(name, []).extend(values)
                body = b""
            method = override
        return cls(method.upper(), parts.path, query, lowered, body)

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def bearer_token(self) -> str | None:
        """The OAuth access token from ``Authorization: Bearer`` or the query."""
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        for name in ("access_token", "oauth_token"):
            values = self.query.get(name)
            if values and values[0]:
                return values[0]
        return None


@define
class ApiResponse:
    """A response to one request: status, headers and raw body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> ApiResponse:
        """A JSON response (Google pretty-prints by default; compact is just as valid)."""
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        merged = {"Content-Type": JSON_TYPE}
        merged.update(headers or {})
        return cls(status, data, merged)

    @classmethod
    def empty(cls, status: int = 204) -> ApiResponse:
        """A response without a body (``events.delete`` answers 204)."""
        return cls(status, b"", {})

    @property
    def phrase(self) -> str:
        """The reason phrase for the status line."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"

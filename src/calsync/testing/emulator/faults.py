"""Fault injection, the per-user quota and request statistics.

A :class:`Fault` matches API calls (``scope="call"``, each batch part separately) or whole
HTTP requests (``scope="http"``), optionally filtered by HTTP method, discovery method id, a
path regex and a regex searched in the request body (one item's write); it fires for the next
``count`` matches and/or at a ``rate``. The quota counts API calls per account in a sliding
window.
A fault may also answer 200 with a body of the test's choosing (``answer``): a malformed or
hostile answer no real request can make the emulator give (a listing whose page tokens go round,
entries that are ``null``).
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections import Counter, deque
from typing import Any, Literal

import attrs
from attrs import define

from calsync.testing.emulator.errors import ApiError, reason_error

logger = logging.getLogger(__name__)

Scope = Literal["call", "http"]

DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "conflict",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
}


@define
class Fault:
    """One fault rule; see :meth:`GoogleEmulator.inject_fault` for the meaning of fields."""

    status: int | None = None
    reason: str | None = None
    message: str | None = None
    count: int | None = 1
    rate: float | None = None
    method: str | None = None
    api_method: str | None = None
    path: str | None = None
    body: str | None = None
    latency: float = 0.0
    reset: bool = False
    scope: Scope = "call"
    retry_after: int | None = None
    answer: str | None = None
    id: int = 0
    fired: int = 0
    _rng: random.Random = attrs.field(factory=random.Random, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.status is None and not self.latency and not self.reset and self.answer is None:
            raise ValueError("a fault needs a status, an answer, a latency or reset=True")
        if self.status is not None and self.answer is not None:
            raise ValueError("a fault answers with an error status or with an answer, not both")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.rate is not None and self.count == 1:
            self.count = None
        if self.status is not None and self.reason is None:
            self.reason = DEFAULT_REASONS.get(self.status, "backendError")
        if self.scope not in ("call", "http"):
            raise ValueError("scope must be 'call' or 'http'")
        if self.path is not None:
            re.compile(self.path)
        if self.body is not None:
            re.compile(self.body)

    def matches(
        self, scope: Scope, method: str, path: str, api_method: str | None, body: bytes = b""
    ) -> bool:
        """Whether this rule applies to a request, before count and rate."""
        return (
            scope == self.scope
            and (self.method is None or self.method.upper() == method.upper())
            and (self.api_method is None or self.api_method == api_method)
            and (self.path is None or re.search(self.path, path) is not None)
            and (
                self.body is None
                or re.search(self.body, body.decode("utf-8", "replace")) is not None
            )
        )

    def error(self) -> ApiError | None:
        """The error this fault answers with, if it has a status."""
        if self.status is None:
            return None
        error = reason_error(self.status, self.reason or "backendError", self.message)
        if self.retry_after is not None:
            error.headers["Retry-After"] = str(self.retry_after)
        return error

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly description (admin endpoint)."""
        return {k: v for k, v in attrs.asdict(self).items() if not k.startswith("_")}


class FaultSet:
    """The active fault rules, consumed in the order they were injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault, seed: int | None = None) -> Fault:
        """Activate ``fault`` (``seed`` makes a rate-based fault deterministic)."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            if seed is not None:
                fault._rng.seed(seed)
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def active(self) -> list[Fault]:
        """The rules still active."""
        with self._lock:
            return list(self._rules)

    def take(
        self, scope: Scope, method: str, path: str, api_method: str | None, body: bytes = b""
    ) -> Fault | None:
        """The first rule that fires for this request, its count consumed."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(scope, method, path, api_method, body):
                    continue
                if rule.rate is not None and rule._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                return rule
        return None


class Quota:
    """A per-account sliding-window limit on API calls (off when ``calls`` is None)."""

    def __init__(self, calls: int | None, window: float, status: int = 403) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}
        self.configure(calls, window, status)

    def configure(self, calls: int | None, window: float, status: int = 403) -> None:
        """Change the limit; usage recorded so far is forgotten."""
        if status not in (403, 429):
            raise ValueError("quota status must be 403 or 429")
        if window <= 0:
            raise ValueError("window must be positive")
        with self._lock:
            self.calls, self.window, self.status = calls, window, status
            self._seen.clear()

    def admit(self, account: str, now: float) -> bool:
        """Record a call by ``account`` at ``now`` if the window has room; False otherwise."""
        with self._lock:
            if self.calls is None:
                return True
            seen = self._seen.setdefault(account, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.calls:
                return False
            seen.append(now)
            return True

    def error(self) -> ApiError:
        """The error a call over quota answers with (Calendar shape; People renders 429)."""
        if self.status == 429:
            return reason_error(429, "rateLimitExceeded")
        return reason_error(403, "userRateLimitExceeded")


class Stats:
    """Counters of HTTP requests, API calls (per method) and outcomes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._counts: Counter[str] = Counter()
            self._methods: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        """Increment a top-level counter."""
        with self._lock:
            self._counts[name] += amount

    def call(self, method_id: str) -> None:
        """Count one API call of ``method_id``."""
        with self._lock:
            self._counts["api_calls"] += 1
            self._methods[method_id] += 1

    def status(self, code: int) -> None:
        """Count one API call outcome."""
        with self._lock:
            self._statuses[str(code)] += 1

    def snapshot(self) -> dict[str, Any]:
        """``http_requests``, ``api_calls``, ``batch_requests``, ``methods`` and more."""
        with self._lock:
            out: dict[str, Any] = {
                name: self._counts[name]
                for name in (
                    "http_requests",
                    "api_calls",
                    "batch_requests",
                    "token_requests",
                    "faults_fired",
                    "quota_rejections",
                    "scope_rejections",
                )
            }
            out["methods"] = dict(self._methods)
            out["statuses"] = dict(self._statuses)
            return out

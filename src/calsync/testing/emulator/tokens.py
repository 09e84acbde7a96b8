"""Opaque sync and page tokens, and keyset paging that never skips an item.

A sync token encodes (scope, change sequence, epoch, issue time, the time its expiry counts
from[, window]); a page token
encodes the last key served, the high-water sequence of the first page (the future
``nextSyncToken``) and a fingerprint of the other parameters, which must be replayed unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from attrs import frozen

logger = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[Any, ...]

#: Parameters that do not change what a listing returns (ignored by the page fingerprint).
COSMETIC = frozenset({"pageToken", "alt", "prettyPrint", "fields", "quotaUser", "key"})
#: People's sync tokens expire after this long ("7 days after the full sync" for contacts).
PEOPLE_SYNC_TTL = 7 * 24 * 3600.0


def encode(payload: dict[str, Any]) -> str:
    """Serialise a token payload to an opaque URL-safe string."""
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(token: str) -> dict[str, Any] | None:
    """The payload of a token made by :func:`encode`, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def fingerprint(query: dict[str, list[str]]) -> str:
    """A digest of the query parameters that must stay identical across pages."""
    kept = sorted((k, tuple(v)) for k, v in query.items() if k not in COSMETIC)
    return hashlib.sha1(repr(kept).encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


@frozen
class SyncToken:
    """A decoded sync token: ``since`` is when its expiry clock started (its own issue, or
    for People's contacts the full sync its chain of incremental tokens began with)."""

    scope: str
    seq: int
    epoch: int
    issued: float
    window: tuple[str | None, str | None] = (None, None)
    since: float | None = None

    @property
    def started(self) -> float:
        """When the token's expiry clock started."""
        return self.issued if self.since is None else self.since

    def encode(self) -> str:
        """The opaque string form."""
        return encode(
            {
                "k": "s",
                "c": self.scope,
                "s": self.seq,
                "e": self.epoch,
                "t": round(self.issued, 3),
                "f": round(self.started, 3),
                "w": list(self.window),
            }
        )

    @classmethod
    def parse(cls, token: str) -> SyncToken | None:
        """Decode a sync token; None when it is not one of ours."""
        payload = decode(token)
        if not payload or payload.get("k") != "s":
            return None
        try:
            low, high = payload.get("w") or (None, None)
            issued = float(payload["t"])
            return cls(
                str(payload["c"]),
                int(payload["s"]),
                int(payload["e"]),
                issued,
                (low, high),
                float(payload.get("f", issued)),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def expired(self, epoch: int, now: float, ttl: float | None = None) -> bool:
        """Whether the token predates an expiry (``epoch``) or its expiry clock started more
        than ``ttl`` seconds before ``now``."""
        too_old = ttl is not None and now - self.started > ttl
        return self.epoch != epoch or too_old


@frozen
class PageState:
    """What a page token carries."""

    after: Key
    high_water: int
    digest: str

    def encode(self) -> str:
        """The opaque string form."""
        return encode({"k": "p", "a": list(self.after), "h": self.high_water, "f": self.digest})

    @classmethod
    def parse(cls, token: str) -> PageState | None:
        """Decode a page token; None when it is not one of ours."""
        payload = decode(token)
        if not payload or payload.get("k") != "p":
            return None
        try:
            return cls(tuple(payload["a"]), int(payload["h"]), str(payload["f"]))
        except (KeyError, TypeError, ValueError):
            return None


@frozen
class Page:
    """One page of a listing and the key of its last item when more follow."""

    items: list[Any]
    more_after: Key | None


def keyset_page(items: Sequence[T], key: Callable[[T], Key], after: Key | None, size: int) -> Page:
    """The ``size`` items whose key sorts after ``after`` (all keys must be unique)."""
    ordered = sorted(((_comparable(key(item)), item) for item in items), key=lambda p: p[0])
    start = _comparable(after) if after is not None else None
    remaining = [pair for pair in ordered if start is None or pair[0] > start]
    chosen = remaining[:size]
    more = chosen[-1][0] if len(remaining) > size else None
    return Page([item for _, item in chosen], more)


def _comparable(key: Key) -> Key:
    """JSON round-trips turn tuples into lists; make keys compare the same either way."""
    return tuple(tuple(part) if isinstance(part, list) else part for part in key)

"""Deterministic identities shared by the engine and the backends.

A host item's remote event id is derived from the profile (its namespace) and the host id, so
the same item always gets the same id: a create repeated after a crash meets Google's 409 and
is adopted instead of duplicated.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

__all__ = ["creation_token", "event_id_for", "is_event_id"]


def event_id_for(namespace: str, host_id: str) -> str:
    """The deterministic remote event id of a host item: base32hex (``a-v0-9``), 52 chars.

    The same profile and host item always give the same id, so a create repeated after a crash
    hits Google's 409 instead of making a duplicate.
    """
    digest = hashlib.sha256(f"calsync\0{namespace}\0{host_id}".encode()).digest()
    # base32hex of the 256 bits, zero-padded to 260 (as base64.b32hexencode pads), ten bits
    # (two symbols) at a time: the same text as b32hexencode(...).rstrip("=").lower(), in a
    # third of the time (the stdlib's base32 is pure Python)
    number = int.from_bytes(digest) << 4
    return "".join([_SYMBOL_PAIRS[(number >> shift) & 0x3FF] for shift in _PAIR_SHIFTS])


_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
_SYMBOL_PAIRS = tuple(first + second for first in _BASE32HEX for second in _BASE32HEX)
_PAIR_SHIFTS = range(250, -1, -10)


def creation_token(namespace: str, host_id: str, journaled_at: datetime) -> str:
    """The ``made`` token of a contact calsync creates for a host item: derived from the
    create's journaled intent (its time), so the run after a crash can tell the contact that
    create made from a user's copy of an older one, whose marker names the same item.
    """
    moment = journaled_at.astimezone(UTC).isoformat()
    return hashlib.sha256(f"made\0{namespace}\0{host_id}\0{moment}".encode()).hexdigest()[:16]


_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")


def is_event_id(text: str) -> bool:
    """Whether ``text`` may be given as an event id on create (Google's rule: base32hex,
    5 to 1024 characters) — so a deleted event can be re-created under it."""
    return _EVENT_ID.fullmatch(text) is not None

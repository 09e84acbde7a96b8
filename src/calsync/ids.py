"""Deterministic identities shared by the engine and the backends.

A host item's remote event id is derived from the profile (its namespace) and the host id, so
the same item always gets the same id: a create repeated after a crash meets Google's 409 and
is adopted instead of duplicated.
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["event_id_for", "is_event_id"]


def event_id_for(namespace: str, host_id: str) -> str:
    """The deterministic remote event id of a host item: base32hex (``a-v0-9``), 52 chars.

    The same profile and host item always give the same id, so a create repeated after a crash
    hits Google's 409 instead of making a duplicate.
    """
    digest = hashlib.sha256(f"calsync\0{namespace}\0{host_id}".encode()).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")


def is_event_id(text: str) -> bool:
    """Whether ``text`` may be given as an event id on create (Google's rule: base32hex,
    5 to 1024 characters) — so a deleted event can be re-created under it."""
    return _EVENT_ID.fullmatch(text) is not None

"""Deterministic identities shared by the engine and the backends.

A host item's remote event id is derived from the profile (its namespace) and the host id, so
the same item always gets the same id: a create repeated after a crash meets Google's 409 and
is adopted instead of duplicated.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["event_id_for"]


def event_id_for(namespace: str, host_id: str) -> str:
    """The deterministic remote event id of a host item: base32hex (``a-v0-9``), 52 chars.

    The same profile and host item always give the same id, so a create repeated after a crash
    hits Google's 409 instead of making a duplicate.
    """
    digest = hashlib.sha256(f"calsync\0{namespace}\0{host_id}".encode()).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()

"""Synced field values: the base codec and fingerprints.

The *base* of a three-way merge is the field values both sides agreed on at the last sync. It
is stored as canonical JSON (sorted keys, UTC instants) so that a fingerprint — a short digest
of that JSON — changes exactly when the content changes, never with formatting or etags.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import cattrs

from calsync.model import (
    CONTACT_FIELDS,
    EVENT_FIELDS,
    AllDay,
    Channel,
    ContactFields,
    EventFields,
    Timed,
)

__all__ = ["decode_base", "encode_base", "field_names", "fingerprint"]

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda d: d.astimezone(UTC).isoformat())
_converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
_converter.register_unstructure_hook(date, lambda d: d.isoformat())
_converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))


def _structure_when(value: Any, _: Any) -> AllDay | Timed | None:
    if value is None:
        return None
    if "zone" in value:
        return _converter.structure(value, Timed)
    return _converter.structure(value, AllDay)


_converter.register_structure_hook(AllDay | Timed | None, _structure_when)


def field_names(channel: Channel) -> tuple[str, ...]:
    """The synced field names of a channel, in a fixed order."""
    return EVENT_FIELDS if channel is Channel.CALENDAR else CONTACT_FIELDS


def encode_base(fields: EventFields | ContactFields) -> str:
    """Canonical JSON of ``fields``."""
    return json.dumps(_converter.unstructure(fields), sort_keys=True, separators=(",", ":"))


def decode_base(text: str, cls: type[EventFields | ContactFields]) -> Any:
    """The fields stored by :func:`encode_base`."""
    return _converter.structure(json.loads(text), cls)


def fingerprint(fields: EventFields | ContactFields) -> str:
    """A short digest of the canonical form of ``fields``."""
    return hashlib.blake2b(encode_base(fields).encode(), digest_size=12).hexdigest()

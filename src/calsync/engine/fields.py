"""Synced field values: the base codec.

The *base* of a three-way merge is the field values both sides agreed on at the last sync. It
is stored as canonical JSON (sorted keys, UTC instants), so that the encoding of a side's
fields equals the stored base exactly when the content is the same, whatever the formatting
or etags (the planner's "unchanged" test). The
JSON is the one untyped boundary of the engine: :func:`decode_base` turns it back into the
channel's field record at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from json.encoder import encode_basestring_ascii as _json_text
from typing import Any

import attrs
import cattrs

from calsync.engine.records import F, Fields
from calsync.model import AllDay, EventFields, Timed, evolve_fields

__all__ = [
    "decode_base",
    "encode_base",
    "field_names",
    "replace_values",
]

_converter = cattrs.Converter()
_converter.register_unstructure_hook(datetime, lambda d: d.astimezone(UTC).isoformat())
_converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
_converter.register_unstructure_hook(date, lambda d: d.isoformat())
_converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))


#: one encoder for every base (``json.dumps`` with options builds a new one per call)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _structure_when(value: Any, _: Any) -> AllDay | Timed | None:  # JSON boundary
    if value is None:
        return None
    if "zone" in value:
        return _converter.structure(value, Timed)
    return _converter.structure(value, AllDay)


_converter.register_structure_hook(AllDay | Timed | None, _structure_when)


def field_names(cls: type[Fields]) -> tuple[str, ...]:
    """The synced field names of a field record, in a fixed order."""
    return tuple(a.name for a in attrs.fields(cls))


def replace_values(fields: F, changes: Mapping[str, object]) -> F:
    """``fields`` with the named values replaced, each taken from a record of the same type
    (the merge's one untyped step: attrs cannot type a keyword set chosen at run time)."""
    replaced: F = evolve_fields(fields, changes)
    return replaced


def encode_base(fields: Fields) -> str:
    """Canonical JSON of ``fields``."""
    if type(fields) is EventFields:
        return _encode_event_fields(fields)
    return _ENCODER.encode(_converter.unstructure(fields))


def _encode_event_fields(fields: EventFields) -> str:
    """:func:`encode_base` of event fields, written out directly: the same text as the
    general path (sorted keys, no spaces, ASCII escapes; a test holds them equal), in a
    third of the time — every created event's base is encoded."""
    return (
        f'{{"description":{_json_text(fields.description)},'
        f'"location":{_json_text(fields.location)},'
        f'"title":{_json_text(fields.title)},'
        f'"when":{_encode_when(fields.when)}}}'
    )


def _encode_when(when: AllDay | Timed | None) -> str:
    # isoformat() writes only digits and "-:+.T": nothing to escape
    if when is None:
        return "null"
    if isinstance(when, Timed):
        end, start = when.end.astimezone(UTC), when.start.astimezone(UTC)
        return (
            f'{{"end":"{end.isoformat()}","start":"{start.isoformat()}",'
            f'"zone":{_json_text(when.zone)}}}'
        )
    return f'{{"end":"{when.end.isoformat()}","start":"{when.start.isoformat()}"}}'


def decode_base(text: str, cls: type[F]) -> F:
    """The fields stored by :func:`encode_base`."""
    return _converter.structure(json.loads(text), cls)

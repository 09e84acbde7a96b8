"""calsync's ownership marker on the wire (see :class:`calsync.model.Marker`): in
``extendedProperties.private`` of events and in ``clientData`` of contacts, under the keys
:data:`MARKER_PROFILE` and :data:`MARKER_ITEM`, and on a contact calsync created, its ``made``
token under :data:`MARKER_MADE`. Other applications' ``clientData`` entries are kept apart,
to be sent back with an update (Google replaces the whole list).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calsync.google import wire
from calsync.model import Marker

__all__ = [
    "MARKER_ITEM",
    "MARKER_KEYS",
    "MARKER_MADE",
    "MARKER_PROFILE",
    "event_marker",
    "marker_properties",
    "other_client_data",
    "person_marker",
]

#: Keys of the ownership marker (``extendedProperties.private`` / ``clientData``); ≤ 44 chars.
MARKER_PROFILE = "calsyncProfile"
MARKER_ITEM = "calsyncItem"
#: The key of a created contact's ``made`` token (``clientData`` only).
MARKER_MADE = "calsyncMade"
MARKER_KEYS = frozenset((MARKER_PROFILE, MARKER_ITEM, MARKER_MADE))


def _marker(entries: Iterable[tuple[str | None, str | None]]) -> Marker | None:
    found = {key: value for key, value in entries if key in MARKER_KEYS}
    profile, item = found.get(MARKER_PROFILE), found.get(MARKER_ITEM)
    return Marker(profile, item, found.get(MARKER_MADE) or None) if profile and item else None


def event_marker(event: wire.Event) -> Marker | None:
    """The ownership marker of an event, if it carries one."""
    properties = event.extended_properties
    private = properties.private if properties is not None else None
    return _marker(private.items()) if private else None


def marker_properties(marker: Marker | None) -> dict[str, Any]:
    """``extendedProperties`` setting ``marker`` (``None``: removing it, for a patch)."""
    if marker is None:
        return {"private": {MARKER_PROFILE: None, MARKER_ITEM: None}}
    return {"private": {MARKER_PROFILE: marker.namespace, MARKER_ITEM: marker.host_id}}


def person_marker(person: wire.Person) -> Marker | None:
    """The ownership marker of a person, if it carries one."""
    return _marker((entry.key, entry.value) for entry in person.client_data or ())


def other_client_data(person: wire.Person) -> list[wire.ClientData]:
    """The person's ``clientData`` entries that are not calsync's marker."""
    return [entry for entry in person.client_data or () if entry.key not in MARKER_KEYS]

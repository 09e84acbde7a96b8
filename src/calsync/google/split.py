"""Recurring series split in Google: finding the copy that carries our marker.

"Edit this and following events" on a recurring event ends the original series and starts a
new one that copies everything, ``extendedProperties.private`` included — so two series now
claim one host item. The original keeps the marker: it is the one with the engine's
deterministic id for the marker, or else the series that starts first (a split-off copy always
starts later). The copy must lose the marker and become Google's own event:
:func:`repair_split_markers` does that as the listing is read, on the copy's master and on each
of its edited instances (an exception keeps its own copy of the marker when the master loses
it), once: a later listing that meets the copy again finds nothing left to write.

Single (non-recurring) events that share a marker are never treated as copies: only a split
makes a copy, and a split always makes a series, off a series. So nothing is a copy of an item
whose event is a single one: an occurrence of a Google user's series that calsync converted
into a session, deleted in Google and restored as a single event under calsync's id, then
brought back by the Google user (an undo) carries the session's marker on its own; it is the
session's event come back, not a split (the engine settles the two events of one session).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from attrs import frozen

from calsync.backends import RemoteEvent
from calsync.errors import CalsyncError
from calsync.google.calls import PATCH_COST, Caller, pages
from calsync.google.markers import MARKER_ITEM, MARKER_PROFILE, marker_properties
from calsync.ids import event_id_for
from calsync.model import Marker

__all__ = ["SplitCopy", "find_split_copies", "repair_split_markers"]

logger = logging.getLogger(__name__)

#: Page size of the listing that finds what carries a copied marker (Google's maximum).
LIST_PAGE = 2500


@frozen
class SplitCopy:
    """A series (``root`` is its recurring event id) carrying the marker of ``keeper``; the
    ``indices`` of its instances in the listing."""

    root: str
    keeper: str
    marker: Marker
    indices: tuple[int, ...]


def find_split_copies(events: Sequence[RemoteEvent]) -> list[SplitCopy]:
    """The split-off series among ``events`` (one listing, recurring events as instances)."""
    claims: dict[Marker, dict[str, list[int]]] = {}
    for index, event in enumerate(events):
        if event.marker is not None and not event.deleted:
            root = event.series_id or event.id
            claims.setdefault(event.marker, {}).setdefault(root, []).append(index)
    copies: list[SplitCopy] = []
    for marker, roots in claims.items():
        if len(roots) < 2:
            continue
        keeper = _keeper(marker, roots, events)
        if events[roots[keeper][0]].series_id != keeper:
            continue  # nothing splits off a single event (see the module's notes)
        for root, indices in roots.items():
            if root != keeper and events[indices[0]].series_id == root:
                copies.append(SplitCopy(root, keeper, marker, tuple(indices)))
    return copies


def _keeper(marker: Marker, roots: dict[str, list[int]], events: Sequence[RemoteEvent]) -> str:
    own = event_id_for(marker.namespace, marker.host_id)
    if own in roots:
        return own

    def first_start(root: str) -> tuple[datetime, str]:
        starts = [
            fields.when.bounds()[0]
            for fields in (events[i].fields for i in roots[root])
            if fields is not None and fields.when is not None
        ]
        return min(starts, default=datetime.max.replace(tzinfo=UTC)), root

    return min(roots, key=first_start)


def repair_split_markers(
    events_resource: Any,
    caller: Caller,
    calendar_id: str,
    events: list[RemoteEvent],
    warnings: list[str],
    *,
    read_only: bool = False,
) -> list[RemoteEvent]:
    """Take our marker off series split off ours in Google, and list their instances as
    Google's own events. ``read_only`` (a dry run) lists them so without writing the repair.
    ``events_resource`` is the service's ``events()``."""
    for copy in find_split_copies(events):
        if read_only:
            warnings.append(
                f"event {copy.root} was split off event {copy.keeper} in Google; "
                "a real run makes it its own event"
            )
        if read_only or _strip_marker(events_resource, caller, calendar_id, copy, warnings):
            for index in copy.indices:
                events[index] = attrs.evolve(events[index], marker=None)
    return events


def _strip_marker(
    events_resource: Any, caller: Caller, calendar_id: str, copy: SplitCopy, warnings: list[str]
) -> bool:
    root, keeper = copy.root, copy.keeper
    try:
        marked = _marked_parts(events_resource, caller, calendar_id, copy)
        for event_id in marked:
            request = events_resource.patch(
                calendarId=calendar_id,
                eventId=event_id,
                body={"extendedProperties": marker_properties(None)},
                sendUpdates="none",
            )
            caller.execute(request, cost=PATCH_COST)
    except CalsyncError as exc:
        warnings.append(f"event {root} carries the marker of event {keeper}: {exc}")
        return False
    if not marked:
        logger.debug("event %s, split off event %s, no longer carries its marker", root, keeper)
        return True
    message = f"event {root} was split off event {keeper} in Google; it is now its own event"
    logger.info("%s", message)
    warnings.append(message)
    return True


def _marked_parts(
    events_resource: Any, caller: Caller, calendar_id: str, copy: SplitCopy
) -> list[str]:
    """The ids of the copy's master and of its edited instances that still carry the marker.

    An edited instance (an exception) holds its own ``extendedProperties``: taking the marker
    off the master leaves it there, and a listing of instances cannot tell an exception from an
    instance the master makes (patching one of those would make it an exception). A listing
    without ``singleEvents`` returns masters and exceptions only, all of them, whatever their
    time, so one listing filtered by the marker finds exactly what is left to repair; when a
    repair already ran it finds nothing and nothing is written again.
    """
    request = events_resource.list(
        calendarId=calendar_id,
        privateExtendedProperty=f"{MARKER_ITEM}={copy.marker.host_id}",
        maxResults=LIST_PAGE,
    )
    masters: list[str] = []
    exceptions: list[str] = []
    for _, entries in pages(caller.execute, request, events_resource.list_next, "items"):
        for data in entries:
            if not _carries(data, copy.marker):
                continue
            if data.get("id") == copy.root:
                masters.append(copy.root)
            elif data.get("recurringEventId") == copy.root:
                exceptions.append(str(data["id"]))
    return masters + exceptions


def _carries(data: Any, marker: Marker) -> bool:
    private = (data.get("extendedProperties") or {}).get("private") or {}
    return bool(
        data.get("status") != "cancelled"
        and private.get(MARKER_PROFILE) == marker.namespace
        and private.get(MARKER_ITEM) == marker.host_id
    )

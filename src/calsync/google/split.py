"""Recurring series split in Google: finding the copy that carries our marker.

"Edit this and following events" on a recurring event ends the original series and starts a
new one that copies everything, ``extendedProperties.private`` included — so two series now
claim one host item. The original keeps the marker: it is the one with the engine's
deterministic id for the marker, or else the series that starts first (a split-off copy always
starts later). The copy must lose the marker and become Google's own event.

Single (non-recurring) events that share a marker are never treated as copies: only a split
makes a copy, and a split always makes a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from attrs import frozen

from calsync.backends import RemoteEvent
from calsync.ids import event_id_for
from calsync.model import Marker

__all__ = ["SplitCopy", "find_split_copies"]


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

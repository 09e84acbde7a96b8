"""What the planner sees of each side: typed records over a channel's field record.

Every record, snapshot, plan and action is generic over ``F``, the channel's field record
(:class:`~calsync.model.EventFields` for the calendar, :class:`~calsync.model.ContactFields`
for contacts), so mypy follows the fields from the snapshot through the plan to the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Generic, TypeVar

from attrs import field, frozen

from calsync.model import ContactFields, EventFields, Marker, RecordKind

__all__ = ["F", "Fields", "HostRecord", "RemoteRecord", "Snapshot"]

#: Any channel's field record.
Fields = EventFields | ContactFields
#: The field record of one channel.
F = TypeVar("F", EventFields, ContactFields)


@frozen
class HostRecord(Generic[F]):
    """A host item as the planner sees it: ``view`` holds the fields Google should show."""

    id: str
    kind: RecordKind
    view: F
    revision: str | None = None
    updated: datetime | None = None
    replaces: str | None = None
    origin: str | None = None


@frozen
class RemoteRecord(Generic[F]):
    """A remote item as the planner sees it (``view`` is ``None`` for a tombstone).

    ``marker`` is calsync's ownership marker when the item carries a well-formed one;
    ``provably_ours`` says calsync can prove it made the item (its id is the deterministic id
    of the host item its marker names, or a journaled create intent names that host item).
    """

    id: str
    etag: str
    view: F | None
    marker: Marker | None = None
    deleted: bool = False
    updated: datetime | None = None
    in_scope: bool = True
    provably_ours: bool = False


@frozen
class Snapshot(Generic[F]):
    """What the snapshot phase established about both sides.

    Attributes:
        host: host items to consider, by id (all of them, or only changed ones).
        host_deleted: host ids confirmed deleted (by a change feed or a direct read).
        remote: remote items seen, by id, tombstones included.
        forgotten: mapped host ids to drop without touching either side, with the reason
            (they left the window).
        intents: the fields of journaled creates not yet recorded as pairs, by host id: the
            base to adopt such an item with after a crash.
        host_out_of_scope: unmapped host ids that exist but are out of the channel's scope
            (a client not in the sync group), named by the marker of a remote item.
        host_rewound: the host went back in time (:class:`~calsync.sources.HostRewound`):
            what it lost since is no edit nor deletion of the studio's.
        host_reused: host ids (among ``host_deleted``) the host gave a new item of its own
            while the pair of the item it lost under that id stands: the pair's deletion is
            held until the user confirms it, as one a host gone back in time led to.
    """

    host: dict[str, HostRecord[F]]
    host_deleted: frozenset[str] = frozenset()
    remote: Mapping[str, RemoteRecord[F]] = field(factory=dict)
    forgotten: Mapping[str, str] = field(factory=dict)
    intents: Mapping[str, F] = field(factory=dict)
    host_out_of_scope: frozenset[str] = frozenset()
    host_rewound: bool = False
    host_reused: frozenset[str] = frozenset()

"""What one run of a channel shares: its context, the snapshot it takes, the mapping rows it
reads, and the helpers the channel core uses to establish them (see :mod:`.channel`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from attrs import define, field, frozen

from calsync.backends import RemoteContact, RemoteEvent
from calsync.engine.records import F, HostRecord, Snapshot
from calsync.engine.report import SyncReport
from calsync.errors import AuthError, CalendarGone
from calsync.model import Channel, Contact, Marker, RecordKind, ScheduleItem
from calsync.profile import SyncProfile
from calsync.state.base import MappingHead, MappingRow, StateStore

__all__ = [
    "FATAL",
    "ChannelSnapshot",
    "H",
    "HostRead",
    "HostWrite",
    "MappingLoader",
    "Progress",
    "R",
    "RunContext",
    "digest",
    "ids_to_look_up",
    "whole",
]

#: A progress callback: ``(profile_id, channel, done, total)``.
Progress = Callable[[str, str, int, int], None]

#: A channel's host item type.
H = TypeVar("H", ScheduleItem, Contact)
#: A channel's remote item type.
R = TypeVar("R", RemoteEvent, RemoteContact)

#: Errors that concern the whole profile, never one item.
FATAL = (AuthError, CalendarGone)


@define
class RunContext:
    """What every part of one run shares."""

    profile: SyncProfile
    store: StateStore
    report: SyncReport
    now: datetime
    #: remote writes per batch; ``None``: as many as the backend takes (its ``batch_size``)
    batch_size: int | None = None
    #: called as ``progress(profile_id, channel, done, total)`` while actions are applied
    progress: Progress | None = None
    #: a dry run reads and plans, and writes nothing anywhere
    dry_run: bool = False
    #: called before each batch of writes; raises :class:`~calsync.errors.RunStopped` to stop
    #: the run there (a runner that lost the profile's lease)
    checkpoint: Callable[[], None] | None = None

    def go_on(self) -> None:
        """Call the checkpoint, if any: it raises to stop the run here, before more writes."""
        if self.checkpoint is not None:
            self.checkpoint()


@frozen
class ChannelSnapshot(Generic[F]):
    """A snapshot plus what to store once it has been applied.

    ``mapping`` holds the rows the run needs (every row after a full listing of either side;
    with change feeds on both sides, only the rows of the items that changed), and ``mapped``
    counts the rows the channel has in all (asked only by a plan that deletes).
    ``read_failures`` counts items whose read failed: the cursors then stay where they were,
    so the next run looks at those items again.
    """

    snapshot: Snapshot[F]
    host_cursor: str | None
    remote_cursor: str | None
    mapping: Mapping[str, MappingHead]
    mapped: Callable[[], int]
    warnings: tuple[str, ...] = ()
    read_failures: int = 0


class MappingLoader:
    """Reads a channel's mapping rows: the heads of all of them once (cached), or only some
    rows; then the whole rows of the pairs a run acts on (:meth:`complete`)."""

    def __init__(self, store: StateStore, profile_id: str, channel: Channel, *, empty: bool):
        self.store, self.profile_id, self.channel = store, profile_id, channel
        self._all: dict[str, MappingHead] | None = {} if empty else None
        self._whole: bool | None = True if empty else None  # every entry a whole row?

    def all(self) -> dict[str, MappingHead]:
        """Every row's head, by host id (whole rows, from a store that keeps them in memory)."""
        if self._all is None:
            self._all = self.store.mapping_heads(self.profile_id, self.channel)
        return self._all

    def some(self, host_ids: set[str], remote_ids: set[str]) -> dict[str, MappingHead]:
        """The whole rows of those ids."""
        if self._all is not None:
            return self._all
        rows: dict[str, MappingHead] = dict(
            self.store.mappings_of(self.profile_id, self.channel, host_ids, remote_ids)
        )
        self._whole = True
        return rows

    def count(self) -> int:
        """How many rows the channel has in all (counted by the store unless all were read)."""
        if self._all is not None:
            return len(self._all)
        return self.store.count_mappings(self.profile_id, self.channel)

    def complete(
        self,
        mapping: dict[str, MappingHead],
        host_ids: Iterable[str],
        remote_ids: Collection[str] = (),
    ) -> None:
        """Put the whole rows of ``host_ids`` and ``remote_ids`` in ``mapping`` where it holds
        their heads: a run reads the bases of the few pairs it acts on, not of every pair."""
        hosts = [h for h in host_ids if h in mapping and not isinstance(mapping[h], MappingRow)]
        if not hosts and not remote_ids:
            return  # (a quiet run: no look at the other rows either)
        if self._whole is None:
            self._whole = all(isinstance(row, MappingRow) for row in mapping.values())
        if self._whole:
            return
        found = self.store.mappings_of(self.profile_id, self.channel, hosts, remote_ids)
        mapping.update((host_id, row) for host_id, row in found.items() if host_id in mapping)


def whole(row: MappingHead) -> MappingRow:
    """``row`` as the whole row the run read (:meth:`MappingLoader.complete`); a head here
    means the run did not read a row it acts on, which is a bug in calsync."""
    if isinstance(row, MappingRow):
        return row
    raise TypeError(f"the mapping row of {row.host_id} was not read in full")


@frozen
class HostWrite(Generic[F]):
    """The host item after a host write: its id, revision and the view calsync derives."""

    host_id: str
    revision: str | None
    view: F
    kind: RecordKind


@frozen
class HostRead(Generic[F]):
    records: dict[str, HostRecord[F]]
    deleted: set[str]
    cursor: str | None
    complete: bool
    #: mapped items present at the recorded revision: left out of the snapshot, as a change
    #: feed leaves them out (their view is never rendered)
    unchanged: set[str]
    #: unmapped host items a remote item's marker names that exist but that the complete
    #: listing of the scope left out (a client not in the sync group)
    out_of_scope: set[str] = field(factory=set)


class Listed(Protocol):
    """A listed remote item as the mapping look-up sees it (an item or its record)."""

    @property
    def id(self) -> str: ...

    @property
    def marker(self) -> Marker | None: ...


def ids_to_look_up(
    host: Mapping[str, HostRecord[F]], deleted: set[str], remote: Collection[Listed]
) -> tuple[set[str], set[str]]:
    """The host and remote ids whose mapping rows a run over change feeds can touch: the
    changed and deleted host items and the items they replace, the listed remote items, the
    origins of host items, and the host items our (well-formed) markers name."""
    host_ids = set(host) | deleted
    host_ids.update(r.replaces for r in host.values() if r.replaces)
    host_ids.update(
        r.marker.host_id for r in remote if r.marker is not None and r.marker.is_well_formed()
    )
    remote_ids = {r.id for r in remote}
    remote_ids.update(r.origin for r in host.values() if r.origin)
    return host_ids, remote_ids


def digest(*parts: object) -> str:
    """A short stable digest of ``parts`` (for option fingerprints)."""
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

"""What one run of a channel shares: its context, the snapshot it takes, the mapping rows it
reads, and the helpers the channel core uses to establish them (see :mod:`.channel`)."""

from __future__ import annotations

import hashlib
from collections.abc import (
    Callable,
    Collection,
    ItemsView,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    ValuesView,
)
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from attrs import define, field, frozen

from calsync.backends import RemoteContact, RemoteEvent, writes_checked_by
from calsync.engine.records import F, HostRecord, Snapshot
from calsync.engine.report import SyncReport
from calsync.errors import AuthError, CalendarGone, StateUnavailable
from calsync.model import Channel, Contact, Marker, RecordKind, ScheduleItem
from calsync.profile import SyncProfile
from calsync.state.base import MappingHead, MappingRow, StateStore

__all__ = [
    "FATAL",
    "ChannelSnapshot",
    "H",
    "HostRead",
    "HostWrite",
    "LazyHeads",
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

#: Errors that concern the whole profile, never one item: no handler of item failures takes
#: them for one (a state store that takes no writes stops the run where it is).
FATAL = (AuthError, CalendarGone, StateUnavailable)


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
    #: called before each batch of writes, and right before each request a remote write or
    #: listing sends (:meth:`remote_writes`); raises :class:`~calsync.errors.RunStopped` to
    #: stop the run there (a runner that lost the profile's lease)
    checkpoint: Callable[[], None] | None = None

    def go_on(self) -> None:
        """Call the checkpoint, if any: it raises to stop the run here, before more writes."""
        if self.checkpoint is not None:
            self.checkpoint()

    def remote_writes(self) -> AbstractContextManager[None]:
        """A block of remote writes: the backend calls the checkpoint again right before each
        request it sends, after any wait for quota (:func:`~calsync.backends.before_write`),
        so a runner that lost its lease while it waited sends nothing more (the processor's
        checkpoint reads clocks only: no state-store call per request)."""
        return writes_checked_by(self.checkpoint)


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


class LazyHeads(MutableMapping[str, MappingHead]):
    """Every row of a channel by host id, read as it is used. Its keys, size and membership
    are those of the rows' host revisions (all a quiet run with a full host listing asks:
    :meth:`MappingLoader.revisions`); a row asked for by id is read whole, the rows a run
    acts on in one read (:meth:`fetch`); going through all of them reads every row's head."""

    def __init__(
        self,
        store: StateStore,
        profile_id: str,
        channel: Channel,
        revisions: dict[str, str | None],
    ) -> None:
        self.store, self.profile_id, self.channel = store, profile_id, channel
        self._revisions = revisions
        self._rows: dict[str, MappingHead] = {}  # whole rows read so far; then every head
        self._whole_remote: set[str] = set()  # the remote ids of the rows read whole
        self._all = False

    def every(self) -> dict[str, MappingHead]:
        """Every row: its head, or its whole row where that was read (read now, if not yet)."""
        if not self._all:
            self._revisions.clear()  # (the heads hold them: never both in memory at once)
            heads = self.store.mapping_heads(self.profile_id, self.channel)
            heads.update(self._rows)  # (the whole rows already read stay)
            self._rows, self._all = heads, True
        return self._rows

    def fetch(self, host_ids: Iterable[str], remote_ids: Collection[str] = ()) -> None:
        """Read the whole rows of ``host_ids`` and of ``remote_ids`` (by remote id) that are
        not read whole yet, in one read."""
        rows = self._rows
        wanted = [
            host_id
            for host_id in host_ids
            if not isinstance(rows.get(host_id), MappingRow) and host_id in self
        ]
        remote_ids = [r for r in remote_ids if r not in self._whole_remote]  # (read already)
        if not wanted and not remote_ids:
            return
        found = self.store.mappings_of(self.profile_id, self.channel, wanted, remote_ids)
        for host_id, row in found.items():
            if host_id in self and not isinstance(rows.get(host_id), MappingRow):
                rows[host_id] = row
                self._whole_remote.add(row.remote_id)

    def _row(self, host_id: str) -> MappingHead | None:
        row = self._rows.get(host_id)
        if row is None and not self._all and host_id in self._revisions:
            self.fetch([host_id])
            row = self._rows.get(host_id)
        return row

    def __getitem__(self, host_id: str) -> MappingHead:
        row = self._row(host_id)
        if row is None:
            raise KeyError(host_id)
        return row

    def get(self, host_id: str, default: Any = None) -> Any:
        row = self._row(host_id)
        return default if row is None else row

    def __contains__(self, host_id: object) -> bool:
        return host_id in (self._rows if self._all else self._revisions)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows if self._all else self._revisions)

    def __len__(self) -> int:
        return len(self._rows if self._all else self._revisions)

    def __setitem__(self, host_id: str, row: MappingHead) -> None:
        if host_id not in self:
            self.every()  # (a new key: from then on the rows are the keys)
        self._rows[host_id] = row

    def __delitem__(self, host_id: str) -> None:
        del self.every()[host_id]

    def values(self) -> ValuesView[MappingHead]:
        return self.every().values()

    def items(self) -> ItemsView[str, MappingHead]:
        return self.every().items()


class MappingLoader:
    """Reads a channel's mapping rows: the heads of all of them once (cached), or only some
    rows; then the whole rows of the pairs a run acts on (:meth:`complete`). From a store
    that :attr:`~calsync.state.base.StateStore.reads_revisions`, a full host listing reads
    the rows' host revisions first (:meth:`revisions`), and the heads only when used."""

    def __init__(self, store: StateStore, profile_id: str, channel: Channel, *, empty: bool):
        self.store, self.profile_id, self.channel = store, profile_id, channel
        self._all: MutableMapping[str, MappingHead] | None = {} if empty else None
        self._whole: bool | None = True if empty else None  # every entry a whole row?
        self._revisions: dict[str, str | None] | None = None

    def revisions(self) -> Mapping[str, str | None] | None:
        """Every row's host revision, by host id, when the store reads them for less than
        the heads (else ``None``: read the heads)."""
        if self._all is not None or not self.store.reads_revisions:
            return None
        if self._revisions is None:
            self._revisions = self.store.mapping_revisions(self.profile_id, self.channel)
        return self._revisions

    def all(self) -> MutableMapping[str, MappingHead]:
        """Every row's head, by host id (whole rows, from a store that keeps them in memory;
        read at their first use after :meth:`revisions`)."""
        if self._all is None:
            if self._revisions is not None:
                self._all = LazyHeads(self.store, self.profile_id, self.channel, self._revisions)
            else:
                self._all = self.store.mapping_heads(self.profile_id, self.channel)
        return self._all

    def some(self, host_ids: set[str], remote_ids: set[str]) -> MutableMapping[str, MappingHead]:
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
        mapping: MutableMapping[str, MappingHead],
        host_ids: Iterable[str],
        remote_ids: Collection[str] = (),
    ) -> None:
        """Put the whole rows of ``host_ids`` and ``remote_ids`` in ``mapping`` where it holds
        their heads: a run reads the bases of the few pairs it acts on, not of every pair."""
        if isinstance(mapping, LazyHeads):
            mapping.fetch(host_ids, remote_ids)
            return
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
    #: the host went back in time since the cursor (:class:`~calsync.sources.HostRewound`)
    rewound: bool = False


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

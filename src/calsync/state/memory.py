"""An in-memory :class:`~calsync.state.base.StateStore`: for tests, examples and one-shot runs.

Nothing survives the process. Transactions keep an undo log: every write records what it
replaced (table, key, old value), and an exception unwinds the log back to where the (nested)
transaction began, so the cost of a transaction is proportional to what it wrote, not to the
store's size.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import attrs

from calsync.errors import StateError
from calsync.model import Channel
from calsync.state.base import (
    Lease,
    MappingHead,
    MappingRow,
    PendingCreate,
    PushChannel,
    StateStore,
    origin_cursors,
)

__all__ = ["MemoryStateStore"]

logger = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")
_Scope = tuple[str, Channel]
#: one undone write: the table, the key, and the value it held (``None``: none)
_Undo = tuple[dict[Any, Any], Any, Any]


class MemoryStateStore(StateStore):
    """State kept in dictionaries, guarded by one re-entrant lock.

    A transaction holds the lock from start to end: other threads wait for it rather than see
    its writes half done. Nested transactions join the outer one; an exception leaving a nested
    transaction undoes that transaction's writes, and one leaving the outer undoes them all.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._mappings: dict[_Scope, dict[str, MappingRow]] = {}
        self._remote_ids: dict[_Scope, dict[str, str]] = {}  # remote id -> host id
        self._cursors: dict[str, dict[str, str]] = {}
        self._pending: dict[_Scope, dict[str, PendingCreate]] = {}
        self._leases: dict[str, Lease] = {}
        self._push: dict[str, PushChannel] = {}
        self._undo: list[_Undo] | None = None  # set while a transaction runs

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them happen, or none. Nested transactions join the outer one."""
        return _Transaction(self)

    # -- mapping -------------------------------------------------------------------------

    def mappings(self, profile_id: str, channel: Channel) -> dict[str, MappingRow]:
        """All mapping rows of a profile's channel, by host id."""
        with self._lock:
            return dict(self._mappings.get((profile_id, channel), {}))

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        """Every row, by host id: the rows are in memory, so the heads are the whole rows
        (one copy of the table, not the two of the default over :meth:`mappings`)."""
        with self._lock:
            return dict(self._mappings.get((profile_id, channel), {}))

    def mappings_of(
        self,
        profile_id: str,
        channel: Channel,
        host_ids: Collection[str] = (),
        remote_ids: Collection[str] = (),
    ) -> dict[str, MappingRow]:
        """The rows of those host or remote ids, by host id (lookups, no copy of the rest)."""
        scope = (profile_id, channel)
        with self._lock:
            rows = self._mappings.get(scope, {})
            by_remote = self._remote_ids.get(scope, {})
            found = {h: rows[h] for h in host_ids if h in rows}
            found.update((h, rows[h]) for r in remote_ids if (h := by_remote.get(r)) in rows)
            return found

    def count_mappings(self, profile_id: str, channel: Channel) -> int:
        with self._lock:
            return len(self._mappings.get((profile_id, channel), {}))

    def put_mapping(self, row: MappingRow) -> None:
        """Insert or replace the row for ``(profile_id, channel, host_id)``.

        Raises:
            StateError: another host id of the same profile and channel maps ``remote_id``.
        """
        row = _with_utc_synced_at(row)
        scope = (row.profile_id, row.channel)
        with self._lock:  # see _assign
            rows = self._mappings.setdefault(scope, {})
            owners = self._remote_ids.setdefault(scope, {})
            owner = owners.get(row.remote_id)
            if owner is not None and owner != row.host_id:
                raise StateError(
                    f"remote id {row.remote_id!r} of profile {row.profile_id!r} "
                    f"({row.channel.value}) is already mapped to host id {owner!r}"
                )
            previous = rows.get(row.host_id)
            if previous is not None and previous.remote_id != row.remote_id:
                self._assign(owners, previous.remote_id, None)
            self._assign(owners, row.remote_id, row.host_id)
            self._assign(rows, row.host_id, row)

    def delete_mapping(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Remove a row; removing a missing row is not an error."""
        scope = (profile_id, channel)
        with self._lock:  # see _assign
            previous = self._mappings.get(scope, {}).get(host_id)
            if previous is None:
                return
            self._assign(self._remote_ids[scope], previous.remote_id, None)
            self._assign(self._mappings[scope], host_id, None)

    # -- cursors -------------------------------------------------------------------------

    def get_cursor(self, profile_id: str, name: str) -> str | None:
        """The cursor called ``name``, or ``None``."""
        with self._lock:
            return self._cursors.get(profile_id, {}).get(name)

    def set_cursor(self, profile_id: str, name: str, value: str | None) -> None:
        """Store a cursor; ``None`` removes it."""
        with self._lock:  # see _assign
            self._assign(self._cursors.setdefault(profile_id, {}), name, value)

    def set_cursors(self, profile_id: str, values: Mapping[str, str | None]) -> None:
        """Store several cursors (``None`` removes one) under one hold of the lock: no thread
        sees some of them written and not the others."""
        with self._lock:  # see _assign
            cursors = self._cursors.setdefault(profile_id, {})
            for name, value in values.items():
                self._assign(cursors, name, value)

    def set_origins(
        self, profile_id: str, channel: Channel, origins: Mapping[str, str | None]
    ) -> None:
        """Record the origins of several host items at once (see :meth:`set_cursors`)."""
        self.set_cursors(profile_id, origin_cursors(channel, origins))

    # -- pending creates -----------------------------------------------------------------

    def add_pending(self, pending: PendingCreate) -> None:
        """Record the intent to create (replacing an older intent for the same host id)."""
        created_at = _as_utc(pending.created_at)
        if created_at.tzinfo is not pending.created_at.tzinfo:
            pending = attrs.evolve(pending, created_at=created_at)
        with self._lock:  # see _assign
            intents = self._pending.setdefault((pending.profile_id, pending.channel), {})
            self._assign(intents, pending.host_id, pending)

    def pending(self, profile_id: str, channel: Channel) -> dict[str, PendingCreate]:
        """The recorded intents of a profile's channel, by host id."""
        with self._lock:
            return dict(self._pending.get((profile_id, channel), {}))

    def remove_pending(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Drop an intent; dropping a missing one is not an error."""
        with self._lock:  # see _assign
            self._assign(self._pending.get((profile_id, channel), {}), host_id, None)

    # -- leases --------------------------------------------------------------------------

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        """Take or renew the profile's lease for ``ttl`` from ``now``, atomically.

        Returns:
            The lease now held, or ``None`` when another holder's lease is still valid.
        """
        now = _as_utc(now)
        with self.transaction():
            current = self._leases.get(profile_id)
            if current is not None and current.holder != holder and now < current.expires_at:
                logger.debug("lease of %s refused to %s: held by %s", profile_id, holder, current)
                return None
            lease = Lease(profile_id=profile_id, holder=holder, expires_at=now + ttl)
            self._assign(self._leases, profile_id, lease)
            return lease

    def release_lease(self, profile_id: str, holder: str) -> None:
        """Give the lease up, if ``holder`` holds it."""
        with self.transaction():
            current = self._leases.get(profile_id)
            if current is not None and current.holder == holder:
                self._assign(self._leases, profile_id, None)

    def get_lease(self, profile_id: str) -> Lease | None:
        """The profile's lease (possibly expired), or ``None``."""
        with self._lock:
            return self._leases.get(profile_id)

    # -- push channels -------------------------------------------------------------------

    def put_push_channel(self, channel: PushChannel) -> None:
        """Insert or replace the channel with ``channel.channel_id``."""
        confirmed, tried = channel.confirmed_at, channel.stop_tried_at
        channel = attrs.evolve(
            channel,
            expires_at=_as_utc(channel.expires_at),
            created_at=_as_utc(channel.created_at),
            confirmed_at=None if confirmed is None else _as_utc(confirmed),
            stop_tried_at=None if tried is None else _as_utc(tried),
        )
        with self.transaction():
            self._assign(self._push, channel.channel_id, channel)

    def get_push_channel(self, channel_id: str) -> PushChannel | None:
        """The channel with that id (whatever its profile), or ``None``."""
        with self._lock:
            return self._push.get(channel_id)

    def push_channels(self, profile_id: str | None = None) -> list[PushChannel]:
        """The profile's channels (every profile's with ``None``), soonest expiry first."""
        with self._lock:
            found = [c for c in self._push.values() if profile_id in (None, c.profile_id)]
        return sorted(found, key=lambda c: (c.expires_at, c.channel_id))

    def delete_push_channel(self, channel_id: str) -> None:
        """Forget a channel; forgetting a missing one is not an error."""
        with self.transaction():
            self._assign(self._push, channel_id, None)

    # -- whole profile -------------------------------------------------------------------

    def forget_profile(self, profile_id: str) -> None:
        """Drop a profile's mappings, cursors and intents (start over). The lease stays."""
        with self.transaction():
            for channel in Channel:
                scope = (profile_id, channel)
                self._clear(self._mappings.get(scope, {}))
                self._clear(self._remote_ids.get(scope, {}))
                self._clear(self._pending.get(scope, {}))
            self._clear(self._cursors.get(profile_id, {}))
        logger.debug("forgot the state of profile %s", profile_id)

    def profile_ids(self) -> list[str]:
        """Every profile with any mapping row, cursor or pending create."""
        with self._lock:
            with_rows = {profile for (profile, _), rows in self._mappings.items() if rows}
            with_cursors = {profile for profile, cursors in self._cursors.items() if cursors}
            with_pending = {profile for (profile, _), rows in self._pending.items() if rows}
            return sorted(with_rows | with_cursors | with_pending)

    # -- journaled writes ----------------------------------------------------------------

    def _assign(self, table: dict[_K, _V], key: _K, value: _V | None) -> None:
        """Set ``table[key]`` (``None`` deletes it), logging how to undo it in a transaction.

        Called under the lock. A method whose checks all come before its writes (which cannot
        fail) takes the lock alone, not a nested transaction: inside a transaction its writes
        are logged to that transaction all the same, and outside one there is nothing to undo.
        """
        previous = table.get(key)
        _put(table, key, value)
        if self._undo is not None:
            self._undo.append((table, key, previous))

    def _clear(self, table: dict[_K, _V]) -> None:
        for key in list(table):
            self._assign(table, key, None)


def _put(table: dict[_K, _V], key: _K, value: _V | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


class _Transaction:
    """One (possibly nested) transaction of a :class:`MemoryStateStore`: a plain context
    manager, as cheap as a nested one must be (the executor opens one per item)."""

    __slots__ = ("_mark", "_outermost", "_store")

    def __init__(self, store: MemoryStateStore) -> None:
        self._store = store
        self._mark = 0
        self._outermost = False

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        self._outermost = store._undo is None
        if store._undo is None:
            store._undo = []
        self._mark = len(store._undo)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        store = self._store
        try:
            if exc_type is not None and store._undo is not None:
                _unwind(store._undo, self._mark)
        finally:
            if self._outermost:
                store._undo = None
            store._lock.release()


def _unwind(undo: list[_Undo], mark: int) -> None:
    """Undo the writes logged after ``mark``, newest first."""
    while len(undo) > mark:
        table, key, previous = undo.pop()
        _put(table, key, previous)


def _as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. Naive datetimes are refused: their zone is a guess."""
    if moment.tzinfo is UTC:
        return moment
    if moment.utcoffset() is None:
        raise ValueError(f"the state store needs timezone-aware datetimes, not {moment!r}")
    return moment.astimezone(UTC)


def _with_utc_synced_at(row: MappingRow) -> MappingRow:
    synced_at = _as_utc(row.synced_at)
    return (
        row if synced_at.tzinfo is row.synced_at.tzinfo else attrs.evolve(row, synced_at=synced_at)
    )

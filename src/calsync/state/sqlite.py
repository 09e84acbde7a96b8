"""The default :class:`~calsync.state.base.StateStore`: one SQLite file, stdlib ``sqlite3`` only.

* One connection per store, its transactions and its schema: see
  :mod:`calsync.state.sqlite_connection`.
* The lease is a compare-and-set in one upsert: it writes only for the holder or once the
  lease expired, and the row count says whether it did. A file lock says whether its holder's
  process is alive: a lease left by a dead process is taken over at once
  (:mod:`calsync.state.sqlite_liveness`).
* Tables are ``WITHOUT ROWID``, clustered on their primary key: a profile's mapping rows sit
  together, so :meth:`SqliteStateStore.mappings` reads one range instead of 100k lookups.
* Datetimes are stored as fixed-width ISO-8601 UTC text (``2024-05-01T09:30:00.000000+00:00``),
  so text order is time order and the lease check can compare them in SQL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from calsync.model import Channel
from calsync.state.base import (
    Lease,
    MappingHead,
    MappingRow,
    PendingCreate,
    PushChannel,
    StateStore,
    StoredHead,
    origin_cursors,
)
from calsync.state.sqlite_connection import SqliteConnection
from calsync.state.sqlite_liveness import HolderLocks
from calsync.state.sqlite_sql import (
    ACQUIRE_LEASE,
    ADD_PENDING,
    CHUNK,
    DELETE_CURSOR,
    KINDS,
    PUSH_COLUMNS,
    PUT_MAPPING,
    PUT_PUSH_CHANNEL,
    REMOVE_PENDING,
    SELECT_HEADS,
    SELECT_MAPPINGS,
    SELECT_REVISIONS,
    SET_CURSOR,
    TAKE_OVER_LEASE,
    as_utc,
    from_text,
    mapping_params,
    mapping_row,
    pending_params,
    push_channel,
    push_channel_params,
    to_text,
)

__all__ = ["SqliteStateStore"]

logger = logging.getLogger(__name__)


class SqliteStateStore(SqliteConnection, StateStore):
    """State in a SQLite file (or ``":memory:"``, private to this store).

    Args:
        path: the database file; created with the current schema when missing.
        timeout: seconds to wait for another connection's write lock before failing.

    Raises:
        SchemaVersionError: the file was written by a newer calsync.
        StateError: the file cannot be opened or is not a calsync state database.
    """

    reads_revisions = True

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        super().__init__(path, timeout=timeout)
        self._holders = HolderLocks(self._path)

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back) and let go of the lease
        locks this store holds."""
        with self._lock:
            self._holders.unlock_all()
        super().close()

    # -- mapping -------------------------------------------------------------------------

    def mappings(self, profile_id: str, channel: Channel) -> dict[str, MappingRow]:
        """All mapping rows of a profile's channel, by host id."""
        with self._reading() as conn:
            found = conn.execute(SELECT_MAPPINGS, (profile_id, channel.value)).fetchall()
        return {record[0]: mapping_row(profile_id, channel, record) for record in found}

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        """Every row's head, by host id: the bases stay in the file. The rows are taken one
        at a time from the cursor (a list of every row's tuple first would add a third to
        what the run matching a full Google listing holds at its peak)."""
        with self._reading() as conn:
            return {
                host_id: StoredHead(host_id, remote_id, KINDS[kind], revision, etag)
                for host_id, remote_id, kind, revision, etag in conn.execute(
                    SELECT_HEADS, (profile_id, channel.value)
                )
            }

    def mapping_revisions(self, profile_id: str, channel: Channel) -> dict[str, str | None]:
        """Every row's host revision, by host id: two columns, made a dict in C."""
        with self._reading() as conn:
            return dict(conn.execute(SELECT_REVISIONS, (profile_id, channel.value)))

    def mappings_of(
        self,
        profile_id: str,
        channel: Channel,
        host_ids: Collection[str] = (),
        remote_ids: Collection[str] = (),
    ) -> dict[str, MappingRow]:
        """The rows of those host or remote ids, by host id (indexed reads, in chunks)."""
        found: dict[str, MappingRow] = {}
        scope = (profile_id, channel.value)
        with self._reading() as conn:
            for column, ids in (("host_id", list(host_ids)), ("remote_id", list(remote_ids))):
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    marks = ",".join("?" * len(chunk))
                    query = f"{SELECT_MAPPINGS} AND {column} IN ({marks})"
                    for record in conn.execute(query, (*scope, *chunk)):
                        found[record[0]] = mapping_row(profile_id, channel, record)
        return found

    def count_mappings(self, profile_id: str, channel: Channel) -> int:
        with self._reading() as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM mappings WHERE profile_id = ? AND channel = ?",
                (profile_id, channel.value),
            ).fetchone()
        return int(count)

    def put_mapping(self, row: MappingRow) -> None:
        """Insert or replace the row for ``(profile_id, channel, host_id)``.

        Raises:
            StateError: another host id of the same profile and channel maps ``remote_id``.
        """
        params = mapping_params(row)
        with self._writing() as conn:
            conn.execute(PUT_MAPPING, params)

    def put_mappings(self, rows: Sequence[MappingRow]) -> None:
        """Insert or replace several rows in one statement: all of them, or none.

        Raises:
            StateError: one of the rows cannot be put (then none is).
        """
        params = [mapping_params(row) for row in rows]
        with self.transaction():  # a savepoint inside an open transaction: all or none
            self._conn.executemany(PUT_MAPPING, params)

    def delete_mapping(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Remove a row; removing a missing row is not an error."""
        with self._writing() as conn:
            conn.execute(
                "DELETE FROM mappings WHERE profile_id = ? AND channel = ? AND host_id = ?",
                (profile_id, channel.value, host_id),
            )

    # -- cursors -------------------------------------------------------------------------

    def get_cursor(self, profile_id: str, name: str) -> str | None:
        """The cursor called ``name``, or ``None``."""
        with self._reading() as conn:
            found = conn.execute(
                "SELECT value FROM cursors WHERE profile_id = ? AND name = ?", (profile_id, name)
            ).fetchone()
        return None if found is None else str(found[0])

    def get_cursors(self, profile_id: str, names: Collection[str]) -> dict[str, str]:
        """The cursors called ``names`` that exist, by name, in one query."""
        wanted = list(names)
        marks = ",".join("?" * len(wanted))
        with self._reading() as conn:
            found = conn.execute(
                f"SELECT name, value FROM cursors WHERE profile_id = ? AND name IN ({marks})",
                (profile_id, *wanted),
            ).fetchall()
        return {str(name): str(value) for name, value in found}

    def set_cursor(self, profile_id: str, name: str, value: str | None) -> None:
        """Store a cursor; ``None`` removes it."""
        with self._writing() as conn:
            if value is None:
                conn.execute(DELETE_CURSOR, (profile_id, name))
            else:
                conn.execute(SET_CURSOR, (profile_id, name, value))

    def set_cursors(self, profile_id: str, values: Mapping[str, str | None]) -> None:
        """Store several cursors (``None`` removes one) in two statements, the stored and
        the removed: all of them, or none."""
        if not values:
            return
        kept = [(profile_id, name, value) for name, value in values.items() if value is not None]
        dropped = [(profile_id, name) for name, value in values.items() if value is None]
        with self.transaction():  # a savepoint inside an open transaction: all or none
            self._conn.executemany(SET_CURSOR, kept)
            self._conn.executemany(DELETE_CURSOR, dropped)

    def set_origins(
        self, profile_id: str, channel: Channel, origins: Mapping[str, str | None]
    ) -> None:
        """Record the origins of several host items in one write (see :meth:`set_cursors`)."""
        self.set_cursors(profile_id, origin_cursors(channel, origins))

    # -- pending creates -----------------------------------------------------------------

    def add_pending(self, pending: PendingCreate) -> None:
        """Record the intent to create (replacing an older intent for the same host id)."""
        with self._writing() as conn:
            conn.execute(ADD_PENDING, pending_params(pending))

    def pending(self, profile_id: str, channel: Channel) -> dict[str, PendingCreate]:
        """The recorded intents of a profile's channel, by host id."""
        with self._reading() as conn:
            found = conn.execute(
                "SELECT host_id, created_at, base FROM pending"
                " WHERE profile_id = ? AND channel = ?",
                (profile_id, channel.value),
            ).fetchall()
        return {
            host_id: PendingCreate(profile_id, channel, host_id, from_text(created_at), base)
            for host_id, created_at, base in found
        }

    def remove_pending(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Drop an intent; dropping a missing one is not an error."""
        with self._writing() as conn:
            conn.execute(REMOVE_PENDING, (profile_id, channel.value, host_id))

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        """Record several intents in one statement: all of them, or none."""
        params = [pending_params(intent) for intent in intents]
        with self.transaction():
            self._conn.executemany(ADD_PENDING, params)

    def remove_pendings(self, profile_id: str, channel: Channel, host_ids: Collection[str]) -> None:
        """Drop the intents of ``host_ids`` in one statement (missing ones are no error)."""
        params = [(profile_id, channel.value, host_id) for host_id in host_ids]
        with self.transaction():
            self._conn.executemany(REMOVE_PENDING, params)

    # -- leases --------------------------------------------------------------------------

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        """Take or renew the profile's lease for ``ttl`` from ``now``, atomically.

        Atomic across processes: the compare-and-set runs under the file's write lock. The
        holder also locks the profile's lock file first (where ``flock`` exists), so a lease
        whose holder's process has died is taken over before it expires.

        Returns:
            The lease now held, or ``None`` when another holder's lease is still valid.
        """
        now = as_utc(now)
        lease = Lease(profile_id=profile_id, holder=holder, expires_at=now + ttl)
        expires = to_text(lease.expires_at)
        with self._lock:  # (the lock files are kept under the store's lock)
            renewal = self._holders.holds(profile_id, holder)
            try:
                with self._writing() as conn:
                    before = self._holders.lock(profile_id, holder)
                    found = conn.execute(ACQUIRE_LEASE, (profile_id, holder, expires, to_text(now)))
                    taken = found.rowcount == 1
                    if not taken and before:  # the holder's lock was free: its process has ended
                        found = conn.execute(TAKE_OVER_LEASE, (holder, expires, profile_id, before))
                        taken = found.rowcount == 1
                        if taken:
                            logger.info(
                                "lease of %s taken over by %s: its holder %s has ended",
                                profile_id,
                                holder,
                                before,
                            )
            except BaseException:
                # a new lock goes with the lease that was not written; a renewal that failed
                # keeps its lock, for the lease it holds
                if not renewal:
                    self._holders.unlock(profile_id, holder)
                raise
            if not taken:
                self._holders.unlock(profile_id, holder)
        logger.debug("lease of %s %s %s", profile_id, "taken by" if taken else "refused to", holder)
        return lease if taken else None

    def release_lease(self, profile_id: str, holder: str) -> None:
        """Give the lease up, if ``holder`` holds it."""
        with self._writing() as conn:
            conn.execute(
                "DELETE FROM leases WHERE profile_id = ? AND holder = ?", (profile_id, holder)
            )
            self._holders.unlock(profile_id, holder)

    def get_lease(self, profile_id: str) -> Lease | None:
        """The profile's lease (possibly expired), or ``None``."""
        with self._reading() as conn:
            found = conn.execute(
                "SELECT holder, expires_at FROM leases WHERE profile_id = ?", (profile_id,)
            ).fetchone()
        return None if found is None else Lease(profile_id, found[0], from_text(found[1]))

    # -- push channels -------------------------------------------------------------------

    def put_push_channel(self, channel: PushChannel) -> None:
        """Insert or replace the channel with ``channel.channel_id``."""
        params = push_channel_params(channel)
        with self._writing() as conn:
            conn.execute(PUT_PUSH_CHANNEL, params)

    def get_push_channel(self, channel_id: str) -> PushChannel | None:
        """The channel with that id (whatever its profile), or ``None``."""
        with self._reading() as conn:
            found = conn.execute(
                f"SELECT {PUSH_COLUMNS} FROM push_channels WHERE channel_id = ?", (channel_id,)
            ).fetchone()
        return None if found is None else push_channel(found)

    def push_channels(self, profile_id: str | None = None) -> list[PushChannel]:
        """The profile's channels (every profile's with ``None``), soonest expiry first."""
        query = f"SELECT {PUSH_COLUMNS} FROM push_channels"
        params: tuple[str, ...] = ()
        if profile_id is not None:
            query, params = f"{query} WHERE profile_id = ?", (profile_id,)
        with self._reading() as conn:
            found = conn.execute(f"{query} ORDER BY expires_at, channel_id", params).fetchall()
        return [push_channel(record) for record in found]

    def delete_push_channel(self, channel_id: str) -> None:
        """Forget a channel; forgetting a missing one is not an error."""
        with self._writing() as conn:
            conn.execute("DELETE FROM push_channels WHERE channel_id = ?", (channel_id,))

    # -- whole profile -------------------------------------------------------------------

    def forget_profile(self, profile_id: str) -> None:
        """Drop a profile's mappings, cursors and intents (start over). The lease stays."""
        with self.transaction():
            for table in ("mappings", "cursors", "pending"):
                self._conn.execute(f"DELETE FROM {table} WHERE profile_id = ?", (profile_id,))
        logger.debug("forgot the state of profile %s", profile_id)

    def profile_ids(self) -> list[str]:
        """Every profile with any mapping row, cursor or pending create."""
        with self._reading() as conn:
            found = conn.execute(
                "SELECT profile_id FROM mappings UNION SELECT profile_id FROM cursors "
                "UNION SELECT profile_id FROM pending ORDER BY 1"
            ).fetchall()
        return [str(profile_id) for (profile_id,) in found]

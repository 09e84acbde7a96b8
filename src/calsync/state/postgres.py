"""The server's :class:`~calsync.state.base.StateStore`: PostgreSQL through psycopg 3 and a pool.

* **Tenants.** Every row carries the store's ``tenant`` (e.g. the studio): two tenants may use
  the same profile ids and never see each other's state. One schema holds every tenant.
* **Transactions, schema versions and counting**: see
  :mod:`calsync.state.postgres_connection`.
* **Refused writes do not abort.** A remote id already mapped by another host id is checked in
  the same statement as the upsert, so the refusal is an answer, not an SQL error that would
  abort the caller's transaction.
* **Push channels** read inside a transaction are locked until it ends (``FOR UPDATE``): the
  read-then-write of a channel (the watch's answer, Google's confirmation, a stop claimed by
  one process) never undoes, nor races, another process's write of it.
* **Leases** are one conditional upsert: it writes only for the holder or once the lease
  expired, atomically across processes and machines. With ``clock="database"`` (the default)
  the expiry is reckoned by the database's clock (``clock_timestamp()``), so the workers'
  clocks need not agree; ``clock="caller"`` uses the ``now`` the caller passes (tests, and the
  contract suite, which fixes time).
* **Indexes** for millions of mappings: the primary key ``(tenant, profile_id, channel,
  host_id)`` serves a profile's reads as one index range; a unique index on ``remote_id``
  enforces one mapping per remote item.

Each table's SQL sits in its own section below; a new table is a new migration (in
:mod:`calsync.state.postgres_schema`) and a section.
Needs the ``server`` extra (psycopg, psycopg_pool).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from calsync.errors import StateError
from calsync.model import Channel, RecordKind
from calsync.server.database import Database
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
from calsync.state.postgres_connection import PostgresConnection
from calsync.state.postgres_schema import migrate_schema, schema_version
from calsync.state.postgres_sql import (
    ACQUIRE_LEASE,
    ADD_PENDING,
    COUNT_MAPPINGS,
    DELETE_CURSOR,
    DELETE_CURSORS,
    DELETE_MAPPING,
    DELETE_PUSH_CHANNEL,
    FORGET,
    GET_CURSOR,
    GET_CURSORS,
    GET_LEASE,
    GET_PUSH_CHANNEL,
    GET_PUSH_CHANNEL_FOR_UPDATE,
    PROFILE_IDS,
    PUSH_CHANNELS,
    PUT_MAPPING,
    PUT_PUSH_CHANNEL,
    RELEASE_LEASE,
    REMOVE_PENDING,
    SELECT_HEADS,
    SELECT_MAPPINGS,
    SELECT_MAPPINGS_OF,
    SELECT_PENDING,
    SELECT_REVISIONS,
    SET_CURSOR,
)

__all__ = ["PostgresStateStore", "migrate_schema", "schema_version"]

logger = logging.getLogger(__name__)


class PostgresStateStore(PostgresConnection, StateStore):
    """State in a PostgreSQL schema, for one tenant.

    Args:
        database: the pool and schema (:class:`~calsync.server.database.Database`).
        tenant: the namespace of this store's profile ids.
        clock: ``"database"`` to reckon lease expiry by the database's clock, ``"caller"``
            to use the ``now`` passed to :meth:`acquire_lease`.
        migrate: bring the schema up to date first (else it must be: see :meth:`migrate`).

    Raises:
        SchemaVersionError: the schema is older (run ``calsync migrate``) or newer than this
            calsync reads.
        StateError: PostgreSQL failed.
    """

    reads_revisions = True

    def __init__(
        self,
        database: Database,
        *,
        tenant: str = "default",
        clock: Literal["database", "caller"] = "database",
        migrate: bool = False,
    ) -> None:
        self.tenant = tenant
        self.clock = clock
        super().__init__(database, migrate=migrate)

    # -- mappings --------------------------------------------------------------------------

    def mappings(self, profile_id: str, channel: Channel) -> dict[str, MappingRow]:
        """All mapping rows of a profile's channel, by host id (one query)."""
        found = self._rows(SELECT_MAPPINGS, (self.tenant, profile_id, channel.value))
        return {record[0]: _mapping_row(profile_id, channel, record) for record in found}

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        """Every row's head, by host id: the bases stay in the database."""
        found = self._rows(SELECT_HEADS, (self.tenant, profile_id, channel.value))
        return {
            host_id: StoredHead(host_id, remote_id, _KINDS[kind], revision, etag)
            for host_id, remote_id, kind, revision, etag in found
        }

    def mapping_revisions(self, profile_id: str, channel: Channel) -> dict[str, str | None]:
        """Every row's host revision, by host id (two columns)."""
        return dict(self._rows(SELECT_REVISIONS, (self.tenant, profile_id, channel.value)))

    def mappings_of(
        self,
        profile_id: str,
        channel: Channel,
        host_ids: Collection[str] = (),
        remote_ids: Collection[str] = (),
    ) -> dict[str, MappingRow]:
        """The rows of those host or remote ids, by host id (one indexed query)."""
        if not host_ids and not remote_ids:
            return {}
        params = (self.tenant, profile_id, channel.value, list(host_ids), list(remote_ids))
        found = self._rows(SELECT_MAPPINGS_OF, params)
        return {record[0]: _mapping_row(profile_id, channel, record) for record in found}

    def count_mappings(self, profile_id: str, channel: Channel) -> int:
        found = self._rows(COUNT_MAPPINGS, (self.tenant, profile_id, channel.value))
        return int(found[0][0])

    def put_mapping(self, row: MappingRow) -> None:
        """Insert or replace the row for ``(profile_id, channel, host_id)``.

        Raises:
            StateError: another host id of the same profile and channel maps ``remote_id``.
        """
        if self._run(PUT_MAPPING, self._mapping_params(row)) == 0:
            raise StateError(
                f"profile {row.profile_id} {row.channel.value}: remote id {row.remote_id!r} "
                "is mapped by another host id"
            )

    def put_mappings(self, rows: Sequence[MappingRow]) -> None:
        """Insert or replace several rows in one round trip: all of them, or none.

        Raises:
            StateError: one of the rows cannot be put (then none is).
        """
        params = [self._mapping_params(row) for row in rows]
        # a row whose remote id another host id maps is skipped by the upsert (no row changed)
        refused = f"{len(rows)} rows: a remote id among them is mapped by another host id"
        self._run_many(PUT_MAPPING, params, refused=refused)

    def _mapping_params(self, row: MappingRow) -> dict[str, Any]:
        return {
            "tenant": self.tenant, "profile_id": row.profile_id, "channel": row.channel.value,
            "host_id": row.host_id, "remote_id": row.remote_id, "kind": row.kind.value,
            "base": row.base, "host_revision": row.host_revision,
            "remote_etag": row.remote_etag, "synced_at": _as_utc(row.synced_at),
        }  # fmt: skip

    def delete_mapping(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Remove a row; removing a missing row is not an error."""
        self._run(DELETE_MAPPING, (self.tenant, profile_id, channel.value, host_id))

    # -- cursors ---------------------------------------------------------------------------

    def get_cursor(self, profile_id: str, name: str) -> str | None:
        """The cursor called ``name``, or ``None``."""
        found = self._rows(GET_CURSOR, (self.tenant, profile_id, name))
        return None if not found else str(found[0][0])

    def get_cursors(self, profile_id: str, names: Collection[str]) -> dict[str, str]:
        """The cursors called ``names`` that exist, by name, in one query."""
        found = self._rows(GET_CURSORS, (self.tenant, profile_id, list(names)))
        return {str(name): str(value) for name, value in found}

    def set_cursor(self, profile_id: str, name: str, value: str | None) -> None:
        """Store a cursor; ``None`` removes it."""
        if value is None:
            self._run(DELETE_CURSOR, (self.tenant, profile_id, name))
        else:
            self._run(SET_CURSOR, (self.tenant, profile_id, name, value))

    def set_cursors(self, profile_id: str, values: Mapping[str, str | None]) -> None:
        """Store several cursors (``None`` removes one) in one round trip for the stored and
        one statement for the removed: all of them, or none."""
        kept = [(self.tenant, profile_id, n, v) for n, v in values.items() if v is not None]
        dropped = [name for name, value in values.items() if value is None]
        if not dropped:
            self._run_many(SET_CURSOR, kept)  # (its own transaction, or a savepoint)
            return
        with self.transaction():
            self._run_many(SET_CURSOR, kept)
            self._run(DELETE_CURSORS, (self.tenant, profile_id, dropped))

    def set_origins(
        self, profile_id: str, channel: Channel, origins: Mapping[str, str | None]
    ) -> None:
        """Record the origins of several host items in one write (see :meth:`set_cursors`)."""
        self.set_cursors(profile_id, origin_cursors(channel, origins))

    # -- pending creates -------------------------------------------------------------------

    def add_pending(self, pending: PendingCreate) -> None:
        """Record the intent to create (replacing an older intent for the same host id)."""
        self._run(ADD_PENDING, self._pending_params(pending))

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        """Record several intents in one round trip: all of them, or none."""
        self._run_many(ADD_PENDING, [self._pending_params(intent) for intent in intents])

    def _pending_params(self, pending: PendingCreate) -> tuple[Any, ...]:
        return (self.tenant, pending.profile_id, pending.channel.value, pending.host_id,
                _as_utc(pending.created_at), pending.base)  # fmt: skip

    def pending(self, profile_id: str, channel: Channel) -> dict[str, PendingCreate]:
        """The recorded intents of a profile's channel, by host id."""
        found = self._rows(SELECT_PENDING, (self.tenant, profile_id, channel.value))
        return {
            host_id: PendingCreate(profile_id, channel, host_id, created_at.astimezone(UTC), base)
            for host_id, created_at, base in found
        }

    def remove_pending(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Drop an intent; dropping a missing one is not an error."""
        self._run(REMOVE_PENDING, (self.tenant, profile_id, channel.value, host_id))

    def remove_pendings(self, profile_id: str, channel: Channel, host_ids: Collection[str]) -> None:
        """Drop the intents of ``host_ids`` in one round trip (missing ones are no error)."""
        scope = (self.tenant, profile_id, channel.value)
        self._run_many(REMOVE_PENDING, [(*scope, host_id) for host_id in host_ids])

    # -- leases ----------------------------------------------------------------------------

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        """Take or renew the profile's lease for ``ttl``, atomically across machines.

        With ``clock="database"`` the lease runs from the database's clock, not ``now``
        (which must still be aware); the returned lease says until when.

        Returns:
            The lease now held, or ``None`` when another holder's lease is still valid.
        """
        moment = _as_utc(now) if self.clock == "caller" else None
        if self.clock != "caller":
            _as_utc(now)  # naive datetimes are refused either way
        params = {"now": moment, "tenant": self.tenant, "profile_id": profile_id,
                  "holder": holder, "ttl": ttl}  # fmt: skip
        found = self._rows(ACQUIRE_LEASE, params)
        logger.debug("lease of %s %s %s", profile_id, "taken by" if found else "refused to", holder)
        return Lease(profile_id, holder, found[0][0].astimezone(UTC)) if found else None

    def release_lease(self, profile_id: str, holder: str) -> None:
        """Give the lease up, if ``holder`` holds it."""
        self._run(RELEASE_LEASE, (self.tenant, profile_id, holder))

    def get_lease(self, profile_id: str) -> Lease | None:
        """The profile's lease (possibly expired), or ``None``."""
        found = self._rows(GET_LEASE, (self.tenant, profile_id))
        if not found:
            return None
        return Lease(profile_id, found[0][0], found[0][1].astimezone(UTC))

    # -- push channels ---------------------------------------------------------------------

    def put_push_channel(self, channel: PushChannel) -> None:
        """Insert or replace the channel with ``channel.channel_id``."""
        confirmed = None if channel.confirmed_at is None else _as_utc(channel.confirmed_at)
        tried = None if channel.stop_tried_at is None else _as_utc(channel.stop_tried_at)
        params = (self.tenant, channel.channel_id, channel.profile_id, channel.calendar_id,
                  channel.resource_id, channel.token_hash, _as_utc(channel.expires_at),
                  _as_utc(channel.created_at), confirmed, channel.stopping, tried)  # fmt: skip
        self._run(PUT_PUSH_CHANNEL, params)

    def get_push_channel(self, channel_id: str) -> PushChannel | None:
        """The channel with that id (whatever its profile, in this tenant), or ``None``.

        Inside a transaction the row is locked until the transaction ends (``SELECT ... FOR
        UPDATE``): a channel read there to be written back waits for, and then sees, another
        process's write of it, which is thus never lost.
        """
        in_transaction = getattr(self._local, "conn", None) is not None
        query = GET_PUSH_CHANNEL_FOR_UPDATE if in_transaction else GET_PUSH_CHANNEL
        found = self._rows(query, (self.tenant, channel_id))
        return _push_channel(found[0]) if found else None

    def push_channels(self, profile_id: str | None = None) -> list[PushChannel]:
        """The profile's channels, or every profile's of this tenant, soonest expiry first."""
        found = self._rows(PUSH_CHANNELS, {"t": self.tenant, "p": profile_id})
        return [_push_channel(record) for record in found]

    def delete_push_channel(self, channel_id: str) -> None:
        """Forget a channel; forgetting a missing one is not an error."""
        self._run(DELETE_PUSH_CHANNEL, (self.tenant, channel_id))

    # -- whole profile ---------------------------------------------------------------------

    def forget_profile(self, profile_id: str) -> None:
        """Drop a profile's mappings, cursors and intents (start over). The lease stays."""
        with self.transaction():
            for statement in FORGET:
                self._run(statement, (self.tenant, profile_id))
        logger.debug("forgot the state of profile %s", profile_id)

    def profile_ids(self) -> list[str]:
        """Every profile of this tenant with any mapping row, cursor or pending create."""
        return [str(p) for (p,) in self._rows(PROFILE_IDS, {"t": self.tenant})]


def _mapping_row(profile_id: str, channel: Channel, record: Sequence[Any]) -> MappingRow:
    host_id, remote_id, kind, base, revision, etag, synced_at = record
    return MappingRow(
        profile_id, channel, host_id, remote_id, _KINDS[kind], base, revision, etag,
        synced_at.astimezone(UTC),
    )  # fmt: skip


_KINDS = {kind.value: kind for kind in RecordKind}


def _push_channel(record: Sequence[Any]) -> PushChannel:
    channel_id, profile_id, calendar_id, resource_id, token_hash, *times, stopping, tried = record
    expires, created, confirmed = times
    return PushChannel(
        channel_id, profile_id, calendar_id, resource_id, token_hash, expires.astimezone(UTC),
        created.astimezone(UTC), None if confirmed is None else confirmed.astimezone(UTC),
        bool(stopping), None if tried is None else tried.astimezone(UTC),
    )  # fmt: skip


def _as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. Naive datetimes are refused: their zone is a guess."""
    if moment.utcoffset() is None:
        raise ValueError(f"the state store needs timezone-aware datetimes, not {moment!r}")
    return moment.astimezone(UTC)

"""The SQLite store's SQL and the conversions between its columns and calsync's types (see
:mod:`calsync.state.sqlite`). Datetimes are ISO-8601 UTC text; naive ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from calsync.model import Channel, RecordKind
from calsync.state.rows import MappingRow, PendingCreate, PushChannel

__all__ = [
    "ACQUIRE_LEASE",
    "ADD_PENDING",
    "CHUNK",
    "DELETE_CURSOR",
    "KINDS",
    "MAPPING_COLUMNS",
    "PUSH_COLUMNS",
    "PUT_MAPPING",
    "PUT_PUSH_CHANNEL",
    "REMOVE_PENDING",
    "SELECT_HEADS",
    "SELECT_MAPPINGS",
    "SELECT_REVISIONS",
    "SET_CURSOR",
    "TAKE_OVER_LEASE",
    "as_utc",
    "from_text",
    "mapping_params",
    "mapping_row",
    "pending_params",
    "push_channel",
    "push_channel_params",
    "to_text",
]

MAPPING_COLUMNS = "host_id, remote_id, kind, base, host_revision, remote_etag, synced_at"
PUT_MAPPING = f"""
    INSERT INTO mappings (profile_id, channel, {MAPPING_COLUMNS})
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (profile_id, channel, host_id) DO UPDATE SET
        remote_id = excluded.remote_id, kind = excluded.kind, base = excluded.base,
        host_revision = excluded.host_revision, remote_etag = excluded.remote_etag,
        synced_at = excluded.synced_at
"""
SELECT_HEADS = (
    "SELECT host_id, remote_id, kind, host_revision, remote_etag"
    " FROM mappings WHERE profile_id = ? AND channel = ?"
)
SELECT_REVISIONS = (
    "SELECT host_id, host_revision FROM mappings WHERE profile_id = ? AND channel = ?"
)
ADD_PENDING = (
    "INSERT INTO pending (profile_id, channel, host_id, created_at, base) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (profile_id, channel, host_id)"
    " DO UPDATE SET created_at = excluded.created_at, base = excluded.base"
)
REMOVE_PENDING = "DELETE FROM pending WHERE profile_id = ? AND channel = ? AND host_id = ?"
SET_CURSOR = (
    "INSERT INTO cursors (profile_id, name, value) VALUES (?, ?, ?)"
    " ON CONFLICT (profile_id, name) DO UPDATE SET value = excluded.value"
)
DELETE_CURSOR = "DELETE FROM cursors WHERE profile_id = ? AND name = ?"
SELECT_MAPPINGS = f"SELECT {MAPPING_COLUMNS} FROM mappings WHERE profile_id = ? AND channel = ?"
# The lease's compare-and-set: the update only happens for its holder or once it expired.
ACQUIRE_LEASE = """
    INSERT INTO leases (profile_id, holder, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (profile_id) DO UPDATE SET
        holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
"""

#: the lease of a holder whose process has ended (its lock file was free and named it)
TAKE_OVER_LEASE = "UPDATE leases SET holder = ?, expires_at = ? WHERE profile_id = ? AND holder = ?"


PUSH_COLUMNS = (
    "channel_id, profile_id, calendar_id, resource_id, token_hash, expires_at, created_at, "
    "confirmed_at, stopping, stop_tried_at"
)
PUT_PUSH_CHANNEL = (
    f"INSERT OR REPLACE INTO push_channels ({PUSH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def pending_params(pending: PendingCreate) -> tuple[str | None, ...]:
    return (
        pending.profile_id,
        pending.channel.value,
        pending.host_id,
        to_text(pending.created_at),
        pending.base,
    )


def mapping_params(row: MappingRow) -> tuple[str | None, ...]:
    return (
        row.profile_id,
        row.channel.value,
        row.host_id,
        row.remote_id,
        row.kind.value,
        row.base,
        row.host_revision,
        row.remote_etag,
        to_text(row.synced_at),
    )


def mapping_row(profile_id: str, channel: Channel, record: tuple[Any, ...]) -> MappingRow:
    """A row from the columns of ``SELECT_MAPPINGS``, in order."""
    # Positional, in MappingRow's field order: measurably faster for 100k rows than keywords.
    host_id, remote_id, kind, base, revision, etag, synced_at = record
    return MappingRow(
        profile_id, channel, host_id, remote_id, KINDS[kind], base, revision, etag,
        from_text(synced_at),
    )  # fmt: skip


KINDS = {kind.value: kind for kind in RecordKind}
#: ids per ``IN (...)`` list (SQLite allows 32766 parameters; smaller chunks plan better)
CHUNK = 500


def push_channel(record: tuple[Any, ...]) -> PushChannel:
    """A channel from the columns of ``PUSH_COLUMNS``, in order."""
    channel_id, profile_id, calendar_id, resource_id, token_hash, *times, stopping, tried = record
    expires, created, confirmed = times
    return PushChannel(
        channel_id,
        profile_id,
        calendar_id,
        resource_id,
        token_hash,
        from_text(expires),
        from_text(created),
        None if confirmed is None else from_text(confirmed),
        bool(stopping),
        None if tried is None else from_text(tried),
    )


def push_channel_params(channel: PushChannel) -> tuple[str | int | None, ...]:
    """The columns of ``PUSH_COLUMNS`` for ``channel``, in order."""
    confirmed, tried = channel.confirmed_at, channel.stop_tried_at
    return (
        channel.channel_id,
        channel.profile_id,
        channel.calendar_id,
        channel.resource_id,
        channel.token_hash,
        to_text(channel.expires_at),
        to_text(channel.created_at),
        None if confirmed is None else to_text(confirmed),
        int(channel.stopping),
        None if tried is None else to_text(tried),
    )


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. Naive datetimes are refused: their zone is a guess."""
    if moment.utcoffset() is None:
        raise ValueError(f"the state store needs timezone-aware datetimes, not {moment!r}")
    return moment.astimezone(UTC)


@lru_cache(maxsize=64)
def to_text(moment: datetime) -> str:
    """``moment`` as stored: fixed-width ISO-8601 UTC text. Cached: the rows a run writes
    share its time (an initial sync writes it 100,000 times)."""
    return as_utc(moment).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)

"""The PostgreSQL store's SQL, one statement per operation, each scoped to a tenant (see
:mod:`calsync.state.postgres`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

__all__ = [
    "ACQUIRE_LEASE",
    "ADD_PENDING",
    "COUNT_MAPPINGS",
    "DELETE_CURSOR",
    "DELETE_CURSORS",
    "DELETE_MAPPING",
    "DELETE_PUSH_CHANNEL",
    "FORGET",
    "GET_CURSOR",
    "GET_CURSORS",
    "GET_LEASE",
    "GET_PUSH_CHANNEL",
    "GET_PUSH_CHANNEL_FOR_UPDATE",
    "PROFILE_IDS",
    "PUSH_CHANNELS",
    "PUSH_COLUMNS",
    "PUT_MAPPING",
    "PUT_PUSH_CHANNEL",
    "RELEASE_LEASE",
    "REMOVE_PENDING",
    "SELECT_HEADS",
    "SELECT_MAPPINGS",
    "SELECT_MAPPINGS_OF",
    "SELECT_PENDING",
    "SELECT_REVISIONS",
    "SET_CURSOR",
]

# -- mappings ----------------------------------------------------------------------------

SELECT_MAPPINGS: LiteralString = (
    "SELECT host_id, remote_id, kind, base, host_revision, remote_etag, synced_at"
    " FROM mappings WHERE tenant = %s AND profile_id = %s AND channel = %s"
)
SELECT_HEADS: LiteralString = (
    "SELECT host_id, remote_id, kind, host_revision, remote_etag"
    " FROM mappings WHERE tenant = %s AND profile_id = %s AND channel = %s"
)
SELECT_REVISIONS: LiteralString = (
    "SELECT host_id, host_revision"
    " FROM mappings WHERE tenant = %s AND profile_id = %s AND channel = %s"
)
SELECT_MAPPINGS_OF: LiteralString = (
    SELECT_MAPPINGS + " AND (host_id = ANY(%s) OR remote_id = ANY(%s))"
)
COUNT_MAPPINGS: LiteralString = (
    "SELECT count(*) FROM mappings WHERE tenant = %s AND profile_id = %s AND channel = %s"
)
# The upsert, unless another host id of the profile's channel maps the remote id: then no row
# is written (rowcount 0) and the caller's transaction goes on.
PUT_MAPPING: LiteralString = """
    INSERT INTO mappings (tenant, profile_id, channel, host_id, remote_id, kind, base,
        host_revision, remote_etag, synced_at)
    SELECT %(tenant)s, %(profile_id)s, %(channel)s, %(host_id)s, %(remote_id)s, %(kind)s,
        %(base)s, %(host_revision)s, %(remote_etag)s, %(synced_at)s
    WHERE NOT EXISTS (
        SELECT 1 FROM mappings WHERE tenant = %(tenant)s AND profile_id = %(profile_id)s
        AND channel = %(channel)s AND remote_id = %(remote_id)s AND host_id <> %(host_id)s)
    ON CONFLICT (tenant, profile_id, channel, host_id) DO UPDATE SET
        remote_id = excluded.remote_id, kind = excluded.kind, base = excluded.base,
        host_revision = excluded.host_revision,
        remote_etag = excluded.remote_etag, synced_at = excluded.synced_at
"""
DELETE_MAPPING: LiteralString = (
    "DELETE FROM mappings WHERE tenant = %s AND profile_id = %s AND channel = %s AND host_id = %s"
)

# -- cursors -----------------------------------------------------------------------------

GET_CURSOR: LiteralString = (
    "SELECT value FROM cursors WHERE tenant = %s AND profile_id = %s AND name = %s"
)
GET_CURSORS: LiteralString = (
    "SELECT name, value FROM cursors WHERE tenant = %s AND profile_id = %s AND name = ANY(%s)"
)
SET_CURSOR: LiteralString = (
    "INSERT INTO cursors (tenant, profile_id, name, value) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (tenant, profile_id, name) DO UPDATE SET value = excluded.value"
)
DELETE_CURSOR: LiteralString = (
    "DELETE FROM cursors WHERE tenant = %s AND profile_id = %s AND name = %s"
)
DELETE_CURSORS: LiteralString = (
    "DELETE FROM cursors WHERE tenant = %s AND profile_id = %s AND name = ANY(%s)"
)

# -- pending creates ---------------------------------------------------------------------

ADD_PENDING: LiteralString = (
    "INSERT INTO pending (tenant, profile_id, channel, host_id, created_at, base)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant, profile_id, channel, host_id)"
    " DO UPDATE SET created_at = excluded.created_at, base = excluded.base"
)
SELECT_PENDING: LiteralString = (
    "SELECT host_id, created_at, base FROM pending WHERE tenant = %s AND profile_id = %s"
    " AND channel = %s"
)
REMOVE_PENDING: LiteralString = (
    "DELETE FROM pending WHERE tenant = %s AND profile_id = %s AND channel = %s AND host_id = %s"
)

# -- leases ------------------------------------------------------------------------------

# ``%(now)s`` is the caller's instant, or NULL for the database's clock.
ACQUIRE_LEASE: LiteralString = """
    WITH clock AS (SELECT coalesce(%(now)s::timestamptz, clock_timestamp()) AS now)
    INSERT INTO leases AS l (tenant, profile_id, holder, expires_at)
    SELECT %(tenant)s, %(profile_id)s, %(holder)s, clock.now + %(ttl)s FROM clock
    ON CONFLICT (tenant, profile_id) DO UPDATE SET
        holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.holder = excluded.holder
        OR l.expires_at <= (SELECT now FROM clock)
    RETURNING l.expires_at
"""
RELEASE_LEASE: LiteralString = (
    "DELETE FROM leases WHERE tenant = %s AND profile_id = %s AND holder = %s"
)
GET_LEASE: LiteralString = (
    "SELECT holder, expires_at FROM leases WHERE tenant = %s AND profile_id = %s"
)

# -- push channels -----------------------------------------------------------------------

PUSH_COLUMNS: LiteralString = (
    "channel_id, profile_id, calendar_id, resource_id, token_hash, expires_at, created_at,"
    " confirmed_at, stopping, stop_tried_at"
)
PUT_PUSH_CHANNEL: LiteralString = """
    INSERT INTO push_channels (tenant, channel_id, profile_id, calendar_id, resource_id,
        token_hash, expires_at, created_at, confirmed_at, stopping, stop_tried_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (tenant, channel_id) DO UPDATE SET
        profile_id = excluded.profile_id, calendar_id = excluded.calendar_id,
        resource_id = excluded.resource_id, token_hash = excluded.token_hash,
        expires_at = excluded.expires_at, created_at = excluded.created_at,
        confirmed_at = excluded.confirmed_at, stopping = excluded.stopping,
        stop_tried_at = excluded.stop_tried_at
"""
GET_PUSH_CHANNEL: LiteralString = (
    "SELECT " + PUSH_COLUMNS + " FROM push_channels WHERE tenant = %s AND channel_id = %s"
)
# Inside a transaction: the row stays locked until it ends, so a channel read to be written
# back (the watch's answer, Google's confirmation, a stop claimed) never undoes another's write.
GET_PUSH_CHANNEL_FOR_UPDATE: LiteralString = GET_PUSH_CHANNEL + " FOR UPDATE"
PUSH_CHANNELS: LiteralString = (
    "SELECT " + PUSH_COLUMNS + " FROM push_channels WHERE tenant = %(t)s"
    " AND (%(p)s::text IS NULL OR profile_id = %(p)s) ORDER BY expires_at, channel_id"
)
DELETE_PUSH_CHANNEL: LiteralString = (
    "DELETE FROM push_channels WHERE tenant = %s AND channel_id = %s"
)

# -- whole profile -----------------------------------------------------------------------

FORGET: Sequence[LiteralString] = (
    "DELETE FROM mappings WHERE tenant = %s AND profile_id = %s",
    "DELETE FROM cursors WHERE tenant = %s AND profile_id = %s",
    "DELETE FROM pending WHERE tenant = %s AND profile_id = %s",
)
PROFILE_IDS: LiteralString = (
    "SELECT profile_id FROM mappings WHERE tenant = %(t)s"
    " UNION SELECT profile_id FROM cursors WHERE tenant = %(t)s"
    " UNION SELECT profile_id FROM pending WHERE tenant = %(t)s ORDER BY 1"
)

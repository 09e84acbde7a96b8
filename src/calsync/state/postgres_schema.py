"""The PostgreSQL state store's schema: its versions and the migrations between them.

``meta`` records the version. ``_MIGRATIONS[n]`` holds the statements that bring a schema from
version ``n`` to ``n + 1``; :func:`migrate_schema` applies them in one transaction under an
advisory lock (``calsync migrate``, :meth:`PostgresStateStore.migrate
<calsync.state.postgres.PostgresStateStore.migrate>`). A new table or index is a new entry,
never an edit of a released one.
Needs the ``server`` extra (psycopg).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import LiteralString

from calsync.errors import SchemaVersionError
from calsync.server.database import Database

__all__ = ["SCHEMA_VERSION", "migrate_schema", "schema_version"]

logger = logging.getLogger(__name__)

_META = "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)"

#: ``_MIGRATIONS[n]``: the statements that bring the schema from version ``n`` to ``n + 1``.
_MIGRATIONS: Sequence[Sequence[LiteralString]] = (
    (  # version 1
        """CREATE TABLE mappings (
            tenant text NOT NULL,
            profile_id text NOT NULL,
            channel text NOT NULL,
            host_id text NOT NULL,
            remote_id text NOT NULL,
            kind text NOT NULL,
            base text NOT NULL,
            host_fingerprint text NOT NULL,
            remote_fingerprint text NOT NULL,
            host_revision text,
            remote_etag text,
            synced_at timestamptz NOT NULL,
            PRIMARY KEY (tenant, profile_id, channel, host_id)
        )""",
        "CREATE UNIQUE INDEX mappings_remote_id"
        " ON mappings (tenant, profile_id, channel, remote_id)",
        """CREATE TABLE cursors (
            tenant text NOT NULL,
            profile_id text NOT NULL,
            name text NOT NULL,
            value text NOT NULL,
            PRIMARY KEY (tenant, profile_id, name)
        )""",
        """CREATE TABLE pending (
            tenant text NOT NULL,
            profile_id text NOT NULL,
            channel text NOT NULL,
            host_id text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (tenant, profile_id, channel, host_id)
        )""",
        """CREATE TABLE leases (
            tenant text NOT NULL,
            profile_id text NOT NULL,
            holder text NOT NULL,
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (tenant, profile_id)
        )""",
    ),
    (  # version 2: one fingerprint per mapping row; the written base kept with an intent
        "ALTER TABLE mappings RENAME COLUMN host_fingerprint TO fingerprint",
        "ALTER TABLE mappings DROP COLUMN remote_fingerprint",
        "ALTER TABLE pending ADD COLUMN base text",
    ),
    (  # version 3: push-notification channels, found by channel id or by profile
        """CREATE TABLE push_channels (
            tenant text NOT NULL,
            channel_id text NOT NULL,
            profile_id text NOT NULL,
            calendar_id text NOT NULL,
            resource_id text NOT NULL,
            token_hash text NOT NULL,
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            confirmed_at timestamptz,
            PRIMARY KEY (tenant, channel_id)
        )""",
        "CREATE INDEX push_channels_by_profile ON push_channels (tenant, profile_id, expires_at)",
    ),
    (  # version 4: no fingerprint (the planner compares the base itself)
        "ALTER TABLE mappings DROP COLUMN fingerprint",
    ),
    (  # version 5: a channel being stopped says so, and when its stop was last tried, in its
        # row (every process keeps to one stop per retry interval); a blank token hash marked
        # it before: such a row becomes a stopping row, its stop due at once
        "ALTER TABLE push_channels ADD COLUMN stopping boolean NOT NULL DEFAULT false",
        "ALTER TABLE push_channels ADD COLUMN stop_tried_at timestamptz",
        "UPDATE push_channels SET stopping = true WHERE token_hash = ''",
    ),
)

#: The version this calsync reads and writes.
SCHEMA_VERSION = len(_MIGRATIONS)


def schema_version(database: Database) -> int:
    """The version of ``database``'s schema; 0 for a schema without calsync's tables."""
    with database.transaction() as conn:
        exists = database.execute(conn, "SELECT to_regclass('meta') IS NOT NULL").fetchone()
        if exists is None or not exists[0]:
            return 0
        found = database.execute(
            conn, "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
    return int(found[0]) if found else 0


def migrate_schema(database: Database, target: int | None = None) -> int:
    """Bring ``database``'s schema to ``target`` (default: this calsync's version), one
    migration at a time, all in one transaction, under an advisory lock so that concurrent
    migrators wait for each other; returns the version reached.

    Raises:
        SchemaVersionError: the schema is newer than this calsync reads.
        StateError: PostgreSQL failed (nothing was changed).
    """
    target = SCHEMA_VERSION if target is None else target
    database.ensure_schema()
    with database.transaction() as conn:
        database.execute(conn, "SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
        database.execute(conn, _META)
        found = database.execute(
            conn, "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        version = int(found[0]) if found else 0
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"state schema {database.schema!r} has version {version}, newer than version "
                f"{SCHEMA_VERSION} this calsync reads; upgrade calsync"
            )
        for step in range(version, target):
            for statement in _MIGRATIONS[step]:
                database.execute(conn, statement)
            logger.info("state schema %s migrated to version %d", database.schema, step + 1)
        reached = max(version, target)
        database.execute(
            conn,
            "INSERT INTO meta (key, value) VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(reached),),
        )
    return reached

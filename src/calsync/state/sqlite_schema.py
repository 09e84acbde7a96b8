"""The SQLite state store's schema: its versions and the migrations between them.

``MIGRATIONS[n]`` brings a file from schema version ``n`` to ``n + 1`` (version 0 is an empty
file); :class:`~calsync.state.sqlite.SqliteStateStore` applies them in one transaction when it
opens a file. Version 2 made one fingerprint per mapping row; version 3 added the
``push_channels`` table; version 4 dropped the fingerprint (the planner compares the base). A
new table or column is a new migration, never an edit of a released one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

__all__ = ["MIGRATIONS", "Migration"]

Migration = Callable[[sqlite3.Connection], None]

_SCHEMA_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE mappings (
        profile_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        host_id TEXT NOT NULL,
        remote_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        base TEXT NOT NULL,
        host_fingerprint TEXT NOT NULL,
        remote_fingerprint TEXT NOT NULL,
        host_revision TEXT,
        remote_etag TEXT,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, channel, host_id),
        UNIQUE (profile_id, channel, remote_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE cursors (
        profile_id TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (profile_id, name)
    ) WITHOUT ROWID""",
    """CREATE TABLE pending (
        profile_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        host_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (profile_id, channel, host_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE leases (
        profile_id TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID""",
)


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)


def _one_fingerprint_v2(conn: sqlite3.Connection) -> None:
    """Version 2: the two fingerprint columns (always equal) become one, ``fingerprint``;
    create intents keep the fields being written."""
    conn.execute("ALTER TABLE mappings RENAME COLUMN host_fingerprint TO fingerprint")
    conn.execute("ALTER TABLE mappings DROP COLUMN remote_fingerprint")
    conn.execute("ALTER TABLE pending ADD COLUMN base TEXT")


# Version 3: push-notification channels, found by channel id (notifications) or by profile.
_SCHEMA_V3 = (
    """CREATE TABLE push_channels (
        channel_id TEXT PRIMARY KEY,
        profile_id TEXT NOT NULL,
        calendar_id TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        confirmed_at TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX push_channels_by_profile ON push_channels (profile_id, expires_at)",
)


def _add_push_channels(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V3:
        conn.execute(statement)


def _no_fingerprint_v4(conn: sqlite3.Connection) -> None:
    """Version 4: no fingerprint column (the planner compares the base itself)."""
    conn.execute("ALTER TABLE mappings DROP COLUMN fingerprint")


MIGRATIONS: Sequence[Migration] = (
    _create_v1,
    _one_fingerprint_v2,
    _add_push_channels,
    _no_fingerprint_v4,
)

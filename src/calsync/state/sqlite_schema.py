"""The SQLite state store's schema: its versions and the migrations between them.

``MIGRATIONS[n]`` brings a file from schema version ``n`` to ``n + 1`` (version 0 is an empty
file); :class:`~calsync.state.sqlite.SqliteStateStore` applies them in one transaction when it
opens a file. Version 2 made one fingerprint per mapping row; version 3 added the
``push_channels`` table; version 4 dropped the fingerprint (the planner compares the base);
version 5 records a push channel being stopped in its row (``stopping``, ``stop_tried_at``). A
new table or column is a new migration, never an edit of a released one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from calsync.errors import StateError

__all__ = ["MIGRATIONS", "Migration", "enable_wal", "stored_version"]

logger = logging.getLogger(__name__)

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


def _stopping_channels_v5(conn: sqlite3.Connection) -> None:
    """Version 5: a channel calsync is stopping says so in its row, with when its stop was
    last tried, so every process keeps to one stop per retry interval. Before, a blank token
    hash marked it (and the time of the failed stop lived in one process's memory): such a
    row becomes a stopping row, its stop due at once."""
    conn.execute("ALTER TABLE push_channels ADD COLUMN stopping INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE push_channels ADD COLUMN stop_tried_at TEXT")
    conn.execute("UPDATE push_channels SET stopping = 1 WHERE token_hash = ''")


MIGRATIONS: Sequence[Migration] = (
    _create_v1,
    _one_fingerprint_v2,
    _add_push_channels,
    _no_fingerprint_v4,
    _stopping_channels_v5,
)


def enable_wal(conn: sqlite3.Connection, path: str, timeout: float) -> None:
    """Switch the file to WAL, waiting while another process does the same.

    Changing the journal mode does not call SQLite's busy handler: when several processes
    open a new file at once, the losers see "database is locked" at once, so retry here.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)
    if str(mode).lower() != "wal":
        logger.warning("state store %s: journal mode %s, not WAL", path, mode)


def stored_version(conn: sqlite3.Connection, path: str) -> int:
    """The file's schema version; 0 for a file without calsync's tables."""
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    if "meta" not in {name for (name,) in tables}:
        return 0
    found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if found is None:
        raise StateError(f"state store {path!r}: the meta table has no schema version")
    return int(found[0])


def _is_busy(exc: sqlite3.Error) -> bool:
    primary_code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # extended codes keep it low
    return primary_code in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}

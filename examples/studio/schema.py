"""The studio database's tables (stdlib ``sqlite3``), and opening a connection on them.

Conventions:

* A timed item stores its wall-clock start and end as ISO text with their UTC offset, and the
  IANA zone name in ``time_zone``; an all-day item stores dates with an **exclusive** end.
* Sessions and appointments share these time columns and one schedule: their keys are
  ``session-<id>`` and ``appointment-<id>`` (see :mod:`studio.records`).
* Every change to a session, appointment or client bumps its ``revision`` and ``updated_at``,
  and every change to a session or appointment appends to its user's change log. Every change
  to a client in a group, and every client joining or leaving a group, appends to the client
  change log, per group (a client that leaves a group, or is deleted, is a change of that
  group too). Each change carries a random ``stamp`` (see :mod:`studio.database`).
* Row ids name items in Google (``session-12``, ``client-5``), and a staff user's id names their
  calsync profile (``lumen.7``), whose calsync state and stored Google tokens are keyed by it.
  So an id is never given again, even to a row made after the file is restored from a backup.
  ``AUTOINCREMENT`` alone cannot promise that: its counter lives in this file, and a restored
  file, the backup byte for byte, would give again to new rows the ids it had given after the
  backup. Nothing in the file can tell those ids (the file is all the studio keeps, and a clock
  may go back), so a new session, appointment, client or staff user takes an id drawn at random
  from the sixteen-digit ids below 2**53 (``studio.database.DRAWN_IDS``, from ``secrets``),
  drawn again while the file still names it (a row of its table holds it, or a session
  replaces the appointment). The ids given before (``AUTOINCREMENT``, counted from 1: items
  before version 6, users before version 7) are shorter, so no draw gives one of them. A new
  row takes the id of a row the file no longer holds (lost with a restore, or deleted) only if
  the draw hits it: a chance of one in 8·10**15 per row the file no longer holds, per new row
  (a studio that loses a thousand rows to a restore and makes a million after it: about one in
  eight million, over the file's life). Rows made before keep their ids, and their keys: a
  user's profile id, calsync state and tokens stay theirs.
* A session converted from an unlinked appointment keeps the appointment's ``google_event_id``
  for good: it is the Google event the session follows (calsync's ``remote_id``).
* ``PRAGMA user_version`` holds the schema version; opening an older database upgrades it in
  place, one version at a time (``_UPGRADES``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["CLIENT_COLUMNS", "CLIENT_SELECT", "SCHEMA_VERSION", "connect"]

SCHEMA_VERSION = 7

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT ''
);
CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    organization TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    phone_label TEXT NOT NULL DEFAULT 'mobile',
    email_label TEXT NOT NULL DEFAULT 'home',
    address_label TEXT NOT NULL DEFAULT 'home',
    notes TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE client_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE client_group_members (
    group_id INTEGER NOT NULL REFERENCES client_groups (id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, client_id)
);
-- Clients made from a contact in a user's Google account: origins are per account.
CREATE TABLE client_origins (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, origin)
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    client_id INTEGER NOT NULL REFERENCES clients (id),
    session_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'booked',
    title TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    all_day INTEGER NOT NULL,
    time_zone TEXT,
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    replaces INTEGER,  -- the unlinked appointment this session was converted from
    google_event_id TEXT  -- and the Google event that appointment was made from
);
CREATE INDEX sessions_by_user_start ON sessions (user_id, start);
CREATE INDEX sessions_by_client ON sessions (client_id);
CREATE UNIQUE INDEX sessions_by_replaced ON sessions (replaces) WHERE replaces IS NOT NULL;
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('appointment', 'unlinked')),
    title TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    all_day INTEGER NOT NULL,
    time_zone TEXT,
    google_event_id TEXT,  -- the Google event an unlinked appointment was made from
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX appointments_by_user_start ON appointments (user_id, start);
CREATE UNIQUE INDEX appointments_by_origin ON appointments (user_id, google_event_id)
    WHERE google_event_id IS NOT NULL;
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    stamp TEXT NOT NULL DEFAULT ''  -- random: tells a change from one a restore reused seq for
);
CREATE INDEX change_log_by_user ON change_log (user_id, seq);
CREATE TABLE client_change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    left_group INTEGER NOT NULL,  -- the client left the group, or was deleted
    stamp TEXT NOT NULL  -- random: tells a change from one a restore reused seq for
);
CREATE INDEX client_change_log_by_group ON client_change_log (group_id, seq);
CREATE TABLE google_prefs (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sync_on INTEGER NOT NULL DEFAULT 0,
    calendar_id TEXT,
    first_time INTEGER NOT NULL DEFAULT 1,
    sync_back_calendar INTEGER NOT NULL DEFAULT 0,
    sync_contacts INTEGER NOT NULL DEFAULT 0,
    sync_back_contacts INTEGER NOT NULL DEFAULT 0,
    notify_problems INTEGER NOT NULL DEFAULT 0,
    verbose_troubleshooting INTEGER NOT NULL DEFAULT 0,
    client_sync_group_id INTEGER REFERENCES client_groups (id),
    status TEXT NOT NULL DEFAULT 'ok',
    status_message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: The statements that bring a database of version ``v`` to ``v + 1``.
_UPGRADES: dict[int, tuple[str, ...]] = {
    # 2: a converted session keeps the Google event of the appointment it replaces. Sessions
    # converted before have none to keep (their appointment row is gone): calsync follows them
    # through ``replaces`` as before.
    1: ("ALTER TABLE sessions ADD COLUMN google_event_id TEXT",),
    # 3: a client keeps the labels of its phone, email and address (``work``, …), so a client
    # made from a Google contact answers the labels it was given. Clients before had none:
    # they get the labels the studio always answered.
    2: (
        "ALTER TABLE clients ADD COLUMN phone_label TEXT NOT NULL DEFAULT 'mobile'",
        "ALTER TABLE clients ADD COLUMN email_label TEXT NOT NULL DEFAULT 'home'",
        "ALTER TABLE clients ADD COLUMN address_label TEXT NOT NULL DEFAULT 'home'",
    ),
    # 4: each change carries a random stamp, and a change cursor names it: a database restored
    # from a backup reuses the positions of the changes it lost, and a cursor handed out before
    # the restore would otherwise skip the new changes made at those positions. Changes logged
    # before have none: a cursor at one is taken as it always was.
    3: ("ALTER TABLE change_log ADD COLUMN stamp TEXT NOT NULL DEFAULT ''",),
    # 5: the client groups get a change log (calsync's change feed of a group, which also
    # tells it the file was restored from a backup). It starts empty; calsync had no cursor of
    # the clients before, and lists the group in full once more.
    4: (
        "CREATE TABLE IF NOT EXISTS client_change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " group_id INTEGER NOT NULL, client_id INTEGER NOT NULL,"
        " left_group INTEGER NOT NULL, stamp TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS client_change_log_by_group"
        " ON client_change_log (group_id, seq)",
    ),
    # 6: new sessions, appointments and clients take drawn ids (see above), which code of
    # version 5 would not: it would give the file's counter again after a restore. Nothing to
    # change in the tables; rows made before keep their ids. The version is what makes
    # older code refuse the file.
    5: (),
    # 7: new staff users take drawn ids too (see above): a user's id names their calsync profile
    # (``lumen.7``), whose state and stored Google tokens are keyed by it, and code of version 6
    # would give the counter's user ids again after a restore, so a new user would take a lost
    # user's profile, calsync state and Google tokens. Nothing to change in the tables; users
    # made before keep their ids, so their profiles and tokens stay theirs.
    6: (),
}

CLIENT_COLUMNS = (
    "first_name",
    "last_name",
    "organization",
    "phone",
    "email",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "phone_label",
    "email_label",
    "address_label",
    "notes",
)

#: A client's columns in a query over ``clients c``, named ``c_<column>`` (``Client.from_row``
#: reads them with ``prefix="c_"``), so they can join a session's columns.
CLIENT_SELECT = ", ".join(f"c.{name} AS c_{name}" for name in ("id", *CLIENT_COLUMNS))
CLIENT_SELECT += ", c.revision AS c_revision, c.updated_at AS c_updated_at"


def _decode_text(stored: bytes) -> str:
    """Stored text as ``str``, its bytes that are not UTF-8 (another program's write, half of a
    UTF-16 pair as a Windows app stores it) as lone surrogates: sqlite3 would fail the whole
    query on them, so one such row would stop every listing it is in. ``studio.records`` reads
    a row holding them as unreadable (``is_text``)."""
    return stored.decode("utf-8", "surrogateescape")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the studio database on ``path`` (or ``":memory:"``), creating its tables on first
    use and upgrading an older schema. The connection runs in autocommit mode: callers open
    their own transactions.

    Raises:
        RuntimeError: the file holds a newer schema version than this code knows.
    """
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.text_factory = _decode_text
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 5000")
    if str(path) != ":memory:":
        # the studio's screens and the sync job may run in different processes
        db.execute("PRAGMA journal_mode = WAL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    elif version < SCHEMA_VERSION:
        _upgrade(db)
    elif version != SCHEMA_VERSION:
        db.close()
        raise RuntimeError(f"studio database schema {version}, expected {SCHEMA_VERSION}")
    return db


def _upgrade(db: sqlite3.Connection) -> None:
    """Bring an older database to :data:`SCHEMA_VERSION` in one transaction. The version is read
    again inside it: another process may have upgraded the file in the meantime."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"studio database schema {version}, expected {SCHEMA_VERSION}")
        for step in range(version, SCHEMA_VERSION):
            for statement in _UPGRADES[step]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        db.close()
        raise
    db.execute("COMMIT")

"""Corrupt rows in a studio database file (sessions, appointments and clients), written
straight into its SQLite as a bug or a hand edit would leave them (the studio's own methods
never write such a row)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studio.records import parse_item_key

from calsync.testing.contracts.sources import Defect

_TABLES = {"session": "sessions", "appointment": "appointments"}

_DAMAGE = {
    Defect.UNKNOWN_ZONE: "time_zone = 'Mars/Olympus_Mons'",
    Defect.END_BEFORE_START: 'start = "end", "end" = start',
    Defect.EMPTY_ALL_DAY: (
        'all_day = 1, time_zone = NULL, start = substr(start, 1, 10), "end" = substr(start, 1, 10)'
    ),
    Defect.TIMED_WITHOUT_ZONE: "all_day = 0, time_zone = NULL",
    Defect.UNREADABLE_START: "start = substr(start, 1, 10) || 'T25:61'",
}


def corrupt_row(path: Path, key: str, defect: Defect, *, logged: bool = False) -> None:
    """Give the session or appointment ``key`` (``appointment-7``) the ``defect``; ``logged``
    also appends the change to its user's change log, as a buggy screen of the studio would
    (a hand edit of the file leaves the log as it is).

    Raises:
        KeyError: there is no such row.
    """
    parsed = parse_item_key(key)
    if parsed is None:
        raise KeyError(key)
    table, row_id = parsed
    db = sqlite3.connect(path)
    try:
        with db:
            cursor = db.execute(
                f"UPDATE {_TABLES[table]} SET {_DAMAGE[defect]} WHERE id = ? RETURNING user_id",
                (row_id,),
            )
            row = cursor.fetchone()
            if row is None:
                raise KeyError(key)
            if logged:
                db.execute(
                    "INSERT INTO change_log (user_id, item_id, deleted) VALUES (?, ?, 0)",
                    (row[0], key),
                )
    finally:
        db.close()


def corrupt_client(path: Path, client_id: int) -> None:
    """Damage client ``client_id``'s row: its last-change time is no time at all.

    Raises:
        KeyError: there is no such client.
    """
    db = sqlite3.connect(path)
    try:
        with db:
            cursor = db.execute(
                "UPDATE clients SET updated_at = 'last Tuesday' WHERE id = ?", (client_id,)
            )
            if cursor.rowcount != 1:
                raise KeyError(client_id)
    finally:
        db.close()

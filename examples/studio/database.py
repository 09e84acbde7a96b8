"""What every part of the studio database shares: one connection, transactions, the clock and
the change logs (the schedule's, and the client groups').

A change log is a table of changes, each at a position (``seq``, ``AUTOINCREMENT``) with a
random ``stamp``. A database restored from a backup goes back to the backup's position and
reuses the positions of the changes it lost, for other changes: a reader's position past the
log's end, or at a change stamped otherwise now, is how the log tells it (``LogRewound``).

A session, an appointment, a client or a staff user takes an id drawn at random
(:func:`draw_id`), never the file's ``AUTOINCREMENT`` counter: an item's id names it in Google,
a user's names their calsync profile (and so their calsync state and Google tokens), and a file
restored from a backup would give its counter's ids again (see :mod:`studio.schema`).

One connection, guarded by a lock: a ``Studio`` may be shared by threads (the sync job runs
several users at once). Every public method of :class:`~studio.db.Studio` is one transaction.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from studio.records import LogRewound
from studio.schema import connect

__all__ = [
    "DRAWN_IDS",
    "StudioDatabase",
    "day_bounds",
    "draw_id",
    "given",
    "insert",
    "log_mark",
    "log_reach",
    "trim_log",
]

#: The ids new sessions, appointments, clients and staff users take, drawn at random: sixteen
#: digits, so never one ``AUTOINCREMENT`` gave (counted from 1), and below 2**53, so a number in
#: JSON or JavaScript holds every one exactly.
DRAWN_IDS = range(10**15, 2**53)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def draw_id() -> int:
    """An id of :data:`DRAWN_IDS`, drawn at random (``secrets``: the file cannot predict it)."""
    return DRAWN_IDS.start + secrets.randbelow(len(DRAWN_IDS))


class StudioDatabase:
    """The studio database, opened on a file path or ``":memory:"`` (schema created on open).
    ``draw_id`` draws the id of a new session, appointment, client or staff user
    (:func:`draw_id`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = _utc_now,
        draw_id: Callable[[], int] = draw_id,
    ) -> None:
        self._clock = clock
        self._draw_id = draw_id
        self._lock = threading.RLock()
        self._db = connect(path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()

    def _insert_drawn(self, db: sqlite3.Connection, table: str, **values: Any) -> int:
        """Insert one row of ``table`` under a drawn id, drawn again while the file still
        names it (a row of ``table``, or an appointment a session replaces); returns the id.
        (The write transaction holds the file: no other writer takes the id in between.)"""
        while True:
            row_id = self._draw_id()
            named = [f"SELECT 1 FROM {table} WHERE id = :id"]
            if table == "appointments":
                named.append("SELECT 1 FROM sessions WHERE replaces = :id")
            if db.execute(" UNION ALL ".join(named), {"id": row_id}).fetchone() is None:
                return insert(db, table, id=row_id, **values)

    def _log(self, db: sqlite3.Connection, user_id: int, key: str, deleted: bool = False) -> None:
        """Append a change of schedule item ``key`` to its user's change log."""
        db.execute(
            "INSERT INTO change_log (user_id, item_id, deleted, stamp) VALUES (?, ?, ?, ?)",
            (user_id, key, int(deleted), secrets.token_hex(4)),
        )

    def _log_member(
        self, db: sqlite3.Connection, group_id: int, client_id: int, left: bool = False
    ) -> None:
        """Append a change of client ``client_id`` as a member of ``group_id`` (``left``: it
        left the group, or was deleted) to the client change log."""
        db.execute(
            "INSERT INTO client_change_log (group_id, client_id, left_group, stamp)"
            " VALUES (?, ?, ?, ?)",
            (group_id, client_id, int(left), secrets.token_hex(4)),
        )


def insert(db: sqlite3.Connection, table: str, **values: Any) -> int:
    """Insert one row; returns its id."""
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    cursor = db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def given(**values: Any) -> dict[str, Any]:
    """The values that are not ``None`` (the attributes an update changes)."""
    return {name: value for name, value in values.items() if value is not None}


def day_bounds(first_day: date, last_day: date) -> tuple[str, str]:
    """Text bounds for ``start < ? AND end >= ?`` over ISO dates and datetimes."""
    return date.fromordinal(last_day.toordinal() + 1).isoformat(), first_day.isoformat()


def _position(db: sqlite3.Connection, log: str) -> int:
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (log,)).fetchone()
    return int(row["seq"]) if row else 0


def _stamp(db: sqlite3.Connection, log: str, seq: int) -> str | None:
    row = db.execute(f"SELECT stamp FROM {log} WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else str(row["stamp"])


def log_mark(db: sqlite3.Connection, log: str) -> tuple[int, str]:
    """The position and stamp of ``log``'s latest change (``""``: no change to name)."""
    position = _position(db, log)
    return position, _stamp(db, log, position) or ""


def log_reach(db: sqlite3.Connection, log: str, seq: int, stamp: str) -> tuple[int, str]:
    """The position and stamp ``log`` reaches now, once position ``seq`` (whose change was
    stamped ``stamp``, when known) is found to be still in its history.

    Raises:
        LogRewound: the database went back in time past ``seq`` (restored from a backup):
            the position is not reached yet, or another change holds it now.
        LookupError: the log was trimmed past ``seq``.
    """
    position = _position(db, log)
    if seq > position:
        raise LogRewound(f"change position {seq} is past the log's end ({position})")
    held = _stamp(db, log, seq) if stamp else None
    if held is not None and held != stamp:
        raise LogRewound(f"change position {seq} holds another change now")
    floor = db.execute("SELECT value FROM meta WHERE key = ?", (f"{log}_floor",))
    trimmed = int(row["value"]) if (row := floor.fetchone()) else 0
    if not trimmed <= seq:
        raise LookupError(f"change position {seq} is unknown or trimmed")
    return position, _stamp(db, log, position) or ""


def trim_log(db: sqlite3.Connection, log: str, through_seq: int) -> None:
    """Forget ``log``'s changes up to ``through_seq``; positions before it become unknown."""
    db.execute(f"DELETE FROM {log} WHERE seq <= ?", (through_seq,))
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
        " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        (f"{log}_floor", through_seq),
    )

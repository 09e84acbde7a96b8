"""What every part of the studio database shares: one connection, transactions, the clock and
the change log's writer.

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

from studio.schema import connect

__all__ = ["StudioDatabase", "day_bounds", "given", "insert"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StudioDatabase:
    """The studio database, opened on a file path or ``":memory:"`` (schema created on open)."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
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

    def _log(self, db: sqlite3.Connection, user_id: int, key: str, deleted: bool = False) -> None:
        """Append a change of schedule item ``key`` to its user's change log."""
        db.execute(
            "INSERT INTO change_log (user_id, item_id, deleted, stamp) VALUES (?, ?, ?, ?)",
            (user_id, key, int(deleted), secrets.token_hex(4)),
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

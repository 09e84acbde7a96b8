"""An exception raised from outside the code (a signal handler: a Celery soft time limit,
Ctrl-C) can land the moment SQLite's BEGIN returns; the store must not keep that transaction,
and its write lock, open."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from calsync.state import SqliteStateStore


class InterruptedAsBeginReturns(SqliteStateStore):
    """Raises, once armed, right after the outermost BEGIN, as a signal handler would."""

    armed = False

    def _begin(self) -> None:
        super()._begin()
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt


def test_an_interruption_as_a_transaction_begins_leaves_no_transaction_or_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    now = datetime.now(UTC)
    with InterruptedAsBeginReturns(path) as store, SqliteStateStore(path, timeout=0.2) as other:
        store.armed = True
        with pytest.raises(KeyboardInterrupt), store.transaction():
            store.set_last_run("studio.1", now)

        other.set_last_run("studio.2", now)  # another process can write: no lock was left
        store.set_last_run("studio.1", now)  # and the store itself goes on
        assert (store.get_last_run("studio.1"), store.get_last_run("studio.2")) == (now, now)

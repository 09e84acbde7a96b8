"""The connection under :class:`~calsync.state.sqlite.SqliteStateStore`: one SQLite file, its
transactions and its schema.

* One connection per store, guarded by a re-entrant lock, so a store can be shared between
  threads; several processes may open the same file (WAL journal, ``synchronous=NORMAL``).
* A transaction starts with ``BEGIN IMMEDIATE``: it takes the file's write lock up front, so it
  never has to upgrade from reader to writer halfway (which WAL refuses with ``SQLITE_BUSY``
  instead of waiting). Nested transactions are savepoints; a single-statement write inside a
  transaction needs none, since a failing statement undoes only itself.
* The ``meta`` table records the schema version; the migrations between versions are in
  :mod:`calsync.state.sqlite_schema`. A file written by a newer calsync is refused.
* ``sqlite3.Error`` becomes :class:`~calsync.errors.StateError` in ``_translated`` only:
  :class:`~calsync.errors.StateUnavailable` unless SQLite blamed the statement's own data (a
  constraint, a value too big or of the wrong type), since a full disk, an I/O error, a file
  locked beyond the timeout or a damaged file fail every write alike.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

from calsync.errors import SchemaVersionError, StateError, StateUnavailable
from calsync.state.sqlite_schema import MIGRATIONS, Migration, enable_wal, stored_version

__all__ = ["SqliteConnection"]

logger = logging.getLogger(__name__)

#: SQLite's primary result codes that blame one statement's data, not the store
_ONE_WRITE = frozenset(
    (
        sqlite3.SQLITE_CONSTRAINT,
        sqlite3.SQLITE_TOOBIG,
        sqlite3.SQLITE_MISMATCH,
        sqlite3.SQLITE_RANGE,
    )
)


class SqliteConnection:
    """A SQLite file opened for a store: its connection, lock, transactions and schema."""

    #: ``_MIGRATIONS[n]`` brings a file from schema version ``n`` to ``n + 1``.
    _MIGRATIONS: ClassVar[Sequence[Migration]] = MIGRATIONS
    SCHEMA_VERSION: ClassVar[int] = len(MIGRATIONS)

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self._path = os.fspath(path)
        self._lock = threading.RLock()
        self._depth = 0  # how many transactions are open, nested
        self._closed = False
        with self._translated():
            self._conn = sqlite3.connect(
                self._path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        try:
            self._configure(timeout)
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        """Close the connection; an open transaction is rolled back."""
        with self._lock, self._translated():
            self._closed = True
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them happen, or none. Nested transactions join the outer one.

        An exception leaving a nested transaction undoes its writes only (a savepoint); one
        leaving the outermost rolls everything back. The store's lock is held throughout:
        other threads using this store wait for the transaction to end.
        """
        with self._lock, self._translated():
            self._depth += 1
            try:
                try:
                    # begun inside the try: an exception raised by a signal handler (a time
                    # limit, Ctrl-C) the moment BEGIN returns must still roll it back, or the
                    # connection would keep the transaction and its write lock
                    self._begin()
                    yield
                    self._end()
                except BaseException:
                    self._abort()
                    raise
            finally:
                self._depth -= 1

    # -- connection, schema and transactions ----------------------------------------------

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The one place where ``sqlite3`` errors become :class:`StateError`."""
        try:
            yield
        except sqlite3.Error as exc:
            message = f"state store {self._path!r}: {exc}"
            one_write = _one_write(exc) and not self._closed
            raise (StateError if one_write else StateUnavailable)(message) from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translated():
            yield self._conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """Run one write statement: in its own transaction, or in the one already open.

        A statement that fails undoes only its own changes, so inside a transaction it needs no
        savepoint of its own (which would triple the statements of a bulk write).
        """
        with self._lock:
            if self._depth == 0:
                with self.transaction():
                    yield self._conn
            else:
                with self._translated():
                    self._ensure_transaction_alive()
                    yield self._conn

    def _ensure_transaction_alive(self) -> None:
        """Refuse to write on after SQLite rolled the open transaction back on its own.

        Some failures (disk full, I/O errors) end the whole transaction; writing on would
        commit each later statement by itself, breaking the transaction's all-or-nothing.
        """
        if not self._conn.in_transaction:
            raise StateUnavailable(
                f"state store {self._path!r}: the transaction was rolled back by an earlier error"
            )

    def _begin(self) -> None:
        if self._depth == 1:
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            self._ensure_transaction_alive()
            self._conn.execute(f"SAVEPOINT nested_{self._depth}")

    def _end(self) -> None:
        self._ensure_transaction_alive()  # (else COMMIT would say only "no transaction")
        if self._depth == 1:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute(f"RELEASE nested_{self._depth}")

    def _abort(self) -> None:
        if not self._conn.in_transaction:  # SQLite already rolled back (e.g. disk full)
            return
        if self._depth == 1:
            self._conn.execute("ROLLBACK")
        else:
            self._conn.execute(f"ROLLBACK TO nested_{self._depth}")
            self._conn.execute(f"RELEASE nested_{self._depth}")

    def _configure(self, timeout: float) -> None:
        with self._translated():
            if self._path != ":memory:":
                enable_wal(self._conn, self._path, timeout)
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _migrate(self) -> None:
        if self._schema_version() == self.SCHEMA_VERSION:
            return
        with self.transaction():  # re-read under the write lock: another process may migrate
            found = self._schema_version()
            if found > self.SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"state store {self._path!r} has schema version {found}, newer than "
                    f"version {self.SCHEMA_VERSION} this calsync reads; upgrade calsync "
                    "or use another state file"
                )
            for version in range(found, self.SCHEMA_VERSION):
                self._MIGRATIONS[version](self._conn)
                logger.info(
                    "state store %s: schema migrated to version %d", self._path, version + 1
                )
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(self.SCHEMA_VERSION),),
            )

    def _schema_version(self) -> int:
        """The file's schema version; 0 for a file without calsync's tables."""
        with self._reading() as conn:
            return stored_version(conn, self._path)


def _one_write(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` concerns one statement's data rather than the store: by SQLite's
    result code, or, for errors the ``sqlite3`` module raises itself (binding a value), by
    their class."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _ONE_WRITE
    return isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.ProgrammingError)

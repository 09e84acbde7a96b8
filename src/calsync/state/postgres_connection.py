"""The connection under :class:`~calsync.state.postgres.PostgresStateStore`: its transactions,
its statements and its schema version.

* **Transactions.** :meth:`PostgresConnection.transaction` checks a connection out of the pool
  for the calling thread and opens one PostgreSQL transaction (nested ones are savepoints);
  every statement of that thread runs in it until it ends — one transaction per write batch.
  A statement outside a transaction runs alone on a pooled connection (autocommit).
* **Schema versions** (:mod:`calsync.state.postgres_schema`): ``meta`` records the version;
  each migration upgrades one version under an advisory lock, applied by
  :meth:`PostgresConnection.migrate` (``calsync migrate``); a store refuses a schema older or
  newer than it reads.
* **Counting.** :attr:`PostgresConnection.queries` counts statements sent (not ``BEGIN`` /
  ``COMMIT``), so tests can pin what a run costs.
* ``psycopg.Error`` becomes :class:`~calsync.errors.StateError` in ``_translated`` only:
  :class:`~calsync.errors.StateUnavailable` unless PostgreSQL blamed the statement's data (an
  integrity or data error), since a lost connection, a full disk, an exhausted pool or a
  transaction already aborted fail every write alike.

Needs the ``server`` extra (psycopg, psycopg_pool).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, LiteralString

import psycopg

from calsync.errors import SchemaVersionError, StateError, StateUnavailable
from calsync.server.database import Database
from calsync.state.postgres_schema import SCHEMA_VERSION, migrate_schema, schema_version

__all__ = ["Params", "PostgresConnection"]

Params = Sequence[Any] | Mapping[str, Any]


class PostgresConnection:
    """A PostgreSQL schema opened for a store: the thread's transaction, counted statements
    and the schema version check.

    Raises:
        SchemaVersionError: the schema is older (run ``calsync migrate``) or newer than this
            calsync reads.
        StateError: PostgreSQL failed.
    """

    SCHEMA_VERSION: ClassVar[int] = SCHEMA_VERSION

    def __init__(self, database: Database, *, migrate: bool = False) -> None:
        self.database = database
        self._local = threading.local()
        if migrate:
            self.migrate()
        else:
            self.check_schema()

    @property
    def queries(self) -> int:
        """Statements this store's database has sent (every store sharing it counts)."""
        return self.database.queries

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them happen, or none. Nested transactions are savepoints.

        The calling thread's statements run on one pooled connection until it ends; other
        threads see its writes only when it commits.
        """
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            with self._translated(), conn.transaction():
                yield
            return
        with self._translated(), self.database.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield
            finally:
                self._local.conn = None

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The one place where psycopg's errors become :class:`StateError`."""
        try:
            yield
        except psycopg.Error as exc:
            message = f"state store (PostgreSQL, {self.database.schema}): {exc}"
            one_write = isinstance(exc, psycopg.IntegrityError | psycopg.DataError)
            raise (StateError if one_write else StateUnavailable)(message) from exc

    def _execute(self, sql: LiteralString, params: Params) -> tuple[int, list[Any]]:
        """Run one statement in the thread's transaction, or alone; its row count and rows."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None:
            with self._translated():
                return _outcome(self.database.execute(conn, sql, params))
        with self._translated(), self.database.pool.connection() as alone:
            return _outcome(self.database.execute(alone, sql, params))

    def _run(self, sql: LiteralString, params: Params) -> int:
        return self._execute(sql, params)[0]

    def _run_many(
        self, sql: LiteralString, rows: Sequence[Params], *, refused: str | None = None
    ) -> None:
        """Run one statement for each of ``rows`` in one round trip, all or none (a savepoint
        inside an open transaction). With ``refused``, a statement that changed no row rolls
        them all back and raises :class:`StateError` with that message."""
        if not rows:
            return
        with self.transaction():
            conn: psycopg.Connection[Any] = self._local.conn
            with self._translated():
                written = self.database.execute_many(conn, sql, rows)
            if refused is not None and written < len(rows):
                raise StateError(refused)

    def _rows(self, sql: LiteralString, params: Params) -> list[Any]:
        return self._execute(sql, params)[1]

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema's version; 0 for a schema without calsync's tables."""
        with self._translated():
            return schema_version(self.database)

    def check_schema(self) -> None:
        """Raise unless the schema is the version this calsync reads.

        Raises:
            SchemaVersionError: older (run ``calsync migrate``) or newer.
        """
        found = self.schema_version()
        if found < self.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"state schema {self.database.schema!r} is at version {found}, this calsync "
                f"needs {self.SCHEMA_VERSION}: run `calsync migrate`"
            )
        if found > self.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"state schema {self.database.schema!r} has version {found}, newer than "
                f"version {self.SCHEMA_VERSION} this calsync reads; upgrade calsync"
            )

    def migrate(self) -> int:
        """Bring the schema to this calsync's version (see :func:`migrate_schema`)."""
        return migrate_schema(self.database)


def _outcome(cursor: psycopg.Cursor[Any]) -> tuple[int, list[Any]]:
    return cursor.rowcount, cursor.fetchall() if cursor.description is not None else []

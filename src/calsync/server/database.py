"""One PostgreSQL schema behind a psycopg 3 connection pool, with a query counter.

Every server store (state, tokens) works in one schema of one database: the schema is the
deployment's (or a test's) namespace, set as the ``search_path`` of every pooled connection.
:attr:`Database.queries` counts the statements sent, so tests can assert what a run costs.

Build a :class:`Database` in each process after it forked (a pool's connections and threads
do not survive a fork); :mod:`calsync.celery` does so in every worker process.

The connection string's password never reaches a message: a string libpq cannot read is refused
before a pool is made (libpq's reason, which may quote any part of it, with its quoted parts
hidden), the errors raised name no password, and the pool's own log records (the
``psycopg.pool`` logger) show it as ``***``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from calsync.errors import ConfigurationError, StateError

__all__ = ["Database"]

logger = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: What libpq quotes of a connection string it cannot read: any part of it, the password too.
_QUOTED = re.compile(r'"[^"]*"')
#: The logger psycopg_pool writes its connection failures to (libpq's message in each).
_POOL_LOGGER = "psycopg.pool"
_HIDDEN = "***"


class Database:
    """A connection pool on ``schema`` of the database at ``conninfo``.

    Args:
        conninfo: a libpq connection string or URL (``postgresql://user@host/db``).
        schema: the schema every statement works in (created by :meth:`ensure_schema`).
        min_size, max_size: the pool's bounds.

    Raises:
        ConfigurationError: ``schema`` is not a plain lower-case identifier, or ``conninfo``
            is not a connection string libpq can read (a ``%`` in a URL's password not
            written ``%25``, a quote left open); the message shows no password.
        StateError: the database cannot be reached within 10 seconds.
    """

    def __init__(
        self, conninfo: str, *, schema: str = "calsync", min_size: int = 1, max_size: int = 8
    ) -> None:
        if not _IDENTIFIER.match(schema):
            raise ConfigurationError(f"schema {schema!r} must be a lower-case identifier")
        self._redaction = _PasswordRedaction(_password(conninfo))
        self.schema = schema
        self._count_lock = threading.Lock()
        self.queries = 0
        self.pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            # transactions are explicit (``conn.transaction()``); a statement alone commits
            kwargs={"options": f"-c search_path={schema}", "autocommit": True},
            # a connection the database dropped while it sat in the pool (a restart, a
            # failover, an idle timeout) is replaced before use, not handed to a run to fail
            check=ConnectionPool.check_connection,
            open=False,
            name=f"calsync-{schema}",
        )
        logging.getLogger(_POOL_LOGGER).addFilter(self._redaction)
        try:
            self.pool.open(wait=True, timeout=10)
        except Exception as exc:  # a psycopg.Error, or psycopg_pool.PoolTimeout
            reason = self._redaction.redact(str(exc))
            self.close()
            raise StateError(f"cannot connect to PostgreSQL: {reason}") from exc

    def __repr__(self) -> str:  # the conninfo may hold a password
        return f"Database(schema={self.schema!r})"

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in one transaction: committed when the block ends, rolled back
        when it raises. psycopg errors become :class:`~calsync.errors.StateError`."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise StateError(f"PostgreSQL: {exc}") from exc

    def execute(
        self,
        conn: psycopg.Connection[Any],
        sql: LiteralString,
        params: Sequence[Any] | Mapping[str, Any] = (),
    ) -> psycopg.Cursor[Any]:
        """Run one statement on ``conn`` and count it."""
        with self._count_lock:
            self.queries += 1
        return conn.execute(sql, params)

    def execute_many(
        self,
        conn: psycopg.Connection[Any],
        sql: LiteralString,
        rows: Sequence[Sequence[Any] | Mapping[str, Any]],
    ) -> int:
        """Run one statement for many rows (one round trip in pipeline mode); counts one.
        Returns the rows the statements changed, all told."""
        with self._count_lock:
            self.queries += 1
        with conn.cursor() as cursor:
            cursor.executemany(sql, rows)
            return cursor.rowcount

    def ensure_schema(self) -> None:
        """Create the schema if it does not exist. Concurrent callers take turns: PostgreSQL's
        ``CREATE SCHEMA IF NOT EXISTS`` can fail with a unique violation when two race."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"schema:{self.schema}",))
            # the identifier was checked against _IDENTIFIER in __init__
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )

    def drop_schema(self) -> None:
        """Drop the schema and everything in it (tests, and tearing a tenant down)."""
        with self.transaction() as conn:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )

    def close(self) -> None:
        """Close the pool's connections."""
        self.pool.close()
        logging.getLogger(_POOL_LOGGER).removeFilter(self._redaction)


class _PasswordRedaction(logging.Filter):
    """Shows a connection string's password as ``***`` in the records of the logger it is
    added to (the pool's: its warnings quote libpq's messages), and in :meth:`redact`."""

    def __init__(self, password: str) -> None:
        super().__init__()
        # as given, and as a URL would write it
        self.forms = sorted({password, quote(password, safe="")} - {""}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, _HIDDEN)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.forms:
            message = record.getMessage()
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


def _password(conninfo: str) -> str:
    """The password ``conninfo`` holds ("" when none).

    Raises:
        ConfigurationError: libpq cannot read ``conninfo``; the message shows none of it.
    """
    try:
        password = conninfo_to_dict(conninfo).get("password")
    except psycopg.Error as exc:
        reason = _QUOTED.sub(f'"{_HIDDEN}"', str(exc).strip())
    else:
        return str(password) if password else ""
    # raised here, outside the handler: libpq's message stays out of the exception's context
    raise ConfigurationError(
        f"the PostgreSQL connection string is not valid ({reason}); in a URL, a user name or "
        "password holding % @ : / ? # must be percent-encoded (% as %25)"
    )

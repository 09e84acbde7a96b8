"""A PostgreSQL connection string's password never reaches a message or a log: one libpq cannot
read (a ``%`` in a URL's password not written ``%25``) is a configuration error at once, naming
the problem without the password — not four pool warnings quoting it, then ten seconds of
waiting; and the pool's own records show ``***`` for the password of an open database."""

from __future__ import annotations

import logging
import time

import pytest
from psycopg.conninfo import make_conninfo
from services import POSTGRES_URL

from calsync.errors import ConfigurationError
from calsync.server.database import Database

SECRET = "SECRETpw-4711"


@pytest.mark.parametrize(
    "conninfo",
    [
        f"postgresql://calsync:Pa%zz{SECRET}@127.0.0.1:5432/test",  # an un-encoded %
        f"postgresql://calsync:{SECRET}@[::1/test",  # libpq quotes the whole URL
        f"host=127.0.0.1 password={SECRET} x{SECRET}=1",  # a blank in an unquoted password
    ],
    ids=["percent", "url", "keywords"],
)
def test_a_connection_string_libpq_cannot_read_is_refused_at_once_without_its_password(
    conninfo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()

    with pytest.raises(ConfigurationError, match="connection string is not valid") as refused:
        Database(conninfo, schema="calsync_never_made")

    assert time.monotonic() - started < 5  # no pool waiting to connect
    error = refused.value
    shown = [str(error), repr(error.__cause__), repr(error.__context__)]
    assert [text for text in shown if SECRET in text] == []
    assert "%25" in str(error)
    assert [record.getMessage() for record in caplog.records if SECRET in record.getMessage()] == []


def test_the_pools_records_show_no_password_while_the_database_is_open(
    pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    conninfo = make_conninfo(POSTGRES_URL, password=f"p@ss {SECRET}")  # (trust: not checked)
    database = Database(conninfo, schema=pg_schema, max_size=1)
    caplog.set_level(logging.DEBUG)
    pool_logger = logging.getLogger("psycopg.pool")
    try:
        # what psycopg_pool writes when a connection fails, with libpq's message
        pool_logger.warning("error connecting in %r: %s", "calsync", f"refused p@ss {SECRET}")
        pool_logger.warning("error connecting in %r: %s", "calsync", f"refused p%40ss%20{SECRET}")
    finally:
        database.close()
    pool_logger.warning("after the close: %s", "left as it is")

    assert [record.getMessage() for record in caplog.records] == [
        "error connecting in 'calsync': refused ***",
        "error connecting in 'calsync': refused ***",
        "after the close: left as it is",
    ]

"""Server tests: real PostgreSQL, Redis and RabbitMQ (see tests/support/services.py). The
repository's ``examples/`` is on the import path: the server example's worker factory and
process helpers are what the tests start."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import POSTGRES_URL, pg_schema, redis_prefix

from calsync.server.database import Database

__all__ = ["database", "pg_schema", "redis_prefix"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@pytest.fixture
def database(pg_schema: str) -> Iterator[Database]:
    """A connection pool on the test's own schema (a test that needs another size of pool,
    or a migrated schema, defines its own)."""
    db = Database(POSTGRES_URL, schema=pg_schema, max_size=4)
    yield db
    db.close()

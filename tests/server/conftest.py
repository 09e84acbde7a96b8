"""Server tests: real PostgreSQL, Redis and RabbitMQ (see tests/support/services.py). The
repository's ``examples/`` is on the import path: the server example's worker factory and
process helpers are what the tests start."""

from __future__ import annotations

import sys
from pathlib import Path

from services import pg_schema, redis_prefix

__all__ = ["pg_schema", "redis_prefix"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

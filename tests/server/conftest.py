"""Server tests: real PostgreSQL, Redis and RabbitMQ (see tests/support/services.py)."""

from __future__ import annotations

from services import pg_schema, redis_prefix

__all__ = ["pg_schema", "redis_prefix"]

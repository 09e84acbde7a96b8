"""The machine's services for server tests: PostgreSQL, Redis, RabbitMQ.

Each test gets its own PostgreSQL schema and Redis key prefix (both named after the branch and
a random part) and cleans them up. A test whose service is not reachable is skipped with a
reason naming the service, except when ``CALSYNC_REQUIRE_SERVICES=1`` (CI): then it fails, so
CI can never pass by skipping.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

POSTGRES_URL = os.environ.get("CALSYNC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CALSYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("CALSYNC_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")
SERVICES = {
    "PostgreSQL": ("127.0.0.1", 5432),
    "Redis": ("127.0.0.1", 6379),
    "RabbitMQ": ("127.0.0.1", 5672),
}


def unique_name(kind: str) -> str:
    """A name no other test or helper uses: ``calsync_server_<kind>_<random>``."""
    return f"calsync_server_{kind}_{uuid.uuid4().hex[:10]}"


def require(service: str) -> None:
    """Skip (or, under ``CALSYNC_REQUIRE_SERVICES=1``, fail) when ``service`` is down."""
    host, port = SERVICES[service]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        reason = f"{service} is not reachable on {host}:{port} ({exc})"
    if os.environ.get("CALSYNC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and CALSYNC_REQUIRE_SERVICES=1")
    pytest.skip(reason)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name in the test database; dropped after the test."""
    require("PostgreSQL")
    import psycopg
    from psycopg import sql

    schema = unique_name("pg")
    try:
        yield schema
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh Redis key prefix; its keys are deleted after the test."""
    require("Redis")
    import redis

    prefix = unique_name("redis")
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def enqueuing_to(env: dict[str, str], setup_factory: Callable[[], Any]) -> Iterator[None]:
    """This process enqueues and runs ``sync_due`` as beat and the web app do: its Celery app
    uses the workers' broker, queue and broker options (``env``, as given to the workers) and
    builds its worker with ``setup_factory``; both are restored after. Pooled broker
    connections keep the options (the key prefix) they were made with, and the worker is
    cached per process, so both are dropped on the way in and out."""
    import kombu.pools

    import calsync.celery as calsync_celery

    app = calsync_celery.app
    names = ("broker_url", "task_default_queue", "broker_transport_options")
    saved = {name: getattr(app.conf, name) for name in names}

    def fresh() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()  # (kombu keeps a producer pool per broker for the process)
        calsync_celery._workers.clear()

    fresh()
    app.conf.update(
        broker_url=env["CALSYNC_BROKER_URL"],
        task_default_queue=env["CALSYNC_QUEUE"],
        broker_transport_options=json.loads(env["CALSYNC_BROKER_TRANSPORT_OPTIONS"]),
    )
    calsync_celery.setup_factory = setup_factory
    try:
        yield
    finally:
        calsync_celery.setup_factory = None
        fresh()
        app.conf.update(saved)

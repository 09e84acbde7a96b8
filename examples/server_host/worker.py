"""The server example's worker factory: what each Celery worker process of the hosted edition
builds after it forked (``CALSYNC_WORKER_SETUP=server_host.worker:worker_setup``).

The deployment's settings come from a JSON file named by ``CALSYNC_SERVER_SETTINGS``::

    {"studios": {"studio1": "/srv/studio1.sqlite3", ...},   # each studio's own database
     "base_url": "http://127.0.0.1:8765",                   # the emulator (Google if absent)
     "state": {"sqlite": "/srv/calsync.sqlite3"}            # or {"postgres": URL, "schema": s}
     "tokens": "/srv/tokens.sqlite3",                       # with "state" postgres: in PostgreSQL
     "redis": "redis://127.0.0.1:6379/0", "prefix": "calsync",
     "interval": 300, "lease_ttl": 600, "calls_per_minute": 600,
     "push": {"address": "https://sync.example/google/notifications",  # optional: push on
              "safety_interval": 3600, "ttl": 604800, "renew_before": 86400}}

Every studio is one tenant: its engine reads that studio's database, and its profile ids are
``"<studio>.<user id>"``. Google tokens are encrypted with the keys in ``CALSYNC_TOKEN_KEYS``
when the state is in PostgreSQL. Each user's calls are paced by one token bucket in Redis,
shared by every worker process. With ``push``, every studio's users get a Calendar watch
channel whose notifications go to ``address``, served by :mod:`server_host.web`; their
calendars are then polled only every ``safety_interval``.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import redis
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Studio

from calsync import SqliteStateStore, StateStore, SyncEngine, SyncProfile
from calsync.celery import Tenant, WorkerSetup
from calsync.config import GoogleSettings, google_connector
from calsync.google.redis_pacing import RedisQuotaPacer
from calsync.metrics import MeteredPacer
from calsync.push import PushChannels
from calsync.tokens import SqliteTokenStore, TokenStore


def settings() -> dict[str, Any]:
    with open(os.environ["CALSYNC_SERVER_SETTINGS"], encoding="utf-8") as file:
        loaded: dict[str, Any] = json.load(file)
    return loaded


def open_state(stack: ExitStack, state: dict[str, Any]) -> tuple[StateStore, TokenStore | None]:
    """The state store (and, on PostgreSQL, the token store beside it)."""
    if "sqlite" in state:
        return stack.enter_context(SqliteStateStore(state["sqlite"])), None
    # the PostgreSQL stores, loaded only when configured
    from calsync.crypto import TokenCipher  # noqa: PLC0415
    from calsync.server.database import Database  # noqa: PLC0415
    from calsync.server.tokens import PostgresTokenStore  # noqa: PLC0415
    from calsync.state.postgres import PostgresStateStore  # noqa: PLC0415

    database = Database(state["postgres"], schema=state["schema"], max_size=4)
    stack.callback(database.close)
    return PostgresStateStore(database), PostgresTokenStore(database, TokenCipher.from_env())


def worker_setup() -> WorkerSetup:
    """Build this worker process's tenants (called once per process, after the fork)."""
    config = settings()
    stack = ExitStack()
    store, tokens = open_state(stack, config["state"])
    client = redis.Redis.from_url(config["redis"])
    google = GoogleSettings(
        client_id="server-example", client_secret="emulated",
        tokens=config.get("tokens", "tokens.sqlite3"), base_url=config.get("base_url"),
        calls_per_minute=config.get("calls_per_minute", 600),
    )  # fmt: skip
    if tokens is None:
        tokens = SqliteTokenStore(google.tokens)

    def pacer_for(profile: SyncProfile) -> MeteredPacer:
        # one bucket per Google user for every process (here a user is one profile), with
        # its calls, requests and waits counted in this worker's metrics
        shared = RedisQuotaPacer(
            client, profile.id, google.calls_per_minute, prefix=config["prefix"]
        )
        return MeteredPacer(shared)

    connect = google_connector(google, tokens, pacer_for=pacer_for)
    push = push_channels(store, config.get("push"))
    tenants = []
    for name, path in config["studios"].items():
        studio = stack.enter_context(Studio(path))
        engine = SyncEngine(store, StudioSchedule(studio), StudioClients(studio))
        profiles = StudioProfiles(studio, name)
        tenants.append(Tenant(name, engine, profiles, connect, push=push))
    return WorkerSetup(
        tenants,
        client,
        prefix=config["prefix"],
        interval=float(config.get("interval", 300)),
        safety_interval=float((config.get("push") or {}).get("safety_interval", 3600)),
        lease_ttl=timedelta(seconds=float(config.get("lease_ttl", 600))),
        close=stack.close,
    )


def push_channels(store: StateStore, push: dict[str, Any] | None) -> PushChannels | None:
    """The push channels of every studio (one state store holds them all), or ``None``."""
    if not push:
        return None
    return PushChannels(
        store,
        push["address"],
        ttl=timedelta(seconds=float(push.get("ttl", 7 * 86400))),
        renew_before=timedelta(seconds=float(push.get("renew_before", 86400))),
    )

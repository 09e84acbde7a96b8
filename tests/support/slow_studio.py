"""A server worker whose studio adapter a test can make block, for the time-limit tests.

``CALSYNC_WORKER_SETUP=slow_studio:worker_setup`` builds the server example's worker
(:func:`server_host.worker.worker_setup`) with every tenant's schedule adapter wrapped: while
the Redis key ``{prefix}:slow:{profile_id}`` holds ``{"method": ..., "after": n,
"seconds": s, "stubborn": bool}``, the adapter's ``method`` (``read``: a listing or
the change feed; or ``create_unlinked``) lets ``n`` calls through and then blocks for ``s``
seconds in Python in each call after them. A stubborn adapter swallows every interruption
while it blocks (as a host adapter with a bare ``except`` would), so only the hard time
limit ends its run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

import attrs
import redis
from server_host.worker import worker_setup as example_worker_setup

from calsync import SyncEngine
from calsync.celery import WorkerSetup
from calsync.model import EventFields, ScheduleItem, TimeRange
from calsync.sources import HostChanges, ItemUpdate, ScheduleSource, Unreadable

__all__ = ["slow_key", "worker_setup"]

logger = logging.getLogger(__name__)


def slow_key(prefix: str, profile_id: str) -> str:
    return f"{prefix}:slow:{profile_id}"


def calls_key(prefix: str, profile_id: str) -> str:
    return f"{prefix}:slow-calls:{profile_id}"


class SlowSchedule(ScheduleSource):
    """A tenant's schedule adapter that blocks when the test says so."""

    def __init__(self, inner: ScheduleSource, tenant: str, client: redis.Redis, prefix: str):
        self.inner, self.tenant, self.client, self.prefix = inner, tenant, client, prefix

    def _maybe_block(self, user_id: str, method: str) -> None:
        profile_id = f"{self.tenant}.{user_id}"
        raw = self.client.get(slow_key(self.prefix, profile_id))
        if raw is None:
            return
        slow = json.loads(raw)
        if slow["method"] != method:
            return
        if self.client.incr(calls_key(self.prefix, profile_id)) <= slow["after"]:
            return
        logger.info("slow adapter: %s blocks in %s for %ss", profile_id, method, slow["seconds"])
        deadline = time.monotonic() + slow["seconds"]
        while (left := deadline - time.monotonic()) > 0:
            try:
                time.sleep(left)
            except BaseException as exc:
                if not slow["stubborn"]:
                    logger.info("slow adapter: %s interrupted: %r", profile_id, exc)
                    raise
                logger.info("slow adapter: %s ignores %r", profile_id, exc)

    def list_items(self, user_id: str, window: TimeRange) -> Iterable[ScheduleItem | Unreadable]:
        self._maybe_block(user_id, "read")
        return self.inner.list_items(user_id, window)

    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        return self.inner.get_item(user_id, item_id)

    def create_unlinked(self, user_id: str, fields: EventFields, origin: str) -> ScheduleItem:
        self._maybe_block(user_id, "create_unlinked")
        return self.inner.create_unlinked(user_id, fields, origin)

    def update_item(self, user_id: str, item_id: str, update: ItemUpdate) -> ScheduleItem:
        return self.inner.update_item(user_id, item_id, update)

    def delete_item(self, user_id: str, item_id: str) -> None:
        self.inner.delete_item(user_id, item_id)

    def change_cursor(self, user_id: str) -> str | None:
        return self.inner.change_cursor(user_id)

    def changes_since(self, user_id: str, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        self._maybe_block(user_id, "read")
        return self.inner.changes_since(user_id, cursor)


def worker_setup() -> WorkerSetup:
    setup = example_worker_setup()
    tenants = []
    for tenant in setup.tenants:
        engine = tenant.engine
        slow = SlowSchedule(engine.schedule, tenant.name, setup.redis, setup.prefix)
        tenants.append(attrs.evolve(tenant, engine=SyncEngine(engine.store, slow, engine.contacts)))
    return attrs.evolve(setup, tenants=tenants)

"""Two ways a profile's changes waited for the hourly poll on the Celery path: a task that
found the lease held and whose retry the broker refused (Celery drops the message) left the
dedupe key behind, so each notification found it taken and queued nothing; and a last run
recorded ahead of the clock (a worker whose clock ran fast) kept ``sync_due`` from queuing
the profile until the clock caught up. Real Redis, as the keys' store and as the broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from celery.exceptions import Reject
from celery_broker import live_broker, unreachable_broker
from services import REDIS_URL

import calsync.celery as calsync_celery
from calsync import MemoryStateStore, SyncEngine, SyncProfile
from calsync.celery import CeleryTrigger
from calsync.celery_setup import Tenant, WorkerSetup
from calsync.processor import Connection
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio@group.calendar.google.com"
ANN = "studio.ann"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def studio(store: MemoryStateStore, client: redis.Redis, prefix: str) -> Callable[[], WorkerSetup]:
    google = MemoryCalendarBackend(calendars=[CAL])
    profiles = MemoryProfileStore([SyncProfile(ANN, "ann", CAL)])
    tenant = Tenant(
        "studio", SyncEngine(store, MemoryScheduleSource()), profiles, lambda _: Connection(google)
    )
    return lambda: WorkerSetup([tenant], client, prefix=prefix, jitter=0.0)


def test_a_task_whose_retry_the_broker_refused_leaves_the_profile_free_to_be_queued(
    client: redis.Redis, redis_prefix: str
) -> None:
    store = MemoryStateStore()
    setup = studio(store, client, redis_prefix)
    trigger = CeleryTrigger(client, redis_prefix)
    with live_broker(redis_prefix, setup) as waiting:
        trigger.request_sync(ANN)  # the calendar changed: one task queued
        assert waiting() == [ANN]
        client.delete(f"{redis_prefix}:{redis_prefix}")  # a worker took the message
    # another runner holds the lease; the worker runs the task while the broker is away
    assert store.acquire_lease(ANN, "desktop:1:x", timedelta(minutes=5), datetime.now(UTC))
    with unreachable_broker(redis_prefix, setup):
        task = calsync_celery.sync_profile
        task.push_request(
            id="t-1",
            retries=0,
            is_eager=False,
            called_directly=False,
            delivery_info={},
            args=[ANN],
            kwargs={},
        )
        try:
            with pytest.raises(Reject):  # Celery drops the message: no retry will come
                task.run(ANN)
        finally:
            task.pop_request()
    store.release_lease(ANN, "desktop:1:x")

    with live_broker(redis_prefix, setup) as waiting:
        trigger.request_sync(ANN)  # a change a moment later, the broker back
        assert waiting() == [ANN]


def test_a_last_run_ahead_of_the_clock_makes_the_profile_due(
    client: redis.Redis, redis_prefix: str
) -> None:
    store = MemoryStateStore()
    # a worker whose clock ran a day fast recorded the last run (corrected since)
    store.set_last_run(ANN, datetime.now(UTC) + timedelta(days=1))

    with live_broker(redis_prefix, studio(store, client, redis_prefix)):
        queued = calsync_celery.sync_due()

    assert queued == [ANN]

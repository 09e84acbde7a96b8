"""The dedupe keys in Redis are bookkeeping: a Redis that fails them never fails a sync (a
task run in this process, as a worker would run it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from studio_world import CAL, NOW, USER, Clock, session

import calsync.celery as calsync_celery
from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.celery_setup import Tenant, WorkerSetup
from calsync.processor import Connection
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource


@pytest.fixture
def calendar() -> Iterator[MemoryCalendarBackend]:
    clock = Clock(NOW)
    schedule = MemoryScheduleSource(now=clock)
    schedule.add(USER, session("s1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    profiles = MemoryProfileStore([SyncProfile("studio.u7", USER, CAL, SyncOptions())])
    engine = SyncEngine(MemoryStateStore(), schedule, clock=clock)
    tenant = Tenant("studio", engine, profiles, lambda profile: Connection(calendar))
    # nothing listens on port 1: every Redis command fails at once
    dead = redis.Redis(port=1, retry=Retry(NoBackoff(), 0), socket_connect_timeout=0.2)
    calsync_celery.setup_factory = lambda: WorkerSetup([tenant], dead, prefix="unreachable")
    calsync_celery._workers.clear()
    try:
        yield calendar
    finally:
        calsync_celery.setup_factory = None
        calsync_celery._workers.clear()


def test_a_sync_whose_dedupe_keys_redis_cannot_keep_still_runs_and_succeeds(
    calendar: MemoryCalendarBackend,
) -> None:
    result = calsync_celery.sync_profile.apply(args=["studio.u7"]).get()

    assert result["ok"] is True
    assert len(calendar.events(CAL)) == 1

"""``sync_due`` queues every studio's and every user's due profile, whatever one of them does
wrong: a studio whose profiles cannot be read (its database locked), a last run calsync
cannot read, a broker that refused a task for a moment. Real Redis, for the dedupe keys and
as the broker."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from celery_broker import live_broker, unreachable_broker
from services import REDIS_URL

import calsync.celery as calsync_celery
from calsync import MemoryStateStore, SyncEngine, SyncProfile
from calsync.celery_setup import Tenant, WorkerSetup, queued_key
from calsync.processor import Connection
from calsync.profile import ProfileStore
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio@group.calendar.google.com"


class LockedProfiles(MemoryProfileStore):
    """A studio whose profiles cannot be read: its database is locked."""

    def profiles(self) -> list[SyncProfile]:
        raise sqlite3.OperationalError("database is locked")


class Studios:
    """Tenants over one state store, served by this process's worker."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.store = MemoryStateStore()
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.tenants: list[Tenant] = []

    def add(self, name: str, profiles: ProfileStore) -> None:
        engine = SyncEngine(self.store, MemoryScheduleSource())
        google = MemoryCalendarBackend(calendars=[CAL])
        self.tenants.append(Tenant(name, engine, profiles, lambda _: Connection(google)))

    def setup(self) -> Callable[[], WorkerSetup]:
        return lambda: WorkerSetup(self.tenants, self.redis, prefix=self.prefix, jitter=0.0)


def users(studio: str, *names: str) -> MemoryProfileStore:
    return MemoryProfileStore([SyncProfile(f"{studio}.{name}", name, CAL) for name in names])


@pytest.fixture
def studios(redis_prefix: str) -> Iterator[Studios]:
    studios = Studios(redis_prefix)
    yield studios
    studios.redis.close()


def test_a_studio_whose_profiles_cannot_be_read_never_stops_the_other_studios(
    studios: Studios, caplog: pytest.LogCaptureFixture
) -> None:
    studios.add("locked", LockedProfiles())
    studios.add("open", users("open", "ann", "ben"))
    with live_broker(studios.prefix, studios.setup()) as waiting:
        queued = calsync_celery.sync_due()

        assert sorted(queued) == ["open.ann", "open.ben"]
        assert sorted(waiting()) == queued
    assert "the profiles of tenant locked could not be read" in caplog.text


def test_a_last_run_calsync_cannot_read_makes_the_profile_due_and_stops_no_other(
    studios: Studios, caplog: pytest.LogCaptureFixture
) -> None:
    studios.add("studio", users("studio", "ann", "ben", "cat"))
    studios.store.set_cursor("studio.ann", "processor:last_run", "yesterday")  # hand-edited
    studios.store.set_cursor("studio.ben", "processor:last_run", "2026-11-23T08:00:00")  # no zone
    studios.store.set_last_run("studio.cat", datetime.now(UTC) - timedelta(seconds=5))
    with live_broker(studios.prefix, studios.setup()):
        queued = calsync_celery.sync_due()

    assert sorted(queued) == ["studio.ann", "studio.ben"]  # cat was synced moments ago
    assert "profile studio.ann: last run 'yesterday' is unreadable" in caplog.text


def test_a_profile_whose_task_the_broker_refused_is_queued_at_the_next_beat(
    studios: Studios, caplog: pytest.LogCaptureFixture
) -> None:
    studios.add("studio", users("studio", "ann", "ben"))
    with unreachable_broker(studios.prefix, studios.setup()):
        assert calsync_celery.sync_due() == []

    assert "sync_due: could not queue studio.ann" in caplog.text
    assert studios.redis.get(queued_key(studios.prefix, "studio.ann")) is None
    with live_broker(studios.prefix, studios.setup()) as waiting:
        assert sorted(calsync_celery.sync_due()) == ["studio.ann", "studio.ben"]
        assert sorted(waiting()) == ["studio.ann", "studio.ben"]

"""A state store that cannot be reached (PostgreSQL down before the run, or lost during it)
makes ``sync_profile`` a failed run: the task ends normally with its summary and the run is
counted as ``failed``, so the alert on failed runs sees the outage. A lease the store could
not take back as the run ended never changes the run's own outcome. (A task run in this
process, as a worker would run it; real Redis for its dedupe keys.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from prometheus_client import REGISTRY
from services import REDIS_URL
from studio_world import CAL, NOW, USER, Clock, session

import calsync.celery as calsync_celery
from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.celery_setup import Tenant, WorkerSetup
from calsync.errors import StateUnavailable
from calsync.model import ScheduleItem, TimeRange
from calsync.processor import Connection
from calsync.sources import Unreadable
from calsync.state.base import StateStore
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

PROFILE = "studio.u7"


class Unreachable(MemoryStateStore):
    """A state store whose database goes away when ``down`` is set: every method of the
    contract then raises :class:`StateUnavailable`, as the PostgreSQL store's do; with
    ``release_refused``, only taking a lease back does."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.release_refused = False
        for name in StateStore.__abstractmethods__:
            setattr(self, name, self._unless_down(getattr(self, name)))

    def _unless_down(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            refused = self.release_refused and method.__name__ == "release_lease"
            if self.down or refused:
                raise StateUnavailable("PostgreSQL: connection refused")
            return method(*args, **kwargs)

        return call


class LosesTheStore(MemoryScheduleSource):
    """A host read during which the state store goes away (once ``store`` is given)."""

    store: Unreachable | None = None

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        if self.store is not None:
            self.store.down = True
        return super().list_items(user_id, window)


class Studio:
    def __init__(self, prefix: str) -> None:
        clock = Clock(NOW)
        self.store = Unreachable()
        self.schedule = LosesTheStore(now=clock)
        self.schedule.add(USER, session("s1"))
        self.calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
        profiles = MemoryProfileStore([SyncProfile(PROFILE, USER, CAL, SyncOptions())])
        engine = SyncEngine(self.store, self.schedule, clock=clock)
        tenant = Tenant("studio", engine, profiles, lambda _: Connection(self.calendar))
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.setup = WorkerSetup([tenant], self.redis, prefix=prefix, lease_ttl=timedelta(hours=1))

    def sync(self) -> dict[str, Any]:
        result = calsync_celery.sync_profile.apply(args=[PROFILE])
        assert result.successful(), repr(result.result)
        summary: dict[str, Any] = result.get()
        return summary


def runs(outcome: str) -> float:
    return REGISTRY.get_sample_value("calsync_runs_total", {"outcome": outcome}) or 0.0


@pytest.fixture
def studio(redis_prefix: str) -> Iterator[Studio]:
    studio = Studio(redis_prefix)
    calsync_celery.setup_factory = lambda: studio.setup
    calsync_celery._workers.clear()
    try:
        yield studio
    finally:
        calsync_celery.setup_factory = None
        calsync_celery._workers.clear()
        studio.redis.close()


def test_a_state_store_down_before_the_run_counts_a_failed_run(studio: Studio) -> None:
    studio.store.down = True
    failed = runs("failed")

    summary = studio.sync()

    assert (summary["ok"], runs("failed")) == (False, failed + 1)
    assert "state store" in (summary["fatal"] or "")


def test_a_state_store_lost_during_the_run_counts_a_failed_run(studio: Studio) -> None:
    studio.schedule.store = studio.store
    failed = runs("failed")

    summary = studio.sync()

    assert studio.store.down
    assert (summary["ok"], runs("failed")) == (False, failed + 1)


def test_a_lease_the_store_could_not_take_back_leaves_the_runs_own_outcome(
    studio: Studio,
) -> None:
    studio.store.release_refused = True
    ok = runs("ok")

    summary = studio.sync()

    assert (summary["ok"], summary["counts"], runs("ok")) == (True, {"remote.created": 1}, ok + 1)
    assert studio.store.get_last_run(PROFILE) is not None  # a successful run
    assert len(studio.calendar.events(CAL)) == 1


def test_the_stores_methods_all_fail_while_it_is_down() -> None:
    store = Unreachable()
    store.down = True
    with pytest.raises(StateUnavailable):
        store.get_last_run(PROFILE)
    with pytest.raises(StateUnavailable):
        store.acquire_lease(PROFILE, "runner", timedelta(minutes=1), datetime.now(UTC))

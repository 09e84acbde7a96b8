"""A state store that fails for a while (PostgreSQL restarting, a SQLite file locked past its
timeout) never ends serve(): a pass that cannot read what is due is logged once and tried
again after a back-off, and a lease the store cannot give is that profile's failed run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from push_world import wait_until

from calsync import MemoryStateStore, ProfileStatus, SyncEngine, SyncOptions, SyncProfile
from calsync.errors import StateUnavailable
from calsync.processor import Connection, SyncProcessor
from calsync.push import PushChannels
from calsync.state.base import Lease, PushChannel
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio"
ANN, BEN = (SyncProfile(f"studio.{u}", u, CAL, SyncOptions()) for u in ("ann", "ben"))


class UnreliableStore(MemoryStateStore):
    """A store whose channel reads fail while ``down`` is set, and whose lease fails
    ``lease_failures`` more times for the profiles in ``lease_down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.failed_reads = 0
        self.lease_down: set[str] = set()
        self.lease_failures = 0

    def push_channels(self, profile_id: str | None = None) -> list[PushChannel]:
        if self.down.is_set():
            self.failed_reads += 1
            raise StateUnavailable("state store (PostgreSQL): server closed the connection")
        return super().push_channels(profile_id)

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        if profile_id in self.lease_down and self.lease_failures > 0:
            self.lease_failures -= 1
            raise StateUnavailable("state store (PostgreSQL): connection refused")
        return super().acquire_lease(profile_id, holder, ttl, now)


class Studio:
    def __init__(self, *, push: bool) -> None:
        self.store = UnreliableStore()
        self.runs: list[str] = []
        self.profiles = MemoryProfileStore([ANN, BEN])
        channels = PushChannels(self.store, "https://sync.studio.example/google/notifications")
        self.processor = SyncProcessor(
            SyncEngine(self.store, MemoryScheduleSource()), self.profiles, self.connect,
            interval=600, jitter=0.0, push=channels if push else None,
        )  # fmt: skip

    def connect(self, profile: SyncProfile) -> Connection:
        self.runs.append(profile.id)
        return Connection(MemoryCalendarBackend(calendars=[CAL]))

    @contextmanager
    def serving(self) -> Iterator[threading.Thread]:
        died: list[BaseException] = []

        def serve() -> None:
            try:
                self.processor.serve()
            except BaseException as exc:  # what a daemon thread would print and forget
                died.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield thread
        finally:
            self.processor.stop()
            thread.join(timeout=10)
        assert died == []
        assert not thread.is_alive()


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("calsync.processor.FIRST_BACKOFF", 0.01)
    monkeypatch.setattr("calsync.processor.MAX_BACKOFF", 0.02)
    monkeypatch.setattr("calsync.processor.STORE_RETRY", 0.01)


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "calsync.processor" and r.levelno == level]  # fmt: skip


def test_a_state_store_down_for_a_while_is_logged_once_and_serving_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="calsync.processor")
    studio = Studio(push=True)
    with studio.serving() as serving:
        wait_until(lambda: sorted(studio.runs) == [ANN.id, BEN.id])
        studio.store.down.set()
        studio.processor.request_sync(ANN.id)  # a change in Ann's calendar, the store down
        wait_until(lambda: studio.store.failed_reads >= 10)  # many passes tried meanwhile
        studio.store.down.clear()

        wait_until(lambda: studio.runs.count(ANN.id) == 2)
        assert serving.is_alive()

    errors = messages(caplog, logging.ERROR)
    assert len(errors) == len(set(errors)) <= 2  # serving's and retiring's, once each
    assert any(m.startswith("serving (reading the profiles") for m in errors)
    assert any("works again" in m for m in messages(caplog, logging.INFO))


def test_a_lease_the_state_store_cannot_give_is_that_profiles_failed_run() -> None:
    studio = Studio(push=False)
    studio.store.lease_down.add(ANN.id)
    studio.store.lease_failures = 1

    runs = studio.processor.run_once()

    ann, ben = runs[ANN.id], runs[BEN.id]
    assert ann.failed
    assert ann.report is not None
    assert ann.report.fatal is not None
    assert "state store failed" in ann.report.fatal
    assert ann.status is None  # the store's trouble, not the user's
    assert studio.profiles.get(ANN.id).status is ProfileStatus.OK
    assert ben.report is not None
    assert ben.report.ok
    assert studio.runs == [BEN.id]


def test_serving_goes_on_after_a_lease_the_state_store_could_not_give() -> None:
    studio = Studio(push=False)
    with studio.serving():
        wait_until(lambda: sorted(studio.runs) == [ANN.id, BEN.id])
        studio.store.lease_down.add(ANN.id)
        studio.store.lease_failures = 1

        studio.processor.request_sync(ANN.id)  # the lease fails: the request is kept

        wait_until(lambda: studio.runs.count(ANN.id) == 2)
        assert studio.store.lease_failures == 0

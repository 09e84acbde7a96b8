"""A token store that cannot be read for now (PostgreSQL restarting, a SQLite file locked
past its timeout: :class:`~calsync.errors.StateUnavailable`) is the store's trouble, as a
failing state store is: the run is not the user's failed connection to Google, nobody is
emailed, the profile's status stays, and a requested sync is tried again once the store is
back, the wait doubling while it keeps failing. Its other errors stay a failed connection."""

from __future__ import annotations

import itertools
import threading
import time
from mailbox import Mailbox

import pytest
from push_world import wait_until
from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    ProfileStatus,
    SyncEngine,
    SyncOptions,
    SyncProfile,
)
from calsync.errors import SchemaVersionError, StateUnavailable
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

DOWN = "token store (PostgreSQL): connection to server at 127.0.0.1, port 5432 failed"


class Studio:
    def __init__(self) -> None:
        self.clock = Clock(NOW)
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.schedule.add("ann", session("s1"))
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL])
        options = SyncOptions(notifications=Notifications(warnings_and_errors=True))
        self.profiles = MemoryProfileStore(
            [SyncProfile("studio.ann", "ann", CAL, options, email="ann@studio.example")]
        )
        self.store = MemoryStateStore()
        self.mailbox = Mailbox()
        self.tokens_down = False
        self.processor = SyncProcessor(
            SyncEngine(self.store, self.schedule, clock=self.clock), self.profiles,
            self.connect, notifier=self.mailbox, clock=self.clock,
        )  # fmt: skip

    def connect(self, profile: SyncProfile) -> Connection:
        if self.tokens_down:  # as PostgresTokenStore.load raises it
            raise StateUnavailable(DOWN)
        return Connection(self.calendar)


def test_a_token_store_down_is_no_failed_connection_and_no_email() -> None:
    studio = Studio()
    studio.tokens_down = True

    runs = [studio.processor.run_profile(studio.profiles.get("studio.ann")) for _ in range(3)]

    for run in runs:
        assert run.failed
        assert run.report is not None
        assert run.report.fatal is not None
        assert run.report.fatal.startswith("the token store failed"), run.report.fatal
        assert "could not connect" not in run.report.fatal
        assert run.status is None  # the store's trouble, not the user's
    assert studio.profiles.get("studio.ann").status is ProfileStatus.OK
    assert studio.mailbox.subjects == []
    assert studio.store.get_last_run("studio.ann") is None  # due again at once
    assert not studio.calendar.events(CAL)


def test_the_run_after_the_token_store_is_back_syncs_and_tells_nothing_of_it() -> None:
    studio = Studio()
    studio.tokens_down = True
    studio.processor.run_profile(studio.profiles.get("studio.ann"))
    studio.clock.advance(minutes=1)
    studio.tokens_down = False

    run = studio.processor.run_profile(studio.profiles.get("studio.ann"))

    assert run.report is not None
    assert run.report.ok, run.report.summary()
    assert len(studio.calendar.events(CAL)) == 1
    assert studio.mailbox.subjects == []


def test_a_token_store_error_that_lasts_is_a_failed_connection_told_as_any() -> None:
    """Not every StateError is "for now": a token store at a schema calsync does not know,
    say, is a failed connection, reported and told (never retried quietly forever)."""
    studio = Studio()

    def broken(profile: SyncProfile) -> Connection:
        raise SchemaVersionError("token store: schema version 9 is newer than this calsync")

    studio.processor.connect = broken

    run = studio.processor.run_profile(studio.profiles.get("studio.ann"))

    assert run.report is not None
    assert run.report.fatal is not None
    assert run.report.fatal.startswith("could not connect"), run.report.fatal


def test_requested_syncs_back_off_while_the_token_store_keeps_failing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("calsync.processor.STORE_RETRY", 0.05)
    studio = Studio()
    studio.tokens_down = True
    tried: list[float] = []
    connect = studio.connect

    def counting(profile: SyncProfile) -> Connection:
        tried.append(time.monotonic())
        return connect(profile)

    studio.processor.connect = counting
    serving = threading.Thread(target=studio.processor.serve, daemon=True)
    serving.start()
    try:
        studio.processor.request_sync("studio.ann")  # (a change notification)
        wait_until(lambda: len(tried) >= 5, timeout=10)
    finally:
        studio.processor.stop()
        serving.join(timeout=10)

    waits = [b - a for a, b in itertools.pairwise(tried)]
    assert waits[-1] >= 0.15, waits  # 0.05, 0.1, 0.2, …: not every STORE_RETRY

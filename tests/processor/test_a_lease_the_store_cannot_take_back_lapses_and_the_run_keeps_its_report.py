"""A lease the state store cannot take back at the end of a run (PostgreSQL gone as the run
ends) is logged and left to lapse: the run's own outcome, its report or what it raised, is
never masked by the failed release."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from studio_world import CAL, NOW, USER, Clock, session

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.errors import StateUnavailable
from calsync.leases import ProfileLease
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

TTL = timedelta(minutes=10)


class ReleaseRefused(MemoryStateStore):
    """A store that cannot take a lease back, as an unreachable database cannot."""

    def release_lease(self, profile_id: str, holder: str) -> None:
        raise StateUnavailable("PostgreSQL: server closed the connection unexpectedly")


def now() -> datetime:
    return datetime.now(UTC)


def test_a_release_the_store_refuses_is_logged_and_the_lease_lapses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = ReleaseRefused()

    with (
        caplog.at_level(logging.WARNING, "calsync.leases"),
        ProfileLease(store, "runner-a", TTL, now).hold("ann") as held,
    ):
        assert held is not None

    lease = store.get_lease("ann")
    assert lease is not None
    assert lease.holder == "runner-a"  # until it expires
    assert "releasing the lease failed (StateUnavailable)" in caplog.text


def test_a_failed_release_never_masks_what_the_run_raised() -> None:
    store = ReleaseRefused()

    with (
        pytest.raises(KeyError, match="the run's own error"),
        ProfileLease(store, "runner-a", TTL, now).hold("ann"),
    ):
        raise KeyError("the run's own error")


def test_a_run_whose_lease_cannot_be_released_keeps_its_report_and_last_run() -> None:
    clock = Clock(NOW)
    store = ReleaseRefused()
    schedule = MemoryScheduleSource(now=clock)
    schedule.add(USER, session("s1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    profile = SyncProfile("studio.u7", USER, CAL, SyncOptions())
    processor = SyncProcessor(
        SyncEngine(store, schedule, clock=clock),
        MemoryProfileStore([profile]),
        lambda _: Connection(calendar),
        clock=clock,
    )

    run = processor.run_profile(profile)

    assert run.report is not None
    assert (run.report.ok, run.report.fatal) == (True, None)
    assert run.report.counts["remote.created"] == 1
    assert len(calendar.events(CAL)) == 1
    assert store.get_last_run(profile.id) == NOW

"""The processor refuses an interval, a jitter or a "sync now" wait it cannot work with, when
it is given, instead of syncing in a tight loop, never syncing, or crashing mid-round."""

from __future__ import annotations

import math
from typing import Any

import pytest
from studio_world import CAL, NOW, Clock, session

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.processor import MAX_INTERVAL, Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

PROFILE = SyncProfile("studio.ann", "ann", CAL, SyncOptions())


def processor(**options: Any) -> SyncProcessor:
    clock = Clock(NOW)
    schedule = MemoryScheduleSource(now=clock)
    schedule.add("ann", session("ann-1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    engine = SyncEngine(MemoryStateStore(), schedule, clock=clock)
    return SyncProcessor(
        engine,
        MemoryProfileStore([PROFILE]),
        lambda profile: Connection(calendar),
        clock=clock,
        **options,
    )


@pytest.mark.parametrize("interval", [math.nan, math.inf, -1.0, 1e300, MAX_INTERVAL + 1])
def test_an_interval_that_is_not_a_number_of_seconds_up_to_a_week_is_refused(
    interval: float,
) -> None:
    with pytest.raises(ValueError, match="interval must be a number of seconds from 0 to 604800"):
        processor(interval=interval)


@pytest.mark.parametrize("jitter", [math.nan, 5.0, -0.1])
def test_a_jitter_outside_zero_to_one_is_refused_naming_the_value(jitter: float) -> None:
    with pytest.raises(ValueError, match=r"jitter must be in \[0, 1\), not"):
        processor(jitter=jitter)


def test_the_intervals_at_the_edges_are_taken_and_a_round_runs() -> None:
    assert processor(interval=MAX_INTERVAL).run_once()["studio.ann"].report is not None
    assert processor(interval=0.0).run_once()["studio.ann"].report is not None


@pytest.mark.parametrize("wait", [math.nan, math.inf, -5.0, 1e300])
def test_sync_now_refuses_a_wait_that_is_not_a_number_of_seconds(wait: float) -> None:
    with pytest.raises(ValueError, match="wait must be a number of seconds, 0 or more"):
        processor(interval=60.0).run_profile(PROFILE, wait=wait)


def test_sync_now_takes_a_wait_of_zero() -> None:
    run = processor(interval=60.0).run_profile(PROFILE, wait=0.0)

    assert run.report is not None
    assert run.report.ok

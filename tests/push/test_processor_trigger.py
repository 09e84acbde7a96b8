"""SyncProcessor as the push trigger: request_sync wakes serve, and no change is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytest
from push_world import wait_until

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.processor import Connection, SyncProcessor
from calsync.push import Polling, PushChannels
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio"


class Recorder:
    def __init__(self) -> None:
        self.runs: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.inside = threading.Event()

    def connect(self, profile: SyncProfile) -> Connection:
        self.runs.append(profile.id)
        self.inside.set()
        self.gate.wait(5)
        return Connection(MemoryCalendarBackend(calendars=[CAL]))


@contextmanager
def serving(recorder: Recorder, *profiles: SyncProfile, **options: Any) -> Iterator[SyncProcessor]:
    store = MemoryStateStore()
    engine = SyncEngine(store, MemoryScheduleSource())
    options.setdefault("interval", 600)
    processor = SyncProcessor(
        engine, MemoryProfileStore(profiles), recorder.connect, jitter=0.0, **options
    )
    thread = threading.Thread(target=processor.serve, daemon=True)
    thread.start()
    try:
        yield processor
    finally:
        processor.stop()
        thread.join(timeout=10)


ANN = SyncProfile("studio.ann", "ann", CAL, SyncOptions())


def test_a_requested_sync_runs_at_once_even_right_after_another_runners_sync() -> None:
    recorder = Recorder()
    with serving(recorder, ANN) as processor:
        wait_until(lambda: recorder.runs == ["studio.ann"])
        processor.store.set_last_run(ANN.id, processor.clock())

        processor.request_sync(ANN.id)

        wait_until(lambda: len(recorder.runs) == 2, timeout=2)


def test_a_request_made_while_the_profile_syncs_gives_one_more_run_after_it() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    with serving(recorder, ANN) as processor:
        recorder.inside.wait(5)
        processor.request_sync(ANN.id)
        processor.request_sync(ANN.id)
        recorder.gate.set()

        wait_until(lambda: len(recorder.runs) == 2, timeout=2)
        wait_until(lambda: not processor._requested, timeout=2)

    assert recorder.runs == ["studio.ann", "studio.ann"]


def test_a_request_for_a_profile_with_sync_off_runs_nothing() -> None:
    recorder = Recorder()
    with serving(recorder, attrs.evolve(ANN, enabled=False)) as processor:
        processor.request_sync(ANN.id)
        wait_until(lambda: not processor._requested, timeout=2)

    assert recorder.runs == []


class SwitchablePush(PushChannels):
    """Push channels whose health the test decides (no Google involved)."""

    def __init__(self) -> None:
        super().__init__(MemoryStateStore(), "https://sync.studio.example/google/notifications")
        self.is_healthy = True

    def polling(self, profile: SyncProfile, *, interval: float, safety_interval: float,
                **clock: float | None) -> Polling:  # fmt: skip
        return Polling(safety_interval if self.is_healthy else interval, None)  # no upkeep

    def maintain(self, profile: SyncProfile, calendar: object, **kw: object) -> None:
        pass


def test_a_healthy_channel_stretches_the_poll_and_a_failed_one_restores_it_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("calsync.processor.MAX_IDLE", 0.05)
    recorder, push = Recorder(), SwitchablePush()
    with serving(recorder, ANN, interval=0.3, push=push, safety_interval=600):
        wait_until(lambda: recorder.runs == ["studio.ann"])
        time.sleep(0.8)  # more than two normal intervals
        quiet = len(recorder.runs)

        push.is_healthy = False
        took = wait_until(lambda: len(recorder.runs) == 2, timeout=2)

    assert quiet == 1
    assert took < 0.3  # the last run is long past one normal interval: due at once

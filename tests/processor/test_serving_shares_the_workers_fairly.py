"""How serve() shares its workers once each run is started on its own: a profile requested
during each of its runs never keeps a scheduled one waiting for ever; ``rounds`` ends when
every profile of the round has started, however few the workers; requests for a profile in a
run wake nothing until the run ends; and a last run ahead of this runner's clock (set back,
another runner's running fast) does not make every scheduled run a "synced moments ago" skip."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from push_world import wait_until

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio"


def profile(name: str) -> SyncProfile:
    return SyncProfile(f"studio.{name}", name, CAL, SyncOptions())


class Google:
    """Connections that count each profile's runs; ``on_connect`` runs inside each."""

    def __init__(self, on_connect: Callable[[SyncProfile], None] = lambda p: None) -> None:
        self.runs: list[str] = []
        self.lock = threading.Lock()
        self.on_connect = on_connect

    def connect(self, p: SyncProfile) -> Connection:
        with self.lock:
            self.runs.append(p.id)
        self.on_connect(p)
        return Connection(MemoryCalendarBackend(calendars=[CAL]))

    def count(self, p: SyncProfile) -> int:
        with self.lock:
            return self.runs.count(p.id)


def processor(google: Google, *profiles: SyncProfile, **options: Any) -> SyncProcessor:
    engine = SyncEngine(MemoryStateStore(), MemoryScheduleSource())
    return SyncProcessor(
        engine, MemoryProfileStore(profiles), google.connect, jitter=0.0, **options
    )


def serving(processor: SyncProcessor, **kw: int) -> threading.Thread:
    thread = threading.Thread(target=processor.serve, kwargs=kw, daemon=True)
    thread.start()
    return thread


ANN, BOB = profile("ann"), profile("bob")


def test_a_profile_requested_during_each_of_its_runs_lets_a_due_one_have_its_turn() -> None:
    requests: list[SyncProcessor] = []

    def busy_calendar(p: SyncProfile) -> None:
        if p.id == ANN.id:  # Ann's calendar changes during each of her runs
            requests[0].request_sync(ANN.id)

    google = Google(busy_calendar)
    served = processor(google, ANN, BOB, interval=600, workers=1)
    requests.append(served)
    served.request_sync(ANN.id)
    thread = serving(served)
    try:
        wait_until(lambda: google.count(ANN) >= 20)
    finally:
        served.stop()
        thread.join(10)

    assert google.count(BOB) >= 1  # due from the start: his turn came among Ann's runs


def test_rounds_end_when_every_profile_of_the_round_started_with_fewer_workers() -> None:
    google = Google(lambda p: time.sleep(0.05))  # each run outlasts the interval
    served = processor(google, ANN, BOB, profile("cara"), interval=0.01, workers=1)
    thread = serving(served, rounds=1)
    thread.join(10)
    ended = not thread.is_alive()
    served.stop()
    thread.join(10)

    assert ended
    assert sorted(set(google.runs)) == ["studio.ann", "studio.bob", "studio.cara"]


def test_requests_for_a_profile_in_a_run_do_not_each_cost_a_pass() -> None:
    users = [profile(f"u{number}") for number in range(50)]
    gate, inside = threading.Event(), threading.Event()

    def held(p: SyncProfile) -> None:
        if p.id == users[0].id and google.count(p) > 1:
            inside.set()
            gate.wait(30)

    google = Google(held)
    served = processor(google, *users, interval=600, workers=4)
    passes: list[int] = []
    listed = served.profiles.profiles

    def counted() -> Iterable[SyncProfile]:
        passes.append(1)
        return listed()

    served.profiles.profiles = counted  # type: ignore[method-assign]
    thread = serving(served)
    try:
        wait_until(lambda: len(google.runs) >= len(users))
        served.request_sync(users[0].id)
        assert inside.wait(10)
        before = len(passes)
        for _ in range(500):  # notifications for a user whose run is in progress
            served.request_sync(users[0].id)
            time.sleep(0.001)  # (as they come: the loop may wake between two)
        during = len(passes) - before
    finally:
        gate.set()
        served.stop()
        thread.join(10)

    assert during <= 2  # nothing can start for that user until the run ends


def test_a_last_run_ahead_of_this_clock_is_no_recent_run() -> None:
    start = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
    now = [start]
    served = SyncProcessor(
        SyncEngine(MemoryStateStore(), MemoryScheduleSource()),
        MemoryProfileStore([ANN]),
        Google().connect,
        interval=300,
        clock=lambda: now[0],
    )
    assert served.run_profile(ANN, scheduled=True).report is not None

    now[0] = start - timedelta(hours=5)  # the clock set back, then an hour of serving
    later = served.run_profile(ANN, scheduled=True)
    now[0] += timedelta(minutes=1)  # a minute after that run: it is recent
    recent = served.run_profile(ANN, scheduled=True)

    assert later.skipped is None
    assert recent.skipped == "synced moments ago"

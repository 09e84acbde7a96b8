"""serve() starts each run on its own: a requested sync starts as soon as a worker is free,
whatever another user's run is doing, and serving keeps its limits (one run per profile at a
time, at most ``workers`` runs at once)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from push_world import wait_until

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

CAL = "studio"
ANN, BOB, CARA = (SyncProfile(f"studio.{u}", u, CAL, SyncOptions()) for u in ("ann", "bob", "cara"))


class Google:
    """Connections whose runs the test holds open, per user, counting runs in progress."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.held: dict[str, threading.Event] = {}
        self.inside: set[str] = set()
        self.most_at_once = 0
        self.twice_at_once: list[str] = []
        self._lock = threading.Lock()

    def hold(self, profile: SyncProfile) -> threading.Event:
        self.held[profile.id] = threading.Event()
        return self.held[profile.id]

    def connect(self, profile: SyncProfile) -> Connection:
        with self._lock:
            self.runs.append(profile.id)
            if profile.id in self.inside:
                self.twice_at_once.append(profile.id)
            self.inside.add(profile.id)
            self.most_at_once = max(self.most_at_once, len(self.inside))
        gate = self.held.get(profile.id)
        if gate is not None:
            gate.wait(60)  # released by the test, or at its end
        return Connection(MemoryCalendarBackend(calendars=[CAL]), close=self._closer(profile))

    def _closer(self, profile: SyncProfile) -> Callable[[], None]:
        def close() -> None:
            with self._lock:
                self.inside.discard(profile.id)

        return close

    def count(self, profile: SyncProfile) -> int:
        with self._lock:
            return self.runs.count(profile.id)


@contextmanager
def serving(google: Google, *profiles: SyncProfile, workers: int) -> Iterator[SyncProcessor]:
    engine = SyncEngine(MemoryStateStore(), MemoryScheduleSource())
    processor = SyncProcessor(engine, MemoryProfileStore(profiles), google.connect,
                              interval=600, jitter=0.0, workers=workers)  # fmt: skip
    thread = threading.Thread(target=processor.serve, daemon=True)
    thread.start()
    try:
        yield processor
    finally:
        for gate in google.held.values():
            gate.set()
        processor.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_notification_for_bob_starts_his_sync_while_anns_long_sync_goes_on() -> None:
    google = Google()
    with serving(google, ANN, BOB, workers=4) as processor:
        wait_until(lambda: google.count(ANN) == google.count(BOB) == 1 and not google.inside)
        anns_long_run = google.hold(ANN)
        processor.request_sync(ANN.id)
        wait_until(lambda: google.count(ANN) == 2)

        processor.request_sync(BOB.id)

        wait_until(lambda: google.count(BOB) == 2 and BOB.id not in google.inside)
        assert not anns_long_run.is_set()
        assert ANN.id in google.inside  # Ann's run is still going on


def test_a_request_for_a_profile_in_progress_gives_one_more_run_after_it_never_beside_it() -> None:
    google = Google()
    with serving(google, ANN, BOB, workers=4) as processor:
        wait_until(lambda: google.count(ANN) == google.count(BOB) == 1 and not google.inside)
        first_gate = google.hold(ANN)
        processor.request_sync(ANN.id)
        wait_until(lambda: google.count(ANN) == 2)

        processor.request_sync(ANN.id)  # a change while Ann syncs
        processor.request_sync(BOB.id)  # lets serving go round meanwhile
        wait_until(lambda: google.count(BOB) == 2 and BOB.id not in google.inside)
        del google.held[ANN.id]
        first_gate.set()

        wait_until(lambda: google.count(ANN) == 3 and not google.inside)
        wait_until(lambda: not processor._requested)

    assert google.twice_at_once == []
    assert google.count(ANN) == 3


def test_serving_never_runs_more_profiles_at_once_than_it_has_workers() -> None:
    google = Google()
    gates = [google.hold(p) for p in (ANN, BOB)]
    with serving(google, ANN, BOB, CARA, workers=2) as processor:
        wait_until(lambda: google.inside == {ANN.id, BOB.id})
        processor.request_sync(CARA.id)  # waits for a free worker
        gates[0].set()

        wait_until(lambda: google.count(CARA) == 1 and CARA.id not in google.inside)

    assert google.most_at_once == 2
    assert google.twice_at_once == []

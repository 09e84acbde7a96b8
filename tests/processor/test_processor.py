"""The sync processor: isolation, leases, status write-back, scheduling."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from studio_world import CAL, NOW, Clock, session

from calsync import (
    AuthError,
    MemoryStateStore,
    ProfileStatus,
    SqliteStateStore,
    StateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.backends import EventWrite
from calsync.notify import Notifier
from calsync.processor import Connection, ProfileRun, SyncProcessor
from calsync.state import Lease
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

USERS = ["ann", "ben", "cara", "dan"]


class Studio:
    """Four users, each with their own in-memory Google calendar."""

    def __init__(self, store: StateStore | None = None) -> None:
        self.clock = Clock(NOW)
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.calendars = {u: MemoryCalendarBackend(now=self.clock, calendars=[CAL]) for u in USERS}
        self.profiles = MemoryProfileStore(
            SyncProfile(f"studio.{u}", u, CAL, SyncOptions()) for u in USERS
        )
        for user in USERS:
            self.schedule.add(user, session(f"{user}-1"))
        self.store: StateStore = store or MemoryStateStore()
        self.engine = SyncEngine(self.store, self.schedule, clock=self.clock)
        self.refuse: set[str] = set()
        self.explode: set[str] = set()

    def connect(self, profile: SyncProfile) -> Connection:
        if profile.user_id in self.refuse:
            raise AuthError("invalid_grant: token revoked")
        if profile.user_id in self.explode:
            raise RuntimeError("adapter bug")
        return Connection(self.calendars[profile.user_id])

    def processor(self, **kw: Any) -> SyncProcessor:
        values: dict[str, Any] = {"clock": self.clock, "interval": 60.0}
        values.update(kw)
        return SyncProcessor(self.engine, self.profiles, self.connect, **values)


def test_run_once_syncs_every_profile_and_clears_the_first_time_switch() -> None:
    studio = Studio()

    runs = studio.processor().run_once()

    assert sorted(runs) == [f"studio.{u}" for u in sorted(USERS)]
    assert all(run.report is not None and run.report.ok for run in runs.values())
    assert all(len(studio.calendars[u].events(CAL)) == 1 for u in USERS)
    assert not any(p.options.initial_sync_pending for p in studio.profiles.profiles())


def test_one_profiles_failure_never_stops_the_others() -> None:
    studio = Studio()
    studio.explode.add("ben")

    runs = studio.processor().run_once()

    assert runs["studio.ben"].report is not None
    assert "could not connect" in (runs["studio.ben"].report.fatal or "")
    assert all(len(studio.calendars[u].events(CAL)) == 1 for u in USERS if u != "ben")


def test_a_revoked_authorisation_marks_the_profile_and_it_waits_for_the_user() -> None:
    studio = Studio()
    studio.refuse.add("cara")
    processor = studio.processor()

    first = processor.run_once()

    assert first["studio.cara"].report is not None
    assert first["studio.cara"].report.needs_reauth
    assert studio.profiles.get("studio.cara").status is ProfileStatus.NEEDS_REAUTH
    studio.clock.advance(minutes=5)
    assert "studio.cara" not in processor.run_once()
    # the user authorises again; the host sets the status back
    studio.refuse.clear()
    studio.profiles.put(attrs.evolve(studio.profiles.get("studio.cara"), status=ProfileStatus.OK))
    studio.clock.advance(minutes=5)
    again = processor.run_once()
    assert again["studio.cara"].report is not None
    assert again["studio.cara"].report.ok


def test_a_deleted_calendar_tells_the_host_to_ask_for_a_new_one() -> None:
    studio = Studio()
    processor = studio.processor()
    processor.run_once()
    studio.calendars["dan"].delete_calendar(CAL)
    studio.clock.advance(minutes=5)

    processor.run_once()

    dan = studio.profiles.get("studio.dan")
    assert (dan.status, dan.calendar_id) == (ProfileStatus.CALENDAR_GONE, None)
    assert dan.options.initial_sync_pending
    studio.clock.advance(minutes=5)
    assert "studio.dan" not in processor.run_once()


def test_a_profile_whose_lease_another_runner_holds_is_skipped() -> None:
    studio = Studio()
    studio.store.acquire_lease("studio.ann", "other-runner", timedelta(minutes=5), NOW)

    runs = studio.processor().run_once()

    assert runs["studio.ann"].skipped == "another runner is syncing this user"
    assert studio.calendars["ann"].events(CAL) == {}


def test_a_lease_left_by_a_crashed_runner_expires_and_is_taken_over() -> None:
    studio = Studio()
    studio.store.acquire_lease("studio.ann", "crashed", timedelta(minutes=5), NOW)
    studio.clock.advance(minutes=6)

    runs = studio.processor().run_once()

    assert runs["studio.ann"].report is not None


def test_two_processors_racing_sync_each_profile_exactly_once_per_round(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    studio = Studio(SqliteStateStore(path))
    second_store = SqliteStateStore(path)
    other = SyncEngine(second_store, studio.schedule, clock=studio.clock)
    processors = [
        studio.processor(holder="runner-a"),
        SyncProcessor(
            other,
            studio.profiles,
            studio.connect,
            clock=studio.clock,
            interval=60.0,
            holder="runner-b",
        ),
    ]
    barrier = threading.Barrier(2)
    results: list[dict[str, ProfileRun]] = []

    def race(processor: SyncProcessor) -> None:
        barrier.wait()
        results.append(processor.run_once())

    threads = [threading.Thread(target=race, args=(p,)) for p in processors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    synced = [pid for runs in results for pid, run in runs.items() if run.report is not None]
    assert sorted(synced) == sorted(f"studio.{u}" for u in USERS)
    assert all(len(studio.calendars[u].events(CAL)) == 1 for u in USERS)
    second_store.close()


def test_one_runner_never_syncs_a_profile_twice_at_once_and_a_confirmation_waits() -> None:
    studio = Studio()
    processor = studio.processor()
    entered, release = threading.Event(), threading.Event()
    connections: list[str] = []
    plain_connect = studio.connect

    def slow_connect(profile: SyncProfile) -> Connection:
        connections.append(profile.id)
        if len(connections) == 1:
            entered.set()
            release.wait(5)
        return plain_connect(profile)

    processor.connect = slow_connect
    ann = studio.profiles.get("studio.ann")
    first: list[ProfileRun] = []
    runner = threading.Thread(target=lambda: first.append(processor.run_profile(ann)))
    runner.start()
    entered.wait(5)

    second = processor.run_profile(ann, scheduled=True)
    confirming: list[ProfileRun] = []
    confirmer = threading.Thread(
        target=lambda: confirming.append(processor.run_profile(ann, confirm_deletions=True))
    )
    confirmer.start()
    confirmer.join(0.2)
    waited = confirmer.is_alive()
    release.set()
    runner.join(5)
    confirmer.join(5)

    assert second.skipped == "already being synced by this runner"
    assert waited  # the confirmation did not run alongside the first sync
    assert connections == ["studio.ann", "studio.ann"]  # first run, then the confirmation
    assert all(run.report is not None for run in (*first, *confirming))


def test_serve_runs_rounds_on_a_schedule_until_stopped() -> None:
    studio = Studio()
    processor = studio.processor(interval=0.05, jitter=0.2)
    studio.clock.now = NOW

    thread = threading.Thread(target=processor.serve)
    thread.start()
    threading.Event().wait(0.3)
    processor.stop()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert all(len(studio.calendars[u].events(CAL)) == 1 for u in USERS)


def test_serve_with_rounds_stops_by_itself() -> None:
    studio = Studio()
    processor = studio.processor(interval=0.01, jitter=0.0)

    processor.serve(rounds=1)

    assert all(len(studio.calendars[u].events(CAL)) == 1 for u in USERS)


def test_jitter_outside_its_range_is_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        Studio().processor(jitter=1.5)


def test_sync_now_waits_for_another_runners_run_and_then_runs() -> None:
    studio = Studio()
    studio.store.acquire_lease("studio.ann", "other-runner", timedelta(minutes=5), NOW)
    processor = studio.processor(lease_poll=0.02)
    runs: list[ProfileRun] = []
    waiting = threading.Thread(
        target=lambda: runs.append(processor.run_profile(studio.profiles.get("studio.ann")))
    )

    waiting.start()
    waiting.join(0.3)
    waited = waiting.is_alive()
    studio.store.release_lease("studio.ann", "other-runner")
    waiting.join(5)

    assert waited
    assert runs[0].report is not None
    assert len(studio.calendars["ann"].events(CAL)) == 1


def test_sync_now_gives_up_when_the_other_run_outlasts_the_wait() -> None:
    studio = Studio()
    studio.store.acquire_lease("studio.ann", "other-runner", timedelta(minutes=5), NOW)

    run = studio.processor(lease_poll=0.02).run_profile(studio.profiles.get("studio.ann"), wait=0.1)

    assert run.skipped == "another runner is syncing this user (waited 0s)"


def test_rounds_skip_a_profile_synced_moments_ago_unless_that_run_failed() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.explode.add("ben")
    processor.run_once()
    studio.explode.clear()
    studio.clock.advance(seconds=10)

    runs = processor.run_once()

    assert runs["studio.ann"].skipped == "synced moments ago"
    assert runs["studio.ben"].report is not None
    assert runs["studio.ben"].report.ok


@pytest.mark.parametrize("scheduled", [False, True], ids=["sync now", "scheduled"])
def test_a_profile_whose_sync_is_off_is_never_run(scheduled: bool) -> None:
    studio = Studio()
    studio.profiles.put(attrs.evolve(studio.profiles.get("studio.ann"), enabled=False))
    studio.schedule.add("ann", session("ann-2", day=4))

    run = studio.processor().run_profile(studio.profiles.get("studio.ann"), scheduled=scheduled)

    assert (run.skipped, run.report) == ("sync is off", None)
    assert studio.calendars["ann"].events(CAL) == {}
    assert studio.store.get_lease("studio.ann") is None


def test_an_explicit_run_that_gets_through_sets_a_waiting_profile_back_to_ok() -> None:
    studio = Studio()
    for user in ("ann", "ben"):
        waiting = attrs.evolve(
            studio.profiles.get(f"studio.{user}"), status=ProfileStatus.NEEDS_REAUTH
        )
        studio.profiles.put(waiting)
    studio.explode.add("ben")  # ben's connection fails for another reason: nobody knows
    processor = studio.processor()

    ann = processor.run_profile(studio.profiles.get("studio.ann"))
    ben = processor.run_profile(studio.profiles.get("studio.ben"))

    assert (ann.status, ben.status) == (ProfileStatus.OK, ProfileStatus.NEEDS_REAUTH)
    assert studio.profiles.get("studio.ann").status is ProfileStatus.OK


class HeldOpenCalendar(MemoryCalendarBackend):
    """A calendar whose first batch of writes waits, once done, until the test lets it go
    (a runner asleep or stalled between two batches)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.written, self.go_on = threading.Event(), threading.Event()
        self.batches = 0

    def write_events(self, calendar_id: str, writes: Sequence[EventWrite]) -> list[Any]:
        results = super().write_events(calendar_id, writes)
        self.batches += 1
        if self.batches == 1:
            self.written.set()
            assert self.go_on.wait(10)
        return results


class RefusalWatch(MemoryStateStore):
    """A memory store that says when it refused a lease to runner-a."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = threading.Event()

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        lease = super().acquire_lease(profile_id, holder, ttl, now)
        if lease is None and holder == "runner-a":
            self.refused.set()
        return lease


class Notices(Notifier):
    def __init__(self) -> None:
        self.sent: list[str] = []

    def notify(self, profile: SyncProfile, report: SyncReport, trace: str, *more: Any) -> None:
        self.sent.append(profile.id)


def test_a_run_whose_lease_another_runner_took_stops_before_its_next_batch_and_tells_no_one() -> (
    None
):
    studio = Studio(RefusalWatch())
    for number in range(2, 6):
        studio.schedule.add("ann", session(f"ann-{number}"))
    studio.calendars["ann"] = calendar = HeldOpenCalendar(now=studio.clock, calendars=[CAL])
    studio.engine.batch_size = 2
    notices = Notices()
    processor = studio.processor(
        holder="runner-a", lease_ttl=timedelta(seconds=3), notifier=notices
    )
    ann = studio.profiles.get("studio.ann")
    runs: list[ProfileRun] = []
    running = threading.Thread(target=lambda: runs.append(processor.run_profile(ann)))
    running.start()
    assert calendar.written.wait(10)

    studio.clock.advance(minutes=5)  # runner-a's lease expired, as another runner's clock says
    assert studio.store.acquire_lease(
        "studio.ann", "runner-b", timedelta(minutes=5), studio.clock()
    )
    assert isinstance(studio.store, RefusalWatch)
    assert studio.store.refused.wait(5)  # runner-a's next renewal (each second) finds runner-b
    calendar.go_on.set()
    running.join(10)

    [run] = runs
    assert run.lease_lost
    assert run.stopped is not None
    assert "another runner holds it now" in run.stopped
    assert len(calendar.events(CAL)) == 2  # the first batch, and not one write after it
    assert calendar.batches == 1
    assert notices.sent == []
    assert studio.profiles.messages == {}
    lease = studio.store.get_lease("studio.ann")
    assert lease is not None
    assert lease.holder == "runner-b"

    studio.store.release_lease("studio.ann", "runner-b")  # runner-b's run, done
    after = studio.processor(holder="runner-b").run_profile(ann)
    assert after.report is not None
    assert after.report.ok
    assert len(calendar.events(CAL)) == 5

"""A runner's lease while its run lasts: renewed, tried again when a renewal fails, and lost
(never taken back) once another runner holds it or it went its whole time without renewal."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from calsync import LeaseLost, MemoryStateStore, leases
from calsync.leases import HeldLease, ProfileLease
from calsync.state.base import Lease

TTL = timedelta(seconds=0.6)  # renewed every 0.2 s


def now() -> datetime:
    return datetime.now(UTC)


class FlakyStore(MemoryStateStore):
    """A store whose lease renewals fail while ``failing`` is set, as an unreachable
    database's would; it counts the renewals asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = threading.Event()
        self.asked = 0

    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        self.asked += 1
        if self.failing.is_set():
            raise ConnectionError("the database is unreachable")
        return super().acquire_lease(profile_id, holder, ttl, now)


def wait_until_lost(held: HeldLease, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    while (why := held.lost()) is None:
        assert time.monotonic() < deadline, "the lease was never found lost"
        time.sleep(0.01)
    return why


def test_a_lease_renewed_on_time_is_held_for_longer_than_its_time() -> None:
    store = FlakyStore()
    with ProfileLease(store, "runner-a", TTL, now).hold("ann") as held:
        assert held is not None
        time.sleep(TTL.total_seconds() * 2)
        assert held.lost() is None
        held.check()
    assert store.asked >= 4  # the first grant and the renewals
    assert store.get_lease("ann") is None  # given back


def test_a_renewal_that_finds_another_holder_loses_the_lease_and_the_run_must_stop() -> None:
    store = MemoryStateStore()
    with ProfileLease(store, "runner-a", TTL, now).hold("ann") as held:
        assert held is not None
        # another runner whose clock says runner-a's lease has expired takes it over
        assert store.acquire_lease("ann", "runner-b", timedelta(minutes=5), now() + TTL * 2)

        assert wait_until_lost(held) == "another runner holds it now"
        with pytest.raises(LeaseLost, match="lost the profile's lease: another runner holds it"):
            held.check()
    lease = store.get_lease("ann")
    assert lease is not None
    assert lease.holder == "runner-b"


def test_a_lease_whose_renewals_fail_for_its_whole_time_is_lost_and_never_taken_back() -> None:
    store = FlakyStore()
    with ProfileLease(store, "runner-a", TTL, now).hold("ann") as held:
        assert held is not None
        store.failing.set()

        assert "was not renewed for" in wait_until_lost(held)
        store.failing.clear()  # the store is back, and would still grant it to runner-a
        time.sleep(TTL.total_seconds())
        assert held.lost() is not None  # what the run planned may be stale by now
        with pytest.raises(LeaseLost):
            held.check()


def test_a_renewal_that_fails_is_tried_again_sooner_and_keeps_the_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leases, "RENEWAL_RETRY", 0.05)
    store, ttl = FlakyStore(), timedelta(seconds=1.5)  # renewed every 0.5 s
    with ProfileLease(store, "runner-a", ttl, now).hold("ann") as held:
        assert held is not None
        time.sleep(0.1)
        store.failing.set()
        # the renewals at 0.5 s and 1 s fail: without a sooner try, the next is at 1.5 s, when
        # the lease has run its time
        time.sleep(1.0)
        store.failing.clear()
        time.sleep(1.0)

        assert held.lost() is None
        held.check()
    assert store.asked >= 10  # tried again every 0.05 s while failing


def test_a_lease_is_lost_when_the_wall_clock_says_its_time_passed_while_the_monotonic_stood_still(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A computer asleep: Linux's monotonic clock does not advance while it sleeps."""
    held = HeldLease("ann", TTL)
    held.renewed(HeldLease.now())
    asleep = TTL.total_seconds() * 10
    wall = time.time
    monkeypatch.setattr(time, "time", lambda: wall() + asleep)

    assert "was not renewed for 6s" in (held.lost() or "")


def test_a_lease_held_by_another_runner_is_not_given_and_no_keeper_runs() -> None:
    store = MemoryStateStore()
    store.acquire_lease("ann", "runner-b", timedelta(minutes=5), now())
    before = threading.active_count()

    with ProfileLease(store, "runner-a", TTL, now).hold("ann") as held:
        assert held is None
        assert threading.active_count() == before

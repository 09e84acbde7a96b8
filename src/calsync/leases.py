"""A runner's hold on one profile: the profile's lease in the state store, taken (waiting for
another runner's run to end, when asked), renewed while the run lasts, and released (or,
when the store cannot take the release, left to expire).

    with ProfileLease(store, holder, ttl, clock).hold(profile_id, wait=60.0) as held:
        if held is not None:
            ...  # no other runner syncs the profile until this block ends
            held.check()  # before each batch of writes: raises LeaseLost once it is lost

A lease is **lost** when a renewal finds another runner holding it, or when it went a whole
``ttl`` without a renewal (the state store was unreachable, or the process was paused or the
computer asleep): another runner may be syncing the profile by then, so the run must stop
before it writes more (:meth:`HeldLease.check`). A lost lease is never taken back by the same
run, even when the store would still give it: what the run planned may be stale.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from attrs import frozen

from calsync.errors import LeaseLost
from calsync.state.base import StateStore

__all__ = ["HeldLease", "ProfileLease"]

logger = logging.getLogger(__name__)

#: seconds between two tries of a renewal that failed (at most a third of the lease's time)
RENEWAL_RETRY = 5.0


class HeldLease:
    """The lease of one run, while its block lasts: whether it is still surely held.

    It is held from the moment the store granted or last renewed it (measured from before the
    call, on the monotonic and the wall clock, whichever says longer: the monotonic clock
    stands still while a computer sleeps) until ``ttl`` later.
    """

    def __init__(self, profile_id: str, ttl: timedelta) -> None:
        self.profile_id = profile_id
        self._ttl = ttl.total_seconds()
        self._lost: str | None = None
        self._since = (0.0, 0.0)

    @staticmethod
    def now() -> tuple[float, float]:
        """The instant, on both clocks, that a grant or renewal is measured from."""
        return time.monotonic(), time.time()

    def renewed(self, since: tuple[float, float]) -> None:
        """The store granted or renewed the lease in a call made at ``since``."""
        self._since = since

    def lose(self, why: str) -> None:
        """Mark the lease lost (the first reason stays)."""
        if self._lost is None:
            self._lost = why
            logger.error("profile %s: this runner lost its lease: %s", self.profile_id, why)

    def lost(self) -> str | None:
        """Why the lease is lost, or ``None`` while it is surely held."""
        if self._lost is None:
            monotonic, wall = self.now()
            quiet = max(monotonic - self._since[0], wall - self._since[1])
            if quiet >= self._ttl:
                self.lose(
                    f"it was not renewed for {quiet:.0f}s and lasts {self._ttl:.0f}s, so another "
                    "runner may have taken it over"
                )
        return self._lost

    def check(self) -> None:
        """Raise :class:`~calsync.errors.LeaseLost` when the lease is lost."""
        why = self.lost()
        if why is not None:
            raise LeaseLost(f"this runner lost the profile's lease: {why}")


@frozen
class ProfileLease:
    """Leases of ``holder`` (unique per runner) in ``store``, lasting ``ttl`` and renewed every
    third of it; a taken lease is tried again every ``poll`` seconds while waiting."""

    store: StateStore
    holder: str
    ttl: timedelta
    clock: Callable[[], datetime]
    poll: float = 1.0

    @contextmanager
    def hold(self, profile_id: str, wait: float = 0.0) -> Iterator[HeldLease | None]:
        """Hold the profile's lease for the block (a :class:`HeldLease`), or ``None`` when
        another runner still held it after ``wait`` seconds."""
        held = self._acquire(profile_id, wait)
        if held is None:
            yield None
            return
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(held, done), daemon=True, name="calsync-lease"
        )
        keeper.start()
        try:
            yield held
        finally:
            done.set()
            keeper.join()
            self._release(profile_id)

    def _release(self, profile_id: str) -> None:
        """Release the lease; a store that fails it (unreachable) is logged, never raised: the
        lease expires by itself, and the run's own outcome (its report, or what it raised)
        must not be lost for it."""
        try:
            self.store.release_lease(profile_id, self.holder)
        except Exception as exc:
            logger.warning(
                "profile %s: releasing the lease failed (%s); it expires by itself",
                profile_id,
                type(exc).__name__,
            )

    def _acquire(self, profile_id: str, wait: float) -> HeldLease | None:
        deadline = time.monotonic() + wait
        while True:
            since = HeldLease.now()
            if self.store.acquire_lease(profile_id, self.holder, self.ttl, self.clock()):
                held = HeldLease(profile_id, self.ttl)
                held.renewed(since)
                return held
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            logger.debug("profile %s: waiting for another runner's run to end", profile_id)
            time.sleep(min(self.poll, left))

    def _keep(self, held: HeldLease, done: threading.Event) -> None:
        """Renew every third of the lease's time; after a failed renewal, try again sooner,
        until the lease is lost."""
        period = self.ttl.total_seconds() / 3
        pause = period
        while not done.wait(pause):
            since = HeldLease.now()
            if held.lost() is not None:  # too late to renew: another runner may have it now
                return
            try:
                lease = self.store.acquire_lease(
                    held.profile_id, self.holder, self.ttl, self.clock()
                )
            except Exception as exc:  # the store is unreachable: the lease lasts a while yet
                logger.warning(
                    "profile %s: renewing the lease failed (%s); trying again",
                    held.profile_id,
                    type(exc).__name__,
                )
                pause = min(period, RENEWAL_RETRY)
                continue
            if lease is None:
                held.lose("another runner holds it now")
                return
            if held.lost() is None:
                held.renewed(since)
            pause = period

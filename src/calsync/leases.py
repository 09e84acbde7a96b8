"""A runner's hold on one profile: the profile's lease in the state store, taken (waiting for
another runner's run to end, when asked), renewed while the run lasts, and released.

    with ProfileLease(store, holder, ttl, clock).hold(profile_id, wait=60.0) as held:
        if held:
            ...  # no other runner syncs the profile until this block ends
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from attrs import frozen

from calsync.state.base import StateStore

__all__ = ["ProfileLease"]

logger = logging.getLogger(__name__)


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
    def hold(self, profile_id: str, wait: float = 0.0) -> Iterator[bool]:
        """Hold the profile's lease for the block (``True``), or ``False`` when another runner
        still held it after ``wait`` seconds."""
        if not self._acquire(profile_id, wait):
            yield False
            return
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(profile_id, done), daemon=True, name="calsync-lease"
        )
        keeper.start()
        try:
            yield True
        finally:
            done.set()
            keeper.join()
            self.store.release_lease(profile_id, self.holder)

    def _acquire(self, profile_id: str, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while True:
            if self.store.acquire_lease(profile_id, self.holder, self.ttl, self.clock()):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            logger.debug("profile %s: waiting for another runner's run to end", profile_id)
            time.sleep(min(self.poll, left))

    def _keep(self, profile_id: str, done: threading.Event) -> None:
        period = self.ttl.total_seconds() / 3
        while not done.wait(period):
            if self.store.acquire_lease(profile_id, self.holder, self.ttl, self.clock()):
                continue
            logger.error("profile %s: lost its lease while syncing", profile_id)
            return

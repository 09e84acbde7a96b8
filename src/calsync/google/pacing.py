"""Pacing calls under Google's per-user quota with a token bucket.

Calendar allows 600 requests per minute per user (a sliding window; every part of a batch
counts). Running into the limit costs a 403/429, a backoff and a retry; pacing costs nothing
but the wait. One :class:`QuotaPacer` is shared by every call made for one user (calendar and
contacts, every thread), and each call takes its tokens before it is sent.

The bucket holds ``burst`` tokens and refills at ``rate`` per second, chosen so that no window
of ``window_seconds`` ever sees more than ``(1 - headroom) * calls_per_window`` calls:
``burst + rate * window <= usable``. A long run therefore goes at
``(usable - burst) / window`` calls a second — about 87% of the quota with the defaults — and
never trips the limit, whatever the sliding window's phase.

Tokens are reserved under a lock and the caller sleeps outside it, so concurrent callers are
served in order. A caller asking for more than ``burst`` at once waits for a full bucket and
runs it into debt, which later callers pay off; callers that batch should keep batches at or
below :attr:`QuotaPacer.burst`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["QuotaPacer", "unpaced"]

logger = logging.getLogger(__name__)


class QuotaPacer:
    """A token bucket for one user's calls.

    Args:
        calls_per_window: the quota (Google: 600).
        window_seconds: its window (Google: 60).
        burst: the bucket's size (default: a twelfth of the quota, at least 1).
        headroom: the share of the quota left unused, for clock skew and other clients.
        clock: monotonic seconds; injectable for tests.
        sleep: how to wait; injectable for tests.
    """

    def __init__(
        self,
        calls_per_window: int = 600,
        window_seconds: float = 60.0,
        *,
        burst: int | None = None,
        headroom: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_window < 1 or window_seconds <= 0:
            raise ValueError("the quota must allow at least one call in a positive window")
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        usable = max(1.0, calls_per_window * (1.0 - headroom))
        # at most half the usable quota in one burst, so the bucket keeps refilling steadily
        wanted = burst or calls_per_window // 12
        self.burst = max(1, min(wanted, int(usable) // 2))
        self.rate = max(usable - self.burst, 1.0) / window_seconds
        self.calls_per_window = calls_per_window
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = clock()
        #: seconds spent waiting, in total (for reports and benchmarks)
        self.waited = 0.0
        #: calls admitted, in total
        self.admitted = 0

    def acquire(self, calls: int = 1) -> float:
        """Take ``calls`` tokens, sleeping until they are there; returns the seconds slept."""
        if calls <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            need = min(float(calls), float(self.burst))
            wait = max(0.0, (need - self._tokens) / self.rate)
            self._tokens -= calls
            self.admitted += calls
            self.waited += wait
        if wait > 0:
            logger.debug("pacing: waiting %.2fs for %d call(s)", wait, calls)
            self._sleep(wait)
        return wait


class _Unpaced(QuotaPacer):
    def acquire(self, calls: int = 1) -> float:
        self.admitted += max(calls, 0)
        return 0.0


def unpaced() -> QuotaPacer:
    """A pacer that never waits (tests against an emulator without a quota)."""
    return _Unpaced(10**9, 1.0)

"""Pacing calls under Google's per-user quota with a sliding-window log.

Calendar allows 600 requests per minute per user (a sliding window; every part of a batch
counts). Running into the limit costs a 403/429, a backoff and a retry; pacing costs nothing
but the wait. One :class:`QuotaPacer` is shared by every call made for one user (calendar and
contacts, every thread), and each call takes its share before it is sent.

The pacer keeps the calls it let through in the last window, as Google does, and lets a call
through when the window holds room for it: no window of ``window_seconds + spread`` ever sees
more than ``usable = (1 - headroom) * calls_per_window`` calls. ``spread`` pads the window
by how much later one call may reach Google than another (a batch being written, a slow
connection), so Google's own window, which counts calls when they arrive, never sees more
than ``usable`` either. A long run therefore goes at ``usable / (window_seconds + spread)``
calls a second — about 95% of the quota with the defaults (the token bucket this replaces
reached 87%) — and never trips the limit; a small run goes out at once.

Times are reserved under a lock and the caller sleeps outside it, so concurrent callers are
served in order. A caller asking for more than ``usable`` at once waits for an empty window and
runs into debt, which later callers pay off. Callers that batch keep batches at or below
:attr:`QuotaPacer.burst`, which is chosen so that whole batches fill the window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["QuotaPacer", "unpaced"]

logger = logging.getLogger(__name__)


class QuotaPacer:
    """A sliding-window log of one user's calls.

    Args:
        calls_per_window: the quota (Google: 600).
        window_seconds: its window (Google: 60).
        burst: the largest batch callers should send at once (default: about a twelfth of
            the quota, chosen so that a whole number of batches fills the usable quota: a
            window holds whole batches, so 50 would leave 32 of 582 calls unused).
        headroom: the share of the quota left unused (for calls made outside this pacer).
        spread: seconds by which one call may reach Google later than another, relative to
            when each was let through (default: a sixtieth of the window, at least 50 ms).
        clock: monotonic seconds; injectable for tests.
        sleep: how to wait; injectable for tests.
    """

    def __init__(
        self,
        calls_per_window: int = 600,
        window_seconds: float = 60.0,
        *,
        burst: int | None = None,
        headroom: float = 0.03,
        spread: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_window < 1 or window_seconds <= 0:
            raise ValueError("the quota must allow at least one call in a positive window")
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.usable = max(1, int(calls_per_window * (1.0 - headroom)))
        self.burst = max(1, min(burst or calls_per_window // 12, self.usable // 2))
        if burst is None:  # the largest batch of which a whole number fill the window
            self.burst = self.usable // -(-self.usable // self.burst)
        self.spread = max(window_seconds / 60, 0.05) if spread is None else max(spread, 0.0)
        self.calls_per_window = calls_per_window
        self.window_seconds = window_seconds
        #: the long-run rate, in calls a second
        self.rate = self.usable / (window_seconds + self.spread)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._log: deque[tuple[float, int]] = deque()  # (time let through, calls), in order
        self._in_log = 0
        #: seconds spent waiting, in total (for reports and benchmarks)
        self.waited = 0.0
        #: calls admitted, in total
        self.admitted = 0

    def acquire(self, calls: int = 1) -> float:
        """Take room for ``calls`` calls, sleeping until there is; returns the seconds slept."""
        if calls <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            wait = self._reserve(now, calls) - now
            self.admitted += calls
            self.waited += wait
        if wait > 0:
            logger.debug("pacing: waiting %.2fs for %d call(s)", wait, calls)
            self._sleep(wait)
        return wait

    def _reserve(self, now: float, calls: int) -> float:
        """The time ``calls`` may go (never before an earlier caller's), recorded."""
        span = self.window_seconds + self.spread
        log = self._log
        at = max(now, log[-1][0]) if log else now
        while log and (log[0][0] + span <= at or self._in_log + calls > self.usable):
            sent, count = log.popleft()
            self._in_log -= count
            at = max(at, sent + span)
        log.append((at, calls))
        self._in_log += calls
        return at


class _Unpaced(QuotaPacer):
    def acquire(self, calls: int = 1) -> float:
        self.admitted += max(calls, 0)
        return 0.0


def unpaced() -> QuotaPacer:
    """A pacer that never waits (tests against an emulator without a quota)."""
    return _Unpaced(10**9, 1.0)

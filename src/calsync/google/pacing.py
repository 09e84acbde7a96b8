"""Pacing calls under Google's per-user quota with a sliding-window log.

Calendar allows 600 requests per minute per user (a sliding window; every part of a batch
counts). Running into the limit costs a 403/429, a backoff and a retry; pacing costs nothing
but the wait. One :class:`QuotaPacer` is shared by every call made for one user (calendar and
contacts, every thread), and each call takes its share before it is sent.

The pacer keeps, as Google does, a log of the calls of the last window, and lets a call
through when the window has room for it: no window ever holds more than the usable quota,
``usable = (1 - headroom) * calls_per_window``. Google counts a call somewhere between the
moment it is sent and the moment its answer comes back (a batch's parts one after another),
so a call sent with :meth:`QuotaPacer.calls` stays in the log until its answer is back plus a
window: calls let through later can never share a Google window with it, however long a batch
takes. A call only announced with :meth:`QuotaPacer.acquire` (its answer never reported) stays
for ``spread`` seconds plus a window. A long run goes at ``usable`` calls per window plus the
time a request takes — about 94% of the quota with Google's one-minute window (the token
bucket this replaces reached 87%) — and never trips the limit; a small run goes out at once.

Room is reserved under a lock and the caller sleeps outside it, so concurrent callers are
served in order. A caller asking for more than ``usable`` at once waits for an empty window and
runs into debt, which later callers pay off. Callers that batch keep batches at or below
:attr:`QuotaPacer.burst`, which is chosen so that whole batches fill the window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["QuotaPacer", "unpaced"]

logger = logging.getLogger(__name__)


class _Entry:
    """Calls in the log: when they were let through, and when their answer came back."""

    __slots__ = ("answered", "calls", "sent")

    def __init__(self, sent: float, calls: int) -> None:
        self.sent, self.calls = sent, calls
        self.answered: float | None = None


class QuotaPacer:
    """A sliding-window log of one user's calls.

    Args:
        calls_per_window: the quota (Google: 600).
        window_seconds: its window (Google: 60).
        burst: the largest batch callers should send at once (default: about a twelfth of
            the quota, chosen so that a whole number of batches fills the usable quota: a
            window holds whole batches, so 50 would leave 32 of 582 calls unused).
        headroom: the share of the quota left unused (for calls made outside this pacer).
        spread: how long a call whose answer is not reported (:meth:`acquire`, or one still
            in flight) is taken to be on its way (default: a sixtieth of the window, at least
            50 ms).
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
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._log: deque[_Entry] = deque()  # in the order let through
        self._in_log = 0
        #: seconds spent waiting, in total (for reports and benchmarks)
        self.waited = 0.0
        #: calls admitted, in total
        self.admitted = 0

    def acquire(self, calls: int = 1) -> float:
        """Take room for ``calls`` calls, sleeping until there is; returns the seconds slept.

        The calls count as answered ``spread`` seconds after they were let through; prefer
        :meth:`calls`, which knows when the answer came back."""
        return self._admit(calls)[1]

    @contextmanager
    def calls(self, calls: int = 1) -> Iterator[float]:
        """Room for ``calls`` calls sent inside the ``with`` block (which gets the seconds
        slept); they leave the log a window after the block ends."""
        entry, waited = self._admit(calls)
        try:
            yield waited
        finally:
            if entry is not None:
                entry.answered = self._clock()

    def _admit(self, calls: int) -> tuple[_Entry | None, float]:
        if calls <= 0:
            return None, 0.0
        with self._lock:
            now = self._clock()
            entry = self._reserve(now, calls)
            wait = entry.sent - now
            self.admitted += calls
            self.waited += wait
        if wait > 0:
            logger.debug("pacing: waiting %.2fs for %d call(s)", wait, calls)
            self._sleep(wait)
        return entry, wait

    def _gone(self, entry: _Entry) -> float:
        """When ``entry`` can no longer be in any of Google's windows."""
        if entry.answered is None:
            return entry.sent + self.spread + self.window_seconds
        return entry.answered + self.window_seconds

    def _reserve(self, now: float, calls: int) -> _Entry:
        """Log ``calls`` at the first time they fit (never before an earlier caller's)."""
        log = self._log
        at = max(now, log[-1].sent) if log else now
        while log and (self._gone(log[0]) <= at or self._in_log + calls > self.usable):
            oldest = log.popleft()
            self._in_log -= oldest.calls
            at = max(at, self._gone(oldest))
        entry = _Entry(at, calls)
        log.append(entry)
        self._in_log += calls
        return entry


class _Unpaced(QuotaPacer):
    def _admit(self, calls: int) -> tuple[_Entry | None, float]:
        self.admitted += max(calls, 0)
        return None, 0.0


def unpaced() -> QuotaPacer:
    """A pacer that never waits (tests against an emulator without a quota)."""
    return _Unpaced(10**9, 1.0)

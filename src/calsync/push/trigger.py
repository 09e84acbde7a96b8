"""Starting a sync when Google says something changed: the :class:`SyncTrigger` interface and
the :class:`Debouncer` that turns a burst of notifications into one request.

A trigger is one method, ``request_sync(profile_id)``: "sync this profile soon". In one
process :class:`~calsync.processor.SyncProcessor` is the trigger (it wakes its serving loop);
on a server it enqueues the worker task. Adding one is a small class::

    class CeleryTrigger(SyncTrigger):
        def __init__(self, task): self.task = task
        def request_sync(self, profile_id): self.task.apply_async((profile_id,))
"""

from __future__ import annotations

import abc
import heapq
import logging
import threading
import time
from collections.abc import Callable

from calsync.outage import Outage, backoff

__all__ = ["CallbackTrigger", "Debouncer", "SyncTrigger"]

logger = logging.getLogger(__name__)


class SyncTrigger(abc.ABC):
    """Something that can start a sync of one profile soon."""

    @abc.abstractmethod
    def request_sync(self, profile_id: str) -> None:
        """Ask for a sync of ``profile_id``, soon and at least once after this call.

        Must return quickly (it is called while answering Google's POST) and be safe to call
        from any thread. Requests for a profile already waiting may be merged.
        """


class CallbackTrigger(SyncTrigger):
    """A trigger that calls a function (a host's own queue, a test's list)."""

    def __init__(self, callback: Callable[[str], object]) -> None:
        self.callback = callback

    def request_sync(self, profile_id: str) -> None:
        self.callback(profile_id)


class Debouncer(SyncTrigger):
    """Coalesces requests per profile: the first one is passed on to ``target`` after
    ``delay`` seconds, and every request until then is merged into it. Ten edits within a
    second thus give one sync, started one ``delay`` after the first notification.

    A request made after the profile's request was passed on starts a new delay, so a change
    made while a sync runs is never lost. A request ``target`` fails to take (the task queue
    unreachable for a while: Google was answered already, and will not say it again) is passed
    on again ``retry`` seconds later, the wait doubling after each failure in a row up to
    ``retry_most``, until it is taken; requests for that profile meanwhile are merged into it.
    The outage is logged when it starts and when it ends, not at every try. One daemon thread
    passes requests on; :meth:`close` ends it (requests still waiting, retries included, are
    passed on at once, and once: one that fails then is logged as not passed on).
    """

    def __init__(
        self,
        target: SyncTrigger,
        delay: float = 1.0,
        *,
        retry: float = 1.0,
        retry_most: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if delay < 0:
            raise ValueError("delay must be >= 0")
        if not 0 < retry <= retry_most:
            raise ValueError("retry must be > 0 and <= retry_most")
        self.target = target
        self.delay = delay
        self.retry = retry
        self.retry_most = retry_most
        self.clock = clock
        #: failed tries in a row, by profile (only the debounce thread changes it)
        self._tries: dict[str, int] = {}
        self._outage = Outage(
            "passing push sync requests on", first=retry, most=retry_most, log=logger
        )
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="calsync-debounce", daemon=True)
        self._thread.start()

    def request_sync(self, profile_id: str) -> None:
        """Gather the request; once closed (or should the thread have ended), pass it on at
        once, in the caller's thread, its failure raised to the caller: never dropped."""
        with self._changed:  # (decided and gathered under one lock: close() comes between)
            gathering = not self._closed and self._thread.is_alive()
            if gathering and profile_id in self._due:
                logger.debug("sync request for %s merged into the waiting one", profile_id)
            elif gathering:
                due = self.clock() + self.delay
                self._due[profile_id] = due
                heapq.heappush(self._heap, (due, profile_id))
                self._changed.notify()
        if not gathering:
            self.target.request_sync(profile_id)

    def pending(self) -> list[str]:
        """The profiles whose request is waiting (to be passed on, or on again)."""
        with self._changed:
            return sorted(self._due)

    def close(self) -> None:
        """Pass waiting requests on now and end the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            ready = self._wait_ready()
            for profile_id in ready:
                self._pass_on(profile_id)
            if not ready and self._closed:
                return

    def _wait_ready(self) -> list[str]:
        with self._changed:
            while True:
                now = self.clock()
                if self._closed or (self._heap and self._heap[0][0] <= now):
                    break
                timeout = self._heap[0][0] - now if self._heap else None
                self._changed.wait(timeout)
            ready: list[str] = []
            while self._heap and (self._closed or self._heap[0][0] <= now):
                _, profile_id = heapq.heappop(self._heap)
                self._due.pop(profile_id, None)
                ready.append(profile_id)
            return ready

    def _pass_on(self, profile_id: str) -> None:
        try:
            self.target.request_sync(profile_id)
        except BaseException as exc:  # one failing request never ends the thread
            self._again(profile_id, exc)
        else:
            with self._changed:
                self._tries.pop(profile_id, None)
                if not self._tries:  # the outage is over when no request is failing
                    self._outage.over()

    def _again(self, profile_id: str, exc: BaseException) -> None:
        """Pass the request on again after a back-off (not once closing)."""
        with self._changed:
            self._outage.failed(exc)  # (told as it starts: over once no request fails)
            tries = self._tries.pop(profile_id, 0) + 1
            if self._closed:
                logger.error("the sync request of %s was not passed on: %s", profile_id, exc)
                return
            self._tries[profile_id] = tries
            if profile_id in self._due:  # asked again meanwhile: that request is the retry
                return
            due = self.clock() + backoff(tries, self.retry, self.retry_most)
            self._due[profile_id] = due
            heapq.heappush(self._heap, (due, profile_id))

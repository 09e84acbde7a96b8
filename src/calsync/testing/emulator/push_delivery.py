"""Delivering push notifications: one sender thread per channel, real HTTP POSTs.

A :class:`ChannelSender` owns the outgoing queue of one watch channel. Messages go out in
order, one at a time, as Google sends them: a ``POST`` with no body to the channel's address
and the ``X-Goog-*`` headers. An ``exists`` waiting behind another unsent ``exists`` is
coalesced into it. A delivery answered 500, 502, 503 or 504 (or that cannot connect) is
retried with exponential backoff; any other non-2xx answer ends that message. A message
number is taken when a message is first sent, so a dropped message leaves a gap.

The :class:`DeliveryFaults` shared by every sender fail or drop the next deliveries and delay
them, for tests of what a receiver does when Google's delivery goes wrong.
"""

from __future__ import annotations

import collections
import email.utils
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import attrs
from attrs import define, frozen

logger = logging.getLogger(__name__)

#: Statuses Google retries with backoff (its push guide); other failures end the message.
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
#: Answers that acknowledge a message.
ACCEPTED_STATUSES = frozenset({102, 200, 201, 202, 204})
POST_TIMEOUT = 5.0
#: An opener that ignores ``*_proxy`` variables: notifications go straight to the address.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@frozen
class Delivery:
    """One delivery attempt, as recorded for inspection."""

    channel_id: str
    state: str
    number: int
    attempt: int
    outcome: str  # "delivered", "http 503", "refused", "unreachable", "failed", "dropped"

    def describe(self) -> dict[str, Any]:
        """The attempt as JSON."""
        return {
            "channel_id": self.channel_id,
            "state": self.state,
            "number": self.number,
            "attempt": self.attempt,
            "outcome": self.outcome,
        }


@define
class DeliveryFaults:
    """Delivery trouble shared by all channels: failures, drops and delay (thread-safe)."""

    fail_left: int = 0
    drop_left: int = 0
    delay: float = 0.0
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def take(self) -> str | None:
        """``"fail"`` or ``"drop"`` when the next attempt must go wrong, else ``None``."""
        with self.lock:
            if self.drop_left > 0:
                self.drop_left -= 1
                return "drop"
            if self.fail_left > 0:
                self.fail_left -= 1
                return "fail"
        return None

    def clear(self) -> None:
        """No more trouble."""
        with self.lock:
            self.fail_left = self.drop_left = 0
            self.delay = 0.0


@frozen
class Envelope:
    """What a sender needs to address one channel's messages."""

    channel_id: str
    address: str
    token: str | None
    resource_id: str
    resource_uri: str
    expires_ms: int

    def headers(self, state: str, number: int) -> dict[str, str]:
        """Google's notification headers for message ``number`` in ``state``."""
        headers = {
            "X-Goog-Channel-ID": self.channel_id,
            "X-Goog-Channel-Expiration": email.utils.formatdate(
                self.expires_ms / 1000, usegmt=True
            ),
            "X-Goog-Resource-ID": self.resource_id,
            "X-Goog-Resource-URI": self.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        if self.token is not None:
            headers["X-Goog-Channel-Token"] = self.token
        return headers


class ChannelSender:
    """Sends one channel's messages from a daemon thread until :meth:`close`.

    Args:
        envelope: the channel's address and identifiers.
        faults: the emulator's delivery faults.
        record: called with every attempt.
        retry_base: seconds before the first retry (doubled each time).
        max_attempts: attempts per message before it is given up.
    """

    def __init__(
        self,
        envelope: Envelope,
        faults: DeliveryFaults,
        record: Callable[[Delivery], None],
        *,
        retry_base: float = 0.1,
        max_attempts: int = 6,
    ) -> None:
        self.envelope = envelope
        self.faults = faults
        self.record = record
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self._queue: collections.deque[str] = collections.deque()
        self._wake = threading.Condition()
        self._closed = False
        self._number = 0
        self._thread = threading.Thread(
            target=self._run, name=f"emulator-push-{envelope.channel_id[:16]}", daemon=True
        )
        self._thread.start()

    def enqueue(self, state: str) -> None:
        """Queue a message; an ``exists`` behind an unsent ``exists`` is coalesced."""
        with self._wake:
            if self._closed:
                return
            if state == "exists" and self._queue and self._queue[-1] == "exists":
                return
            self._queue.append(state)
            self._wake.notify()

    def close(self, *, after_queue: bool = False) -> None:
        """Stop sending: at once (pending messages are discarded), or after the queue."""
        with self._wake:
            if after_queue:
                self._queue.append("")  # the end marker
            else:
                self._closed = True
                self._queue.clear()
            self._wake.notify()

    def join(self, timeout: float) -> None:
        """Wait for the thread to end."""
        self._thread.join(timeout)

    def _next(self) -> str | None:
        with self._wake:
            while not self._queue and not self._closed:
                self._wake.wait()
            if self._closed:
                return None
            state = self._queue.popleft()
            if not state:
                self._closed = True
                return None
            return state

    def _run(self) -> None:
        while (state := self._next()) is not None:
            self._number += 1
            self._deliver(state, self._number)

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False when the channel was closed meanwhile."""
        with self._wake:
            self._wake.wait_for(lambda: self._closed, timeout=seconds)
            return not self._closed

    def _deliver(self, state: str, number: int) -> None:
        delay = 0.0
        for attempt in range(1, self.max_attempts + 1):
            if not self._sleep(delay + self.faults.delay):
                return
            outcome = self._attempt(state, number)
            self.record(Delivery(self.envelope.channel_id, state, number, attempt, outcome))
            if outcome in ("delivered", "refused", "dropped"):
                return
            delay = self.retry_base * 2 ** (attempt - 1)
        logger.debug("gave up message %s of channel %s", number, self.envelope.channel_id)

    def _attempt(self, state: str, number: int) -> str:
        trouble = self.faults.take()
        if trouble == "drop":
            return "dropped"
        if trouble == "fail":
            return "failed"
        request = urllib.request.Request(
            self.envelope.address,
            data=b"",
            method="POST",
            headers=self.envelope.headers(state, number),
        )
        try:
            with _OPENER.open(request, timeout=POST_TIMEOUT) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            logger.debug("push to %s failed: %s", self.envelope.address, error)
            return "unreachable"
        if status in ACCEPTED_STATUSES:
            return "delivered"
        return f"http {status}" if status in RETRIED_STATUSES else "refused"

"""Google's push notification is answered (200) before the sync request is passed on: when the
task queue cannot take the request then (Redis or the broker unreachable for a while), the
debouncer passes it on again, with a growing wait, until it is taken. Otherwise the change
would wait for the safety interval (an hour), the channel being healthy."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from calsync.push.trigger import Debouncer, SyncTrigger


class Queue(SyncTrigger):
    """A task queue that refuses every request while ``down`` is set."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.tries: list[tuple[str, float]] = []
        self.taken: list[str] = []
        self.changed = threading.Condition()

    def request_sync(self, profile_id: str) -> None:
        with self.changed:
            self.tries.append((profile_id, time.monotonic()))
            self.changed.notify_all()
            if self.down.is_set():
                raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            self.taken.append(profile_id)

    def wait_for(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(done, timeout), (self.tries, self.taken)


class Picky(Queue):
    """A queue that takes every request but ``studio.bad``'s, which it refuses for good."""

    def request_sync(self, profile_id: str) -> None:
        if profile_id == "studio.bad":
            with self.changed:
                self.tries.append((profile_id, time.monotonic()))
                self.changed.notify_all()
            raise LookupError("no such profile")
        super().request_sync(profile_id)


def eventually(done: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.005)
    return done()


def debouncer(queue: Queue, *, delay: float = 0.01) -> Debouncer:
    return Debouncer(queue, delay, retry=0.05, retry_most=0.2)


def test_a_request_the_queue_refused_is_passed_on_again_until_it_is_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="calsync.push.trigger")
    queue = Queue()
    queue.down.set()
    trigger = debouncer(queue)

    trigger.request_sync("studio.ann")
    queue.wait_for(lambda: len(queue.tries) >= 4)  # refused, and tried again, three times
    assert eventually(lambda: trigger.pending() == ["studio.ann"])  # (waiting to be tried again)
    queue.down.clear()
    queue.wait_for(lambda: queue.taken == ["studio.ann"])
    trigger.close()

    assert trigger.pending() == []
    assert {profile for profile, _ in queue.tries} == {"studio.ann"}
    waits = [b - a for (_, a), (_, b) in zip(queue.tries, queue.tries[1:], strict=False)]
    assert waits[0] >= 0.04  # not at once: after the retry wait
    assert waits[2] >= 0.15  # and longer each time, up to retry_most
    records = [r for r in caplog.records if r.name == "calsync.push.trigger"]
    errors = [r.getMessage() for r in records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors  # the outage is told once, not at every try
    assert "trying again until it works" in errors[0]
    assert any("works again" in r.getMessage() for r in records if r.levelno == logging.INFO)


def test_notifications_during_the_outage_give_one_request_when_the_queue_is_back() -> None:
    queue = Queue()
    queue.down.set()
    trigger = debouncer(queue)

    trigger.request_sync("studio.ann")
    queue.wait_for(lambda: len(queue.tries) >= 2)
    for _ in range(5):  # more changes in Google while the queue is down
        trigger.request_sync("studio.ann")
        time.sleep(0.01)
    queue.down.clear()
    queue.wait_for(lambda: queue.taken == ["studio.ann"])
    time.sleep(0.3)  # (long enough for any second request to come)
    trigger.close()

    assert queue.taken == ["studio.ann"]


def test_one_profiles_refused_request_holds_no_other_back() -> None:
    queue = Picky()
    trigger = debouncer(queue)

    trigger.request_sync("studio.bad")
    queue.wait_for(lambda: len(queue.tries) >= 2)
    trigger.request_sync("studio.ann")
    queue.wait_for(lambda: queue.taken == ["studio.ann"])
    assert eventually(lambda: trigger.pending() == ["studio.bad"])  # still tried
    trigger.close()


def test_closing_during_an_outage_tries_each_request_once_more_and_ends() -> None:
    queue = Queue()
    queue.down.set()
    trigger = Debouncer(queue, 0.01, retry=30.0, retry_most=60.0)

    trigger.request_sync("studio.ann")
    queue.wait_for(lambda: len(queue.tries) == 1)
    assert eventually(lambda: trigger.pending() == ["studio.ann"])  # waiting 30 s
    trigger.close()  # the retry is 30 s away: passed on at once, refused, not tried again

    assert len(queue.tries) == 2
    assert trigger.pending() == []
    assert not trigger._thread.is_alive()


def test_a_retry_wait_must_be_positive_and_within_its_cap() -> None:
    with pytest.raises(ValueError, match="retry"):
        Debouncer(Queue(), 0.1, retry=0)
    with pytest.raises(ValueError, match="retry"):
        Debouncer(Queue(), 0.1, retry=5, retry_most=1)


def test_one_profile_refused_for_good_is_told_once_while_the_others_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outage is over when no request fails: others taken meanwhile do not end it (each
    would start it anew, an error and a traceback a minute, forever)."""
    caplog.set_level(logging.DEBUG, logger="calsync.push.trigger")
    caplog.set_level(logging.DEBUG, logger="calsync.outage")

    queue = Picky()
    trigger = debouncer(queue)
    trigger.request_sync("studio.bad")
    for n in range(20):
        trigger.request_sync(f"studio.u{n}")
        time.sleep(0.02)
    queue.wait_for(lambda: len(queue.taken) == 20 and len(queue.tries) >= 25)
    trigger.close()

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    told = [r for r in errors if "trying again until it works" in r.getMessage()]
    assert len(told) == 1
    assert not any("works again" in r.getMessage() for r in caplog.records)


def test_a_request_after_closing_is_passed_on_at_once_not_dropped() -> None:
    queue = Queue()
    trigger = debouncer(queue)
    trigger.close()

    trigger.request_sync("studio.late")

    assert queue.taken == ["studio.late"]
    queue.down.set()
    with pytest.raises(ConnectionError):  # the caller (the web app: 500, Google retries)
        trigger.request_sync("studio.later")


def test_a_target_raising_a_base_exception_does_not_end_the_thread() -> None:
    class Interrupting(Queue):
        def request_sync(self, profile_id: str) -> None:
            super().request_sync(profile_id)
            if len(self.taken) == 1:
                raise SystemExit("a library's timeout, not an exception")

    queue = Interrupting()
    trigger = debouncer(queue)

    trigger.request_sync("studio.ann")
    queue.wait_for(lambda: len(queue.taken) >= 2)  # passed on again: not lost
    trigger.request_sync("studio.ben")
    queue.wait_for(lambda: "studio.ben" in queue.taken)
    trigger.close()

"""The quota pacer (on a fake clock) and the retry policy (which never sleeps here)."""

from __future__ import annotations

import json
import random
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import httplib2
import pytest
from googleapiclient.errors import HttpError

from calsync.errors import (
    AlreadyExists,
    AuthError,
    QuotaExceeded,
    RateLimited,
    TransientError,
)
from calsync.google.calls import Caller
from calsync.google.pacing import QuotaPacer, unpaced
from calsync.google.retry import default_retrying, no_wait_retrying


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer_on(clock: FakeClock, calls: int = 600, window: float = 60.0, **kw: Any) -> QuotaPacer:
    return QuotaPacer(calls, window, clock=clock, sleep=clock.sleep, **kw)


def busiest_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_small_run_goes_out_at_once() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock)

    for _ in range(pacer.usable // pacer.burst):
        pacer.acquire(pacer.burst)

    assert (clock.slept, pacer.burst, pacer.usable) == ([], 48, 582)


def test_a_long_run_never_puts_more_than_the_usable_quota_in_any_window() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock)
    sent: list[float] = []

    for size in [1, 48, 3, 48, 48, 7] * 60:
        pacer.acquire(size)
        sent.extend([clock.now] * size)

    assert busiest_window(sent, 60.0 + pacer.spread) <= 582  # 600 less 3% headroom
    assert len(sent) / clock.now >= 0.93 * 600 / 60  # and close to it over the run


def test_batches_google_counts_while_answering_never_overfill_its_window() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock)
    slow = random.Random(7)
    counted: list[float] = []

    for _ in range(300):
        with pacer.calls(pacer.burst):
            took = slow.uniform(0.05, 1.0)  # Google counts the parts one by one meanwhile
            counted.extend(clock.now + took * part / pacer.burst for part in range(pacer.burst))
            clock.now += took

    assert busiest_window(counted, 60.0) <= 582
    assert len(counted) / clock.now >= 0.93 * 600 / 60


def test_after_a_quiet_window_the_whole_quota_is_there_again() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock, calls=120, window=60.0)
    pacer.acquire(pacer.usable)
    clock.now += 3600

    before = pacer.acquire(pacer.usable)
    waited = pacer.acquire(1)

    assert before == 0.0
    assert waited == pytest.approx(60.0 + pacer.spread)


def test_a_request_larger_than_the_quota_waits_for_an_empty_window_then_owes() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock, calls=60, window=60.0)
    pacer.acquire(5)

    first = pacer.acquire(100)
    second = pacer.acquire(1)

    span = 60.0 + pacer.spread
    assert (first, second) == pytest.approx((span, span))


def test_callers_on_many_threads_share_one_window() -> None:
    clock = FakeClock()
    lock = threading.Lock()
    pacer = QuotaPacer(600, 60.0, clock=clock, sleep=lambda s: None)
    sent: list[float] = []

    def work() -> None:
        for _ in range(200):
            with lock:
                clock.now += 0.001
            wait = pacer.acquire()
            with lock:
                sent.append(clock.now + wait)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert pacer.admitted == 800
    assert busiest_window(sent, 60.0) <= 582
    assert max(sent) == pytest.approx(60.0 + pacer.spread, abs=1.0)


def test_a_quota_must_allow_a_call() -> None:
    with pytest.raises(ValueError, match="at least one call"):
        QuotaPacer(0)


# -- retries -------------------------------------------------------------------------------


def http_error(status: int, reason: str, retry_after: str | None = None) -> HttpError:
    headers: dict[str, Any] = {"status": status}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    body = {"error": {"errors": [{"reason": reason}], "code": status, "message": reason}}
    return HttpError(httplib2.Response(headers), json.dumps(body).encode())


class FakeRequest:
    """A request whose answers are scripted: exceptions are raised, values returned."""

    def __init__(self, *answers: Any) -> None:
        self.answers = deque(answers)
        self.sent = 0

    def execute(self) -> Any:
        self.sent += 1
        answer = self.answers.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def recording_retrying() -> tuple[Any, list[float]]:
    slept: list[float] = []
    return default_retrying().copy(sleep=slept.append), slept


def test_transient_errors_are_retried_until_an_answer() -> None:
    retrying, slept = recording_retrying()
    request = FakeRequest(http_error(503, "backendError"), http_error(429, "rateLimitExceeded"), {})

    answer = Caller(unpaced(), retrying).execute(request)

    assert (answer, request.sent, len(slept)) == ({}, 3, 2)
    assert all(0 <= s <= 60 for s in slept)


def test_the_servers_retry_after_is_honoured() -> None:
    retrying, slept = recording_retrying()
    request = FakeRequest(http_error(403, "userRateLimitExceeded", retry_after="17"), {"ok": 1})

    Caller(unpaced(), retrying).execute(request)

    assert slept == [17.0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (http_error(409, "duplicate"), AlreadyExists),
        (http_error(401, "authError"), AuthError),
        (http_error(403, "quotaExceeded"), QuotaExceeded),
    ],
)
def test_permanent_errors_and_quota_are_not_retried(error: HttpError, expected: type) -> None:
    request = FakeRequest(error, {})

    with pytest.raises(expected):
        Caller(unpaced(), no_wait_retrying()).execute(request)

    assert request.sent == 1


def test_retries_give_up_with_the_last_error() -> None:
    request = FakeRequest(*[http_error(500, "backendError")] * 3)

    with pytest.raises(TransientError):
        Caller(unpaced(), no_wait_retrying(attempts=3)).execute(request)

    assert request.sent == 3


def test_an_unsafe_call_is_retried_after_a_rate_limit_but_not_after_a_5xx() -> None:
    caller = Caller(unpaced(), no_wait_retrying())
    limited = FakeRequest(http_error(429, "rateLimitExceeded"), {"created": 1})
    broken = FakeRequest(http_error(500, "backendError"), {"created": 2})

    assert caller.execute(limited, safe=False) == {"created": 1}
    with pytest.raises(TransientError) as caught:
        caller.execute(broken, safe=False)

    assert not isinstance(caught.value, RateLimited)
    assert (limited.sent, broken.sent) == (2, 1)


def test_every_attempt_takes_its_tokens_from_the_pacer() -> None:
    clock = FakeClock()
    pacer = pacer_on(clock)
    request = FakeRequest(http_error(500, "backendError"), {})

    Caller(pacer, no_wait_retrying()).execute(request, cost=3)

    assert pacer.admitted == 6


# -- batches -------------------------------------------------------------------------------


class FakeBatch:
    """A batch whose parts answer from a script keyed by request id, in turn."""

    def __init__(self, script: dict[str, deque[Any]], log: list[list[str]]) -> None:
        self.script = script
        self.log = log
        self.parts: list[tuple[str, Callable[..., None]]] = []

    def add(self, request: Any, callback: Callable[..., None], request_id: str) -> None:
        self.parts.append((request_id, callback))

    def execute(self) -> None:
        self.log.append([rid for rid, _ in self.parts])
        for request_id, callback in self.parts:
            answer = self.script[request_id].popleft()
            if isinstance(answer, HttpError):
                callback(request_id, None, answer)
            else:
                callback(request_id, answer, None)


def test_a_batch_resends_only_its_transiently_failed_parts() -> None:
    log: list[list[str]] = []
    script = {
        "0": deque([{"id": "a"}]),
        "1": deque([http_error(403, "rateLimitExceeded"), {"id": "b"}]),
        "2": deque([http_error(409, "duplicate")]),
    }
    caller = Caller(unpaced(), no_wait_retrying())

    outcomes = caller.batch(lambda: FakeBatch(script, log), ["r0", "r1", "r2"])

    assert outcomes[:2] == [{"id": "a"}, {"id": "b"}]
    assert isinstance(outcomes[2], AlreadyExists)
    assert log == [["0", "1", "2"], ["1"]]


def test_a_part_that_keeps_failing_ends_as_its_error() -> None:
    log: list[list[str]] = []
    script = {"0": deque([{"ok": 1}]), "1": deque([http_error(503, "backendError")] * 2)}
    caller = Caller(unpaced(), no_wait_retrying(attempts=2))

    outcomes = caller.batch(lambda: FakeBatch(script, log), ["r0", "r1"])

    assert outcomes[0] == {"ok": 1}
    assert isinstance(outcomes[1], TransientError)
    assert len(log) == 2

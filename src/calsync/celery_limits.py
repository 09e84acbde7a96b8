"""Celery time limits for calsync's tasks: the workers' own limits, and a soft limit that
stops a run where it is (see :class:`TimeLimitReached`). Part of :mod:`calsync.celery`, which
exports what a host needs; needs the ``server`` extra (celery).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

from celery import Task

from calsync.errors import ConfigurationError, RunStopped

__all__ = [
    "SOFT_TIME_LIMIT",
    "TIME_LIMIT",
    "TimeLimitReached",
    "WorkerTimeLimits",
    "env_float",
    "soft_time_limit_stops_the_run",
]


def env_float(name: str, default: float) -> float:
    """Seconds from the environment variable ``name`` (``default`` when unset)."""
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds") from None


#: seconds a run may last before it is stopped where it is (the worker's setting)
SOFT_TIME_LIMIT = env_float("CALSYNC_SOFT_TIME_LIMIT", 600)
#: seconds after which a run that did not stop is killed with its worker process
TIME_LIMIT = env_float("CALSYNC_TIME_LIMIT", 660)


class WorkerTimeLimits(Task):  # type: ignore[misc]  # celery is untyped
    """The base of calsync's tasks: their time limits are the worker's own settings.

    A task's own limits (Celery fills them from the ``task_*_time_limit`` settings of the
    process that imports the task) travel in each message and take precedence over the
    worker's: the limits would be those of whichever process enqueued the task (the web app,
    beat, a script), each with its own environment, and a worker started with
    ``CALSYNC_SOFT_TIME_LIMIT=60`` would run a task sent by a process without it for 600 s.
    Zero is "not set" both in the message and in the pool, which then applies the worker's
    ``task_soft_time_limit`` and ``task_time_limit``.
    """

    time_limit = 0
    soft_time_limit = 0


class TimeLimitReached(RunStopped):
    """Raised in a task's sync when its soft time limit is reached, in place of Celery's
    ``SoftTimeLimitExceeded``.

    Celery's exception is an ``Exception``: the engine, which isolates each item's failure,
    would record it as one item's error and go on with the next, and the run would outlast its
    limit until the hard limit killed it. This one is a :class:`~calsync.errors.RunStopped`
    and, like ``KeyboardInterrupt``, passes every ``except Exception``: the run stops where it
    is; every write recorded before it stays recorded (the executor records each result as it
    comes; the transaction in flight is rolled back, as in a crash, which deterministic ids
    and intents make safe); the processor reports the run as failed (the user is told, as of
    any failed run; the profile's status is unchanged) and releases the lease; the task
    reports the run as timed out and frees the profile's dedupe key. Only the prefork pool
    enforces time limits (``--pool=solo`` and ``threads`` do not).
    """


def _stop_the_run(signum: int, frame: FrameType | None) -> NoReturn:
    raise TimeLimitReached(f"stopped at the soft time limit ({SOFT_TIME_LIMIT:g}s)")


@contextmanager
def soft_time_limit_stops_the_run() -> Iterator[None]:
    """While the block runs, the soft time limit raises :class:`TimeLimitReached`.

    The prefork pool signals a task's soft time limit to its child process with SIGUSR1
    (billiard's ``SIG_SOFT_TIMEOUT``), whose handler raises ``SoftTimeLimitExceeded``; this
    swaps that handler for the block. Signals reach the main thread only, where prefork runs
    tasks; elsewhere (the threads pool) there is no soft limit to take over.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGUSR1, _stop_the_run)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)

"""Prometheus metrics of sync workers (``prometheus-client``, in the ``server`` extra).

Every worker process counts what its runs did and serves the counts over HTTP
(:func:`serve`, started by :mod:`calsync.celery` when ``CALSYNC_METRICS_PORT`` is set)::

    calsync_runs_total{outcome}                 runs by outcome: ok, errors, failed,
                                                needs_reauth, calendar_gone, skipped,
                                                timed_out (stopped at the soft time limit)
    calsync_run_duration_seconds                histogram of run durations (synced runs)
    calsync_writes_total{channel, side, operation}
                                                writes: channel calendar/contacts, side
                                                remote/host, operation
                                                created/updated/deleted/restored
    calsync_held_deletions_total                deletions held for the host's confirmation
    calsync_google_api_calls_total              Google API calls (a batch counts each part)
    calsync_google_http_requests_total          HTTP requests to Google (a batch is one)
    calsync_quota_wait_seconds_total            seconds spent waiting for the quota pacer
    calsync_profiles{status}                    profiles by status (ok, needs_reauth,
                                                calendar_gone, …), set by each sync_due
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from calsync.engine import SyncReport
from calsync.engine.report import OPERATIONS
from calsync.google.pacing import QuotaPacer
from calsync.model import Channel
from calsync.policies import Side
from calsync.processor import ProfileRun
from calsync.profile import ProfileStatus, SyncProfile

__all__ = ["MeteredPacer", "observe_profiles", "observe_run", "observe_time_limit", "serve"]

logger = logging.getLogger(__name__)

RUNS = Counter("calsync_runs", "Profile runs by outcome", ["outcome"])
RUN_DURATION = Histogram(
    "calsync_run_duration_seconds",
    "Duration of a profile's sync run",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
WRITES = Counter("calsync_writes", "Writes made by sync runs", ["channel", "side", "operation"])
HELD = Counter("calsync_held_deletions", "Deletions held for the host's confirmation")
API_CALLS = Counter("calsync_google_api_calls", "Google API calls (each batch part counts)")
HTTP_REQUESTS = Counter("calsync_google_http_requests", "HTTP requests sent to Google")
QUOTA_WAIT = Counter("calsync_quota_wait_seconds", "Seconds spent waiting for the quota pacer")
PROFILES = Gauge("calsync_profiles", "Profiles by status, as last seen by sync_due", ["status"])


def outcome_of(run: ProfileRun) -> str:
    """The ``outcome`` label of a run."""
    report = run.report
    if report is None:
        return "skipped"
    if run.lease_lost:
        return "lease_lost"
    if report.needs_reauth:
        return "needs_reauth"
    if report.calendar_gone:
        return "calendar_gone"
    if report.fatal:
        return "failed"
    return "errors" if report.errors else "ok"


def observe_run(run: ProfileRun, seconds: float) -> None:
    """Count one run (its outcome, duration, writes and held deletions)."""
    RUNS.labels(outcome_of(run)).inc()
    report: SyncReport | None = run.report
    if report is None:
        return
    RUN_DURATION.observe(seconds)
    for channel in Channel:
        for side in Side:
            for operation in OPERATIONS:
                count = report.count(side, operation, channel)
                if count:
                    WRITES.labels(channel.value, side.value, operation).inc(count)
    if report.held:
        HELD.inc(len(report.held))


def observe_time_limit(seconds: float) -> None:
    """Count a run stopped at its task's soft time limit."""
    RUNS.labels("timed_out").inc()
    RUN_DURATION.observe(seconds)


def observe_profiles(profiles: Iterable[SyncProfile]) -> None:
    """Set the profiles-by-status gauge (only profiles with sync on)."""
    tally = Tally(p.status for p in profiles if p.enabled)
    for status in ProfileStatus:  # every status, so one that drops to none reads 0
        PROFILES.labels(status.value).set(tally[status])


class MeteredPacer(QuotaPacer):
    """Another pacer, with its calls, HTTP requests and waits counted in the metrics.

    Every admission (:meth:`acquire` or :meth:`calls`) is one HTTP request (a single call or a
    whole batch) for ``calls`` API calls.
    """

    def __init__(self, inner: QuotaPacer) -> None:
        # a proxy, not a pacer of its own: the inner pacer's shape, and its totals
        self.inner = inner
        self.burst = inner.burst
        self.usable = inner.usable
        self.calls_per_window = inner.calls_per_window
        self.window_seconds = inner.window_seconds
        self.admitted = inner.admitted
        self.waited = inner.waited

    def acquire(self, calls: int = 1) -> float:
        waited = self.inner.acquire(calls)
        self._count(calls, waited)
        return waited

    @contextmanager
    def calls(self, calls: int = 1) -> Iterator[float]:
        with self.inner.calls(calls) as waited:
            self._count(calls, waited)
            yield waited

    def _count(self, calls: int, waited: float) -> None:
        self.admitted, self.waited = self.inner.admitted, self.inner.waited
        if calls > 0:
            HTTP_REQUESTS.inc()
            API_CALLS.inc(calls)
            QUOTA_WAIT.inc(waited)


def serve(port: int, *, tries: int = 16) -> int:
    """Serve the metrics on the first free port of ``port`` … ``port + tries - 1`` (several
    worker processes on one machine each take their own); returns the port taken.

    Raises:
        OSError: no port in the range is free.
    """
    for candidate in range(port, port + tries):
        try:
            start_http_server(candidate)
        except OSError:
            continue
        logger.info("metrics on port %d", candidate)
        return candidate
    raise OSError(f"no free metrics port in {port}..{port + tries - 1}")

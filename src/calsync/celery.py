"""Celery integration: sync tasks for worker processes, enqueued by celery beat.

The host ships one factory that builds what a worker process needs (its engines, profile
stores and Google connectors: :class:`WorkerSetup`) and names it in ``CALSYNC_WORKER_SETUP``;
calsync calls it once in each worker process, after the fork, on the first task. Then::

    CALSYNC_WORKER_SETUP=myhost.calsync:worker_setup celery -A calsync.celery worker
    CALSYNC_WORKER_SETUP=myhost.calsync:worker_setup celery -A calsync.celery beat

Tasks:

* ``calsync.sync_profile(profile_id, confirm_deletions=False)`` syncs one profile under its
  state-store lease. Acknowledged late and rejected when its worker dies, so a killed worker's
  task is delivered again (to another worker); soft and hard time limits (enforced by the
  prefork pool: see :class:`TimeLimitReached`); a profile whose lease another runner holds is
  retried when the lease would expire. One profile's failure is its own report, never another
  task's.
* :class:`CeleryTrigger` is the push trigger of a server: a change notification received by
  :mod:`calsync.web` enqueues ``sync_profile`` under the same dedupe key.
* ``calsync.sync_due()``, run by beat every ``CALSYNC_DUE_EVERY`` seconds, enqueues every
  eligible profile whose last run is older than its jittered interval. A dedupe key in Redis
  (``{prefix}:queued:{profile_id}``, with a time to live) keeps a profile from being queued
  twice while one of its tasks is queued or running; the task deletes it when it ends. A
  tenant whose profiles cannot be read, or a profile that cannot be queued, is logged and
  skipped: it never stops the others.

With push notifications (a tenant's ``push``: :class:`~calsync.push.PushChannels`), each run
opens or renews the profile's watch channel as its last step (under the lease), and
``sync_due`` is also the renewal sweep: a profile whose channel needs opening, renewing or
stopping is queued for it. A profile whose channel is healthy is polled only every
``WorkerSetup.safety_interval`` (its changes arrive as notifications: :class:`CeleryTrigger`);
a missed, failed or expired channel falls back to ``interval`` at once. Channels of profiles
that no longer sync a calendar (sync off, gone from the host) are stopped by ``sync_due``.

Settings (environment): ``CALSYNC_BROKER_URL`` (default ``redis://127.0.0.1:6379/0``; an
``amqp://`` URL for RabbitMQ works too), ``CALSYNC_SOFT_TIME_LIMIT`` (600 s),
``CALSYNC_TIME_LIMIT`` (660 s), ``CALSYNC_VISIBILITY_TIMEOUT`` (Redis broker: how long an
unacknowledged task waits before it is delivered again; default the time limit + 60 s),
``CALSYNC_DUE_EVERY`` (60 s), ``CALSYNC_METRICS_PORT`` (serve Prometheus metrics from each
worker process on the first free port from this one; off when unset; see
:mod:`calsync.metrics`), ``CALSYNC_QUEUE`` (the queue, ``calsync``),
``CALSYNC_BROKER_TRANSPORT_OPTIONS`` (JSON merged into Celery's ``broker_transport_options``,
e.g. ``{"global_keyprefix": "tenant-a:"}`` to share one Redis between deployments).

Needs the ``server`` extra (celery, redis).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry
from redis.exceptions import RedisError

from calsync import metrics
from calsync.celery_limits import (
    SOFT_TIME_LIMIT,
    TIME_LIMIT,
    TimeLimitReached,
    WorkerTimeLimits,
    env_float,
    soft_time_limit_stops_the_run,
)
from calsync.celery_setup import Tenant, WorkerSetup, again_key, queued_key
from calsync.errors import ConfigurationError
from calsync.processor import CLOCK_SKEW, ProfileRun, SyncProcessor
from calsync.profile import SyncProfile
from calsync.push.trigger import SyncTrigger

__all__ = [
    "CeleryTrigger",
    "Tenant",
    "TimeLimitReached",
    "WorkerSetup",
    "app",
    "current_worker",
    "sync_due",
    "sync_profile",
]

logger = logging.getLogger(__name__)

LEASE_HELD = "another runner is syncing this user"


def _transport_options() -> dict[str, Any]:
    options: dict[str, Any] = {
        # an unacknowledged task (its worker died) is delivered again after this; it must be
        # longer than any task runs, or a running task would be delivered twice
        "visibility_timeout": env_float("CALSYNC_VISIBILITY_TIMEOUT", TIME_LIMIT + 60)
    }
    extra = os.environ.get("CALSYNC_BROKER_TRANSPORT_OPTIONS")
    if extra:
        try:
            options.update(json.loads(extra))
        except ValueError:
            raise ConfigurationError("CALSYNC_BROKER_TRANSPORT_OPTIONS must be JSON") from None
    return options


app = Celery("calsync")
app.conf.update(
    broker_url=os.environ.get("CALSYNC_BROKER_URL", "redis://127.0.0.1:6379/0"),
    broker_connection_retry_on_startup=True,
    broker_transport_options=_transport_options(),
    task_default_queue=os.environ.get("CALSYNC_QUEUE", "calsync"),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_soft_time_limit=SOFT_TIME_LIMIT,
    task_time_limit=TIME_LIMIT,
    beat_schedule={
        "calsync-sync-due": {
            "task": "calsync.sync_due",
            "schedule": env_float("CALSYNC_DUE_EVERY", 60),
        }
    },
)


class Worker:
    """The per-process state: the host's setup and a processor per tenant."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.processors = {
            tenant.name: SyncProcessor(
                tenant.engine,
                tenant.profiles,
                tenant.connect,
                notifier=tenant.notifier,
                interval=setup.interval,
                jitter=setup.jitter,
                workers=1,
                lease_ttl=setup.lease_ttl,
                push=tenant.push,
                safety_interval=setup.safety_interval,
            )
            for tenant in setup.tenants
        }

    def processor_of(self, profile_id: str) -> SyncProcessor | None:
        return self.processors.get(profile_id.partition(".")[0])

    def dedupe_key(self, profile_id: str) -> str:
        return queued_key(self.setup.prefix, profile_id)

    def dedupe_ttl(self) -> int:
        return int(TIME_LIMIT + self.setup.interval)

    def retire_push(self, tenant: str, eligible: list[SyncProfile]) -> None:
        """Stop the channels of the tenant's profiles that no longer sync a calendar (never
        another tenant's: they may share a state store); a failure is logged, and the next
        ``sync_due`` tries again."""
        try:
            self.processors[tenant].retire_push(eligible, within=f"{tenant}.")
        except Exception:
            logger.exception("sync_due: stopping push channels failed")


_workers: dict[int, Worker] = {}  # by process id: a forked child builds its own
_worker_lock = threading.Lock()
#: Set by tests and embedding hosts instead of ``CALSYNC_WORKER_SETUP``.
setup_factory: Callable[[], WorkerSetup] | None = None


def current_worker() -> Worker:
    """This process's worker, built by the host's factory on first use after a fork.

    Raises:
        ConfigurationError: no factory is configured, or it cannot be imported.
    """
    pid = os.getpid()
    with _worker_lock:
        worker = _workers.get(pid)
        if worker is None:
            _workers.clear()  # the parent's, inherited through the fork
            worker = _workers[pid] = Worker(_load_factory()())
            logger.info("worker %s: %d tenant(s)", pid, len(worker.processors))
            port = os.environ.get("CALSYNC_METRICS_PORT")
            if port:
                metrics.serve(int(port))
        return worker


def _load_factory() -> Callable[[], WorkerSetup]:
    if setup_factory is not None:
        return setup_factory
    spec = os.environ.get("CALSYNC_WORKER_SETUP", "")
    module, _, attribute = spec.partition(":")
    if not module or not attribute:
        raise ConfigurationError("CALSYNC_WORKER_SETUP must name the host's factory (module:fn)")
    try:
        factory: Callable[[], WorkerSetup] = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"CALSYNC_WORKER_SETUP={spec!r}: {exc}") from exc
    return factory


def _run_summary(run: ProfileRun) -> dict[str, Any]:
    report = run.report
    if report is None:
        return {"profile_id": run.profile_id, "skipped": run.skipped}
    return {
        "profile_id": run.profile_id,
        "ok": report.ok,
        "fatal": report.fatal,
        "counts": dict(report.counts),
        "errors": len(report.errors),
    }


class CeleryTrigger(SyncTrigger):
    """The push trigger of a server: a change notification enqueues ``calsync.sync_profile``
    (give it to :mod:`calsync.web` or :class:`~calsync.push.receiver.NotificationReceiver`).

    It shares ``sync_due``'s dedupe key, so a profile is never queued twice; a notification
    that arrives while the profile's task is queued or running marks it, and the task then
    enqueues one more run as it ends. (The mark is set before the dedupe key is tried, so a
    task that ends in between finds it: the change never waits for the next poll.) When the
    task cannot be sent (the broker is unreachable), the dedupe key is freed again and the
    error raised (as when Redis cannot be reached): the receiver's
    :class:`~calsync.push.trigger.Debouncer` passes the request on again until it is taken.

    Args:
        redis: the Redis client of the workers' dedupe keys.
        prefix: the workers' key prefix (``WorkerSetup.prefix``).
        ttl: how long a dedupe key lives at most (seconds; the task deletes it when done).
    """

    def __init__(self, redis: Any, prefix: str, *, ttl: float = TIME_LIMIT + 300.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = int(ttl)

    def request_sync(self, profile_id: str) -> None:
        now = datetime.now(UTC).isoformat()
        # the mark first: a task ending between the two finds it (its _finish reads it after
        # freeing the dedupe key); a task queued here deletes it as it starts
        self.redis.set(again_key(self.prefix, profile_id), now, ex=self.ttl)
        key = queued_key(self.prefix, profile_id)
        if self.redis.set(key, now, nx=True, ex=self.ttl):
            _enqueue(self.redis, key, profile_id)
            logger.info("push: queued a sync of %s", profile_id)
        else:
            logger.info("push: %s is queued or syncing; one more run after it", profile_id)


def _enqueue(redis: Any, key: str, profile_id: str) -> None:
    """Send a ``sync_profile`` task for the profile whose dedupe key ``key`` was just set.

    Raises:
        Exception: the task could not be sent (e.g. kombu's ``OperationalError``: the broker
            is unreachable); the dedupe key is freed first, or it would keep the profile from
            being queued until it lapses.
    """
    try:
        sync_profile.delay(profile_id)
    except Exception:
        redis.delete(key)
        raise


def _timed_out(profile_id: str, why: str, started: float) -> dict[str, Any]:
    logger.error("sync_profile: %s %s; what it recorded is kept", profile_id, why)
    metrics.observe_time_limit(time.monotonic() - started)
    return {"profile_id": profile_id, "ok": False, "timed_out": True, "fatal": why}


@app.task(name="calsync.sync_profile", bind=True, max_retries=5, base=WorkerTimeLimits)
def sync_profile(self: Task, profile_id: str, confirm_deletions: bool = False) -> dict[str, Any]:
    """Sync one profile under its lease; retried later while another runner holds it."""
    worker = current_worker()
    prefix = worker.setup.prefix
    retrying = False
    with _bookkeeping("mark the run", profile_id):
        worker.setup.redis.delete(again_key(prefix, profile_id))  # this run covers them
        # a run ends by the hard time limit at the latest: should that kill it (no finally
        # runs), the dedupe key lapses with it, and sync_due queues the profile again
        worker.setup.redis.expire(worker.dedupe_key(profile_id), int(TIME_LIMIT) + 1)
    try:
        processor = worker.processor_of(profile_id)
        profile = _find(processor, profile_id) if processor is not None else None
        if processor is None or profile is None:
            logger.warning("sync_profile: no profile %s", profile_id)
            return {"profile_id": profile_id, "skipped": "no such profile"}
        started = time.monotonic()
        try:
            with soft_time_limit_stops_the_run():
                # a task never waits for another runner's lease (it would hold a worker): it
                # is retried when the lease would expire
                run = processor.run_profile(profile, confirm_deletions=confirm_deletions, wait=0.0)
        except TimeLimitReached as exc:  # outside the sync itself (the processor reports those)
            return _timed_out(profile_id, str(exc), started)
        if run.lease_lost:  # another runner has the profile now: it syncs it
            metrics.observe_run(run, time.monotonic() - started)
            return _run_summary(run) | {"lease_lost": True}
        if run.stopped is not None:  # reported to the host and the user as a failed run
            return _timed_out(profile_id, run.stopped, started)
        metrics.observe_run(run, time.monotonic() - started)
        held = run.skipped is not None and run.skipped.startswith(LEASE_HELD)
        if held and self.request.retries < (self.max_retries or 0):
            try:
                countdown = _lease_left(processor, profile_id)
                with _bookkeeping("keep the dedupe key", profile_id):
                    worker.setup.redis.expire(
                        worker.dedupe_key(profile_id), int(countdown + TIME_LIMIT) + 1
                    )
                self.retry(countdown=countdown)  # raises Retry once the retry is queued
            except Retry:
                retrying = True  # the retry frees the key when it ends
                raise
            # (a retry the broker refused is dropped: the key is freed below, so that the
            # next notification or beat queues the profile)
        return _run_summary(run)
    finally:
        if not retrying:
            with _bookkeeping("free the dedupe key", profile_id):
                _finish(worker, profile_id)


@contextmanager
def _bookkeeping(what: str, profile_id: str) -> Iterator[None]:
    """The dedupe keys are bookkeeping: Redis failing them never fails the sync (the keys
    lapse by themselves; a change notified meanwhile waits for the next poll)."""
    try:
        yield
    except RedisError as exc:
        logger.warning("sync_profile: could not %s of %s in Redis: %s", what, profile_id, exc)


def _finish(worker: Worker, profile_id: str) -> None:
    """Free the profile's dedupe key; enqueue one more run when a change came meanwhile.

    The mark is read after the key is freed: a notification either set its mark before that
    (read here) or finds the key free and queues the run itself (:class:`CeleryTrigger`)."""
    redis, prefix = worker.setup.redis, worker.setup.prefix
    key = queued_key(prefix, profile_id)
    redis.delete(key)
    if redis.getdel(again_key(prefix, profile_id)) is None:
        return
    if redis.set(key, "again", nx=True, ex=worker.dedupe_ttl()):
        try:
            _enqueue(redis, key, profile_id)
        except Exception:  # this run's outcome stands; the change waits for the next poll
            logger.exception("sync_profile: could not queue one more run of %s", profile_id)
            return
        logger.info("sync_profile: one more run of %s for a change made meanwhile", profile_id)


def _find(processor: SyncProcessor, profile_id: str) -> SyncProfile | None:
    return next((p for p in processor.profiles.profiles() if p.id == profile_id), None)


def _lease_left(processor: SyncProcessor, profile_id: str) -> float:
    lease = processor.store.get_lease(profile_id)
    if lease is None:
        return 1.0
    return max(1.0, (lease.expires_at - datetime.now(UTC)).total_seconds() + 0.5)


@app.task(name="calsync.sync_due", base=WorkerTimeLimits)
def sync_due() -> list[str]:
    """Enqueue every eligible profile that is due and not queued already; returns their ids.
    Also stops the push channels of profiles that no longer sync a calendar."""
    worker = current_worker()
    now = datetime.now(UTC)
    queued: list[str] = []
    seen: list[SyncProfile] = []
    for tenant, processor in worker.processors.items():
        try:  # one tenant's failure (its profile store unreadable) never stops the others
            profiles = processor.profiles.profiles()
            eligible = processor.eligible()
        except Exception:
            logger.exception("sync_due: the profiles of tenant %s could not be read", tenant)
            continue
        seen += profiles
        worker.retire_push(tenant, eligible)
        for profile in eligible:
            try:  # nor one profile's (its last run unreadable, the broker refusing its task)
                if _queue_if_due(worker, processor, profile, now):
                    queued.append(profile.id)
            except Exception:
                logger.exception("sync_due: could not queue %s", profile.id)
    metrics.observe_profiles(seen)
    logger.info("sync_due: %d profile(s) queued", len(queued))
    return queued


def _queue_if_due(
    worker: Worker, processor: SyncProcessor, profile: SyncProfile, now: datetime
) -> bool:
    """Queue the profile when it is due and not queued already; whether it was queued."""
    if not _is_due(processor, profile, now):
        return False
    key = worker.dedupe_key(profile.id)
    if not worker.setup.redis.set(key, now.isoformat(), nx=True, ex=worker.dedupe_ttl()):
        return False
    _enqueue(worker.setup.redis, key, profile.id)
    return True


def _is_due(processor: SyncProcessor, profile: SyncProfile, now: datetime) -> bool:
    """Due when the last run is older than the interval (the safety interval while the
    profile's push channel is healthy), varied per profile and run by up to ``jitter`` so
    that profiles spread out instead of all coming due in one beat; or when its push channel
    needs upkeep (:meth:`~calsync.push.PushChannels.polling`)."""
    last = processor.store.get_last_run(profile.id)
    if last is None or last - now > CLOCK_SKEW:  # ahead of this clock: no run to go by
        return True
    interval = processor.interval
    if processor.push is not None:
        polling = processor.push.polling(profile, last_run=last.timestamp(),
                                         now=now.timestamp(), interval=interval,
                                         safety_interval=processor.safety_interval)  # fmt: skip
        if polling.upkeep_at is not None and polling.upkeep_at <= now.timestamp():
            return True
        interval = polling.every
    digest = hashlib.sha256(f"{profile.id}|{last.isoformat()}".encode()).digest()
    spread = 1 + processor.jitter * (2 * digest[0] / 255 - 1)
    return now - last >= timedelta(seconds=interval * spread)

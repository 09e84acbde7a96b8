"""What a host gives the Celery workers (:class:`Tenant`, :class:`WorkerSetup`) and the Redis
keys they share with the push trigger. See :mod:`calsync.celery`; needs the ``server`` extra."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import redis
from attrs import field, frozen

from calsync.engine import SyncEngine
from calsync.notify import Notifier
from calsync.profile import ProfileStore
from calsync.push.channels import PushChannels
from calsync.runs import Connect

__all__ = ["Tenant", "WorkerSetup", "again_key", "queued_key"]


@frozen
class Tenant:
    """One host tenant (a studio): its engine, profiles and Google connector.

    Profile ids of a tenant start with ``"{name}."`` (e.g. ``studio42.user7``), which is how a
    task finds the tenant of a profile id. ``push`` (over the engine's state store, which the
    web app's :class:`~calsync.push.NotificationReceiver` reads too) turns on push channels.
    """

    name: str
    engine: SyncEngine
    profiles: ProfileStore
    connect: Connect
    notifier: Notifier | None = None
    push: PushChannels | None = None


@frozen
class WorkerSetup:
    """What the host's factory gives each worker process.

    Attributes:
        tenants: every tenant this worker serves.
        redis: the Redis client for dedupe keys (and, in the host's connector, pacing).
        prefix: the deployment's Redis key prefix.
        interval: seconds between two syncs of a profile.
        safety_interval: seconds between two polls of a profile whose push channel is
            healthy (tenants with ``push``).
        jitter: the fraction by which each profile's interval varies.
        lease_ttl: how long a lease lasts without renewal.
        close: called when the worker process shuts down.
    """

    tenants: Sequence[Tenant]
    redis: redis.Redis
    prefix: str = "calsync"
    interval: float = 300.0
    safety_interval: float = 3600.0
    jitter: float = 0.25
    lease_ttl: timedelta = timedelta(minutes=10)
    close: Callable[[], None] | None = field(default=None, eq=False)


def queued_key(prefix: str, profile_id: str) -> str:
    """The dedupe key of a profile: set while one of its tasks is queued or running."""
    return f"{prefix}:queued:{profile_id}"


def again_key(prefix: str, profile_id: str) -> str:
    """Set by a change notification before it tries the dedupe key: a task of the profile
    queued or running then reads it after freeing the dedupe key as it ends, and enqueues one
    more run, so the change is never missed (a task clears it as it starts)."""
    return f"{prefix}:again:{profile_id}"

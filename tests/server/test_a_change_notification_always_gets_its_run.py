"""A change notification always gets a run: when it comes just as the profile's task ends,
after the broker refused its task for a moment (the dedupe key is not left behind to
keep the profile from being queued for a quarter of an hour), and when Redis could not be
reached as it came (the web app's debouncer passes it on again once Redis is back). Real
Redis, for the keys and as the broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery_broker import UNREACHABLE, live_broker, unreachable_broker
from kombu.exceptions import OperationalError
from services import REDIS_URL

import calsync.celery as calsync_celery
from calsync.celery import CeleryTrigger
from calsync.celery_setup import WorkerSetup, again_key, queued_key
from calsync.push.trigger import Debouncer

ANN = "studio.ann"


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def setup_of(client: redis.Redis, prefix: str) -> Callable[[], WorkerSetup]:
    return lambda: WorkerSetup([], client, prefix=prefix)


class TaskEndsAfter:
    """The trigger's Redis client, with the profile's task ending (its ``_finish``, in
    another process in production) right after the trigger's ``commands``-th command."""

    def __init__(self, client: redis.Redis, commands: int, finish: Callable[[], None]) -> None:
        self.client, self.left, self.finish = client, commands, finish
        self._maybe_finish()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        command = getattr(self.client, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            result = command(*args, **kwargs)
            self.left -= 1
            self._maybe_finish()
            return result

        return run

    def _maybe_finish(self) -> None:
        if self.left == 0:
            self.finish()


@pytest.mark.parametrize("commands", [0, 1, 2], ids=["before", "between", "after"])
def test_a_change_notified_as_the_profiles_task_ends_gets_exactly_one_run(
    client: redis.Redis, redis_prefix: str, commands: int
) -> None:
    client.set(queued_key(redis_prefix, ANN), "a run in progress", ex=60)
    with live_broker(redis_prefix, setup_of(client, redis_prefix)) as waiting:
        worker = calsync_celery.current_worker()
        ending = TaskEndsAfter(client, commands, lambda: calsync_celery._finish(worker, ANN))

        CeleryTrigger(ending, redis_prefix).request_sync(ANN)

        assert waiting() == [ANN]
    assert client.get(queued_key(redis_prefix, ANN)) is not None  # until that run ends


def test_a_notification_whose_task_the_broker_refused_leaves_the_profile_free(
    client: redis.Redis, redis_prefix: str
) -> None:
    trigger = CeleryTrigger(client, redis_prefix)
    with (
        unreachable_broker(redis_prefix, setup_of(client, redis_prefix)),
        pytest.raises(OperationalError),
    ):
        trigger.request_sync(ANN)  # the web app answers Google with an error

    assert client.get(queued_key(redis_prefix, ANN)) is None
    with live_broker(redis_prefix, setup_of(client, redis_prefix)) as waiting:
        trigger.request_sync(ANN)  # the next change, a moment later
        assert waiting() == [ANN]


def test_a_task_that_cannot_queue_its_one_more_run_still_frees_the_dedupe_key(
    client: redis.Redis, redis_prefix: str
) -> None:
    client.set(queued_key(redis_prefix, ANN), "a run in progress", ex=60)
    client.set(again_key(redis_prefix, ANN), "a change meanwhile", ex=60)
    with unreachable_broker(redis_prefix, setup_of(client, redis_prefix)):
        calsync_celery._finish(calsync_celery.current_worker(), ANN)  # logged, never raised

    assert client.get(queued_key(redis_prefix, ANN)) is None  # the next sync_due queues it


def test_a_notification_that_came_while_redis_was_unreachable_is_queued_once_it_is_back(
    client: redis.Redis, redis_prefix: str
) -> None:
    """Google was answered (200) before the request was passed on, and will not say it
    again: the change must not wait for the safety interval (an hour, the channel healthy)."""
    trigger = CeleryTrigger(redis.Redis.from_url(UNREACHABLE), redis_prefix)
    with live_broker(redis_prefix, setup_of(client, redis_prefix)) as waiting:
        debouncer = Debouncer(trigger, 0.01, retry=0.05, retry_most=0.1)
        debouncer.request_sync(ANN)
        time.sleep(0.3)  # several tries, each refused
        assert (debouncer.pending(), waiting()) == ([ANN], [])

        trigger.redis = client  # Redis is back
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and debouncer.pending():
            time.sleep(0.02)
        debouncer.close()

        assert waiting() == [ANN]
    assert client.get(queued_key(redis_prefix, ANN)) is not None

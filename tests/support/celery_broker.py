"""The Celery broker of a test that enqueues in this process (as beat and the web app do): a
live one, Redis under the test's key prefix, whose waiting tasks can be read back; or one
that cannot be reached, as a broker down for a moment."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from services import REDIS_URL, enqueuing_to

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@contextmanager
def live_broker(prefix: str, setup_factory: Callable[[], Any]) -> Iterator[Callable[[], list[str]]]:
    """Enqueue to Redis under ``prefix``; yields what reads the profile ids of the
    ``sync_profile`` tasks waiting in the queue, oldest first."""
    with enqueuing_to(_environment(REDIS_URL, prefix), setup_factory):
        yield lambda: waiting_syncs(prefix)


@contextmanager
def unreachable_broker(prefix: str, setup_factory: Callable[[], Any]) -> Iterator[None]:
    """Enqueue to a broker that refuses every connection."""
    with enqueuing_to(_environment(UNREACHABLE, prefix), setup_factory):
        yield


def waiting_syncs(prefix: str) -> list[str]:
    """The profile ids of the ``sync_profile`` tasks waiting in ``prefix``'s queue."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        messages = [json.loads(raw) for raw in client.lrange(f"{prefix}:{prefix}", 0, -1)]
    finally:
        client.close()
    found = []
    for message in reversed(messages):  # pushed on the left, taken from the right
        assert message["headers"]["task"] == "calsync.sync_profile"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append(args[0])
    return found


def _environment(broker: str, prefix: str) -> dict[str, str]:
    options = json.dumps({"global_keyprefix": f"{prefix}:"})  # cleaned up with the prefix
    return {
        "CALSYNC_BROKER_URL": broker,
        "CALSYNC_QUEUE": prefix,
        "CALSYNC_BROKER_TRANSPORT_OPTIONS": options,
    }

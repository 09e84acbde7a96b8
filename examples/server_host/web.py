"""The server example's web app: Google's push notifications in, ``sync_profile`` tasks out.

    CALSYNC_SERVER_SETTINGS=settings.json uvicorn --factory server_host.web:web_app

It shares the workers' settings file (:mod:`server_host.worker`): the state store (where the
workers keep each channel and its token's hash), Redis and the key prefix (the dedupe keys of
``sync_due``). A notification is checked against the channel's stored token, and a change
enqueues one ``calsync.sync_profile`` through :class:`calsync.celery.CeleryTrigger`, merged
with any run already queued. Serve it behind the HTTPS address given as ``push.address``.
"""

from __future__ import annotations

from contextlib import ExitStack

import redis
from starlette.applications import Starlette

from calsync.celery import CeleryTrigger
from calsync.push import NotificationReceiver
from calsync.web import create_app
from server_host.worker import open_state, settings


def web_app(*, debounce: float = 1.0) -> Starlette:
    """The ASGI app; its state store stays open for the process's life."""
    config = settings()
    store, _ = open_state(ExitStack(), config["state"])
    trigger = CeleryTrigger(redis.Redis.from_url(config["redis"]), config["prefix"])
    return create_app(NotificationReceiver(store, trigger, debounce=debounce))

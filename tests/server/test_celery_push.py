"""Push notifications on the server path, with real processes and sockets: a ``celery
worker`` opens and renews each profile's watch channel, the example's web app (uvicorn)
receives the emulator's POSTs and enqueues ``sync_profile``, and ``sync_due`` polls a profile
with a healthy channel only at the safety interval."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from push_world import serving
from server_host.cluster import WorkerProcess, seed_studios, wait_for, worker_environment
from server_host.studios import (
    SYNC_BACK_STAFF,
    add_google_event,
    email_of,
    profile_of,
    staff_of,
    studio_name,
)
from services import REDIS_URL, enqueuing_to, require, unique_name
from starlette.applications import Starlette
from studio.db import Studio

import calsync.celery as calsync_celery
from calsync import SqliteStateStore
from calsync.state.base import PushChannel
from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore

pytestmark = pytest.mark.emulator
STUDIOS = 2  # two tenants over one state store: neither may touch the other's channels
USERS = 3  # staff 1: calendar and contacts; staff 2: calendar both ways; staff 3: out only
INTERVAL = 2.0  # the poll of a profile without a healthy channel
TTL, RENEW_BEFORE = 20.0, 10.0  # a channel is renewed 10 s after it opened


class PushCluster:
    def __init__(self, tmp: Path, google: GoogleEmulator, prefix: str, web_url: str) -> None:
        self.tmp, self.google, self.prefix = tmp, google, prefix
        self.today = datetime.now(UTC).date()
        tokens = SqliteTokenStore(tmp / "tokens.sqlite3")
        self.studios = seed_studios(tmp, google, tokens, STUDIOS, USERS, self.today)
        # by studio, then staff number (the studios draw their users' ids)
        self.profiles = [
            profile_of(self.studios[studio_name(s)], s, u)
            for s in range(1, STUDIOS + 1)
            for u in range(1, USERS + 1)
        ]
        self.settings = tmp / "settings.json"
        self.settings.write_text(json.dumps({
            "studios": self.studios, "base_url": google.base_url,
            "state": {"sqlite": str(tmp / "state.sqlite3")},
            "tokens": str(tmp / "tokens.sqlite3"), "redis": REDIS_URL, "prefix": prefix,
            "interval": INTERVAL, "lease_ttl": 5, "calls_per_minute": 6000,
            "push": {"address": f"{web_url}/google/notifications", "safety_interval": 3600,
                     "ttl": TTL, "renew_before": RENEW_BEFORE},
        }))  # fmt: skip
        self.store = SqliteStateStore(tmp / "state.sqlite3")
        self.env = worker_environment(
            self.settings, broker=REDIS_URL, queue=prefix, prefix=prefix, visibility_timeout=5
        )

    def channels(self, profile: str) -> list[PushChannel]:
        return self.store.push_channels(profile)

    def confirmed(self) -> bool:
        return all(
            any(c.confirmed_at is not None and c.resource_id for c in self.channels(p))
            for p in self.profiles
        )

    def at_google(self) -> set[str]:
        return {c["id"] for c in self.google.push.channels()}

    def studio(self, studio_number: int) -> Studio:
        return Studio(self.studios[studio_name(studio_number)])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushCluster]:
    require("Redis")
    import redis

    prefix = unique_name("celerypush")
    tmp = tmp_path_factory.mktemp("celerypush")
    os.environ["CALSYNC_SERVER_SETTINGS"] = str(tmp / "settings.json")
    from server_host.web import web_app
    from server_host.worker import worker_setup

    worker: WorkerProcess | None = None
    made: list[PushCluster] = []

    def make_app(web_url: str) -> Starlette:
        # the settings name the web app's address, and the web app reads the settings
        made.append(PushCluster(tmp, google, prefix, web_url))
        return web_app(debounce=0.2)

    try:
        with ExitStack() as stack, GoogleEmulator() as google, serving(make_app):
            cluster = made[0]
            stack.enter_context(enqueuing_to(cluster.env, worker_setup))
            worker = WorkerProcess("pusher", cluster.env, tmp / "pusher.log")
            worker.wait_ready()
            yield cluster
    finally:
        if worker is not None:
            worker.stop()
        os.environ.pop("CALSYNC_SERVER_SETTINGS", None)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)


def test_a_workers_first_runs_open_a_confirmed_channel_per_profile(cluster: PushCluster) -> None:
    assert sorted(calsync_celery.sync_due()) == sorted(cluster.profiles)
    wait_for(cluster.confirmed, 60, "every profile's channel to open and be confirmed")
    ours = {c.channel_id for p in cluster.profiles for c in cluster.channels(p)}
    assert ours == cluster.at_google()
    assert len(ours) == len(cluster.profiles)


def test_a_healthy_channel_stretches_the_poll_to_the_safety_interval(
    cluster: PushCluster,
) -> None:
    wait_for(cluster.confirmed, 60, "the channels")
    last = max(cluster.store.get_last_run(p) or datetime.min.replace(tzinfo=UTC)
               for p in cluster.profiles)  # fmt: skip
    # past the ordinary interval (with jitter) for every profile, but its channel is healthy
    wait_for(lambda: datetime.now(UTC) - last > timedelta(seconds=INTERVAL * 1.3), 10, "time")
    before = cluster.at_google()

    assert calsync_celery.sync_due() == []
    assert cluster.at_google() == before  # each tenant's sweep left the other's channels
    assert len(before) == len(cluster.profiles)


def test_a_change_made_in_google_reaches_the_studio_through_a_notification(
    cluster: PushCluster,
) -> None:
    wait_for(cluster.confirmed, 60, "the channels")
    day = cluster.today + timedelta(days=3)

    def unlinked() -> list[str]:
        with cluster.studio(1) as studio:
            user = staff_of(studio)[SYNC_BACK_STAFF]
            found = studio.appointments_between(user, day, day)
        return [a.title for a in found if a.kind == "unlinked"]

    assert unlinked() == []
    add_google_event(cluster.google, email_of(1, SYNC_BACK_STAFF), day)
    # no sync_due: only the notification can start this run
    wait_for(unlinked, 30, "the Google event to come back as an unlinked appointment")
    assert unlinked() == ["Coffee with a new client"]


def test_a_channel_nearing_expiry_is_renewed_by_the_due_sweep(cluster: PushCluster) -> None:
    wait_for(cluster.confirmed, 60, "the channels")
    before = {p: {c.channel_id for c in cluster.channels(p)} for p in cluster.profiles}

    def renewed() -> bool:
        calsync_celery.sync_due()  # as beat does
        return all(
            any(c.channel_id not in before[p] and c.confirmed_at for c in cluster.channels(p))
            and not {c.channel_id for c in cluster.channels(p)} & before[p]
            for p in cluster.profiles
        )

    wait_for(renewed, TTL + 30, "every channel to be replaced before it expires")
    old = set().union(*before.values())
    assert not old & cluster.at_google(), "the old channels were stopped at Google"
    assert len(cluster.at_google()) == len(cluster.profiles)


def test_a_profile_that_lost_its_channel_is_polled_at_the_interval_and_reopens_it(
    cluster: PushCluster,
) -> None:
    wait_for(cluster.confirmed, 60, "the channels")
    profile = cluster.profiles[0]  # studio 1's staff 1
    for channel in cluster.channels(profile):  # as a not_exists notification forgets it
        cluster.store.delete_push_channel(channel.channel_id)

    def queued() -> bool:  # another profile may come due meanwhile, for its renewal
        return profile in calsync_celery.sync_due()

    wait_for(queued, INTERVAL * 1.3 + 10, "the profile to be due at its ordinary interval")
    wait_for(cluster.confirmed, 60, "its new channel")


def test_turning_sync_off_stops_the_profiles_channel(cluster: PushCluster) -> None:
    wait_for(cluster.confirmed, 60, "the channels")
    profile = cluster.profiles[-1]  # the last studio's last staff member
    with cluster.studio(STUDIOS) as studio:
        user = staff_of(studio)[USERS]
        studio.set_google_prefs(user, replace(studio.google_prefs(user), sync_on=False))
    ids = {c.channel_id for c in cluster.channels(profile)}
    # a notification (or "sync now") for it before the sweep: its task syncs nothing
    asked = calsync_celery.sync_profile.apply(args=[profile]).get()
    assert asked == {"profile_id": profile, "skipped": "sync is off"}
    assert {c.channel_id for c in cluster.channels(profile)} == ids  # none opened again

    calsync_celery.sync_due()

    assert cluster.channels(profile) == []
    assert not ids & cluster.at_google()
    others = [p for p in cluster.profiles if p != profile]
    assert all(cluster.channels(p) for p in others)  # the other tenant's too

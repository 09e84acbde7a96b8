"""calsync.celery with real ``celery worker`` processes on Redis (and one on RabbitMQ): every
due profile is queued once and synced once, and a worker killed mid-sync leaves its profile to
another worker."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from server_host.cluster import WorkerProcess, seed_studios, wait_for, worker_environment
from server_host.studios import profile_of, studio_name
from services import RABBITMQ_URL, REDIS_URL, enqueuing_to, require, unique_name

import calsync.celery as calsync_celery
from calsync import SqliteStateStore
from calsync.celery_setup import again_key, queued_key
from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore

pytestmark = pytest.mark.emulator
STUDIOS, USERS = 2, 4  # the 4th user of each studio has sync off: 6 eligible profiles
LEASE_TTL = 3.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


METRICS_PORT = _free_port()


class Cluster:
    def __init__(self, tmp: Path, google: GoogleEmulator, prefix: str) -> None:
        self.tmp, self.google, self.prefix = tmp, google, prefix
        tokens = SqliteTokenStore(tmp / "tokens.sqlite3")
        studios = seed_studios(tmp, google, tokens, STUDIOS, USERS, datetime.now(UTC).date())
        # the studios draw their users' ids: a profile is found by studio and staff number
        self.profiles = {
            (s, u): profile_of(studios[studio_name(s)], s, u)
            for s in range(1, STUDIOS + 1)
            for u in range(1, USERS + 1)
        }
        self.eligible = sorted(self.profile(s, u) for s in (1, 2) for u in (1, 2, 3))
        self.settings = tmp / "settings.json"
        self.settings.write_text(json.dumps({
            "studios": studios, "base_url": google.base_url,
            "state": {"sqlite": str(tmp / "state.sqlite3")},
            "tokens": str(tmp / "tokens.sqlite3"), "redis": REDIS_URL, "prefix": prefix,
            "interval": 300, "lease_ttl": LEASE_TTL, "calls_per_minute": 6000,
        }))  # fmt: skip
        self.store = SqliteStateStore(tmp / "state.sqlite3")
        self.workers: list[WorkerProcess] = []

    def env(
        self, broker: str = REDIS_URL, queue: str | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        return worker_environment(
            self.settings, broker=broker, queue=queue or self.prefix, prefix=self.prefix,
            visibility_timeout=5, extra=extra,
        )  # fmt: skip

    def start(self, name: str, **env: Any) -> WorkerProcess:
        worker = WorkerProcess(name, self.env(**env), self.tmp / f"{name}.log")
        self.workers.append(worker)
        return worker

    def profile(self, studio_number: int, staff_number: int) -> str:
        return self.profiles[studio_number, staff_number]

    def last_runs(self) -> dict[str, datetime | None]:
        return {p: self.store.get_last_run(p) for p in self.eligible}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require("Redis")
    import redis

    prefix = unique_name("celery")
    with GoogleEmulator() as google:
        cluster = Cluster(tmp_path_factory.mktemp("celery"), google, prefix)
        import os

        os.environ["CALSYNC_SERVER_SETTINGS"] = str(cluster.settings)
        from server_host.worker import worker_setup

        try:
            stack = ExitStack()
            stack.enter_context(enqueuing_to(cluster.env(), worker_setup))
            cluster.start("alpha", extra={"CALSYNC_METRICS_PORT": str(METRICS_PORT)})
            cluster.start("beta")
            for worker in cluster.workers:
                worker.wait_ready()
            yield cluster
        finally:
            for worker in cluster.workers:
                worker.process.terminate()
            for worker in cluster.workers:
                worker.stop()
            stack.close()
            os.environ.pop("CALSYNC_SERVER_SETTINGS", None)
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)


def test_sync_due_queues_every_due_profile_once_and_each_is_synced_once(
    cluster: Cluster,
) -> None:
    first = calsync_celery.sync_due()
    again = calsync_celery.sync_due()  # before any ran: the dedupe keys hold them back
    assert (sorted(first), again) == (cluster.eligible, [])
    wait_for(lambda: all(cluster.last_runs().values()), 60, "every profile to be synced")
    synced = Counter(p for w in cluster.workers[:2] for p in w.synced())
    assert synced == Counter(dict.fromkeys(cluster.eligible, 1))
    assert all(w.synced() for w in cluster.workers[:2]), "both workers took tasks"
    assert calsync_celery.sync_due() == []  # synced just now: nothing is due


def test_a_worker_serves_its_metrics(cluster: Cluster) -> None:
    alpha = cluster.workers[0]

    def metrics() -> str:
        url = f"http://127.0.0.1:{METRICS_PORT}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def runs_counted() -> float:  # under every outcome (a test before may have failed one)
        lines = metrics().splitlines()
        return sum(float(n.rsplit(" ", 1)[1]) for n in lines if n.startswith("calsync_runs_total{"))

    # every run the worker started is counted once it ends (one may still be going)
    wait_for(lambda: runs_counted() == len(alpha.synced()), 30, "alpha's runs to be counted")
    text = metrics()
    assert 'calsync_runs_total{outcome="ok"}' in text
    assert "calsync_google_api_calls_total" in text
    assert "calsync_run_duration_seconds_count" in text


def test_one_profiles_failure_is_its_own_task_and_never_anothers(cluster: Cluster) -> None:
    broken, fine = cluster.profile(1, 3), cluster.profile(1, 2)
    SqliteTokenStore(cluster.tmp / "tokens.sqlite3").delete(broken)  # Google disconnected
    for profile in (broken, fine):
        cluster.store.set_last_run(profile, None)  # due again
    before = cluster.last_runs()
    tasks = {p: calsync_celery.sync_profile.delay(p) for p in (broken, fine)}

    def logs() -> str:
        return "".join(w.text() for w in cluster.workers)

    # both end as reports, not crashes
    done = [f"sync_profile[{task.id}] succeeded" for task in tasks.values()]
    wait_for(lambda: all(line in logs() for line in done), 30, "both tasks")
    # a failed run is not a recent run: only the fine profile's last run moved
    assert cluster.store.get_last_run(fine) != before[fine]
    assert cluster.store.get_last_run(broken) == before[broken]
    fine_outcome = logs().split(done[1], 1)[1].splitlines()[0]
    assert "'ok': True" in fine_outcome
    outcome = logs().split(done[0], 1)[1].splitlines()[0]
    assert "'ok': False" in outcome
    assert "connect your Google account" in outcome


def test_a_profile_leased_by_another_runner_is_retried_when_the_lease_expires(
    cluster: Cluster,
) -> None:
    profile = cluster.profile(2, 1)
    now = datetime.now(UTC)
    assert cluster.store.acquire_lease(profile, "desktop:1:x", timedelta(seconds=2), now)
    cluster.store.set_last_run(profile, None)
    task = calsync_celery.sync_profile.delay(profile)
    wait_for(lambda: cluster.store.get_last_run(profile), 30, "the retried task")
    logs = "".join(w.text() for w in cluster.workers)
    assert f"sync_profile[{task.id}] retry: Retry in" in logs


def test_sync_profile_runs_on_a_rabbitmq_broker(cluster: Cluster) -> None:
    require("RabbitMQ")
    from celery import Celery

    queue = f"{cluster.prefix}-amqp"
    worker = cluster.start("rabbit", broker=RABBITMQ_URL, queue=queue)
    worker.wait_ready()
    profile = cluster.profile(2, 2)
    before = cluster.store.get_last_run(profile)
    cluster.store.set_last_run(profile, None)  # due again
    sender = Celery("sender", broker=RABBITMQ_URL)
    sender.send_task("calsync.sync_profile", args=[profile], queue=queue)
    wait_for(lambda: cluster.store.get_last_run(profile), 60, "the RabbitMQ worker")
    assert worker.synced() == [profile]
    assert before is not None


def test_a_worker_killed_mid_sync_leaves_its_profile_to_the_other_worker(
    cluster: Cluster,
) -> None:
    profile = cluster.profile(1, 1)
    before = cluster.store.get_last_run(profile)
    synced_before = {w.name: w.synced().count(profile) for w in cluster.workers[:2]}
    cluster.store.forget_profile(profile)  # start over: a full, slow sync
    cluster.google.inject_fault(latency=0.4, count=None, api_method="calendar.events.list")
    task = calsync_celery.sync_profile.delay(profile)
    lease = wait_for(lambda: cluster.store.get_lease(profile), 30, "a worker to take the lease")
    [victim] = [w for w in cluster.workers[:2] if f":{w.pid}:" in lease.holder]
    [survivor] = [w for w in cluster.workers[:2] if w is not victim]
    victim.kill()
    cluster.google.clear_faults()
    done = wait_for(
        lambda: cluster.store.get_last_run(profile) not in (None, before), 60,
        "the other worker to finish the killed worker's profile",
    )  # fmt: skip
    assert done
    # the killed worker never acknowledged the task: the broker delivered it again
    assert f"sync_profile[{task.id}] received" in victim.text()
    # the run's last-run mark is written before the task returns and celery logs its end
    succeeded = f"sync_profile[{task.id}] succeeded"
    wait_for(lambda: succeeded in survivor.text(), 30, "the survivor to log the task's end")
    assert survivor.synced().count(profile) == synced_before[survivor.name] + 1


def test_a_change_notification_enqueues_one_sync_under_the_dedupe_key(cluster: Cluster) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    trigger = calsync_celery.CeleryTrigger(client, cluster.prefix)
    profile = cluster.profile(1, 1)
    before = cluster.store.get_last_run(profile)

    trigger.request_sync(profile)

    wait_for(lambda: cluster.store.get_last_run(profile) != before, 30, "the pushed run")
    wait_for(lambda: client.get(queued_key(cluster.prefix, profile)) is None, 30,
             "the dedupe key to be freed")  # fmt: skip


def test_a_change_notified_while_a_run_is_in_progress_gets_one_more_run(cluster: Cluster) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    trigger = calsync_celery.CeleryTrigger(client, cluster.prefix)
    profile = cluster.profile(1, 2)
    queued = queued_key(cluster.prefix, profile)
    client.set(queued, "a run in progress", ex=60)  # as while a task of the profile runs

    trigger.request_sync(profile)  # not queued twice, but marked
    assert client.get(again_key(cluster.prefix, profile)) is not None
    before = cluster.store.get_last_run(profile)
    calsync_celery._finish(calsync_celery.current_worker(), profile)  # that task ends

    wait_for(lambda: cluster.store.get_last_run(profile) != before, 30, "the run after it")
    wait_for(lambda: client.get(queued) is None, 30, "the dedupe key to be freed")
    assert client.get(again_key(cluster.prefix, profile)) is None

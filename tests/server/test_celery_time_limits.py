"""Celery's time limits with a real ``celery worker --pool=prefork`` (the pool that enforces
them): a run blocked in a host adapter past the soft limit stops cleanly, and one that ignores
the soft limit is killed by the hard limit, its profile queued again once its lease lapses. A
run stalled while another runner took its lease over stops before it writes more."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from server_host.cluster import WorkerProcess, seed_studios, wait_for, worker_environment
from server_host.studios import add_google_event, email_of, profile_of, staff_of
from services import POSTGRES_URL, REDIS_URL, enqueuing_to, require, unique_name
from slow_studio import calls_key, slow_key
from studio.db import Studio

import calsync.celery as calsync_celery
from calsync.celery_setup import queued_key
from calsync.crypto import KEYS_ENV, TokenCipher, generate_key
from calsync.server.database import Database
from calsync.server.tokens import PostgresTokenStore
from calsync.state.postgres import PostgresStateStore
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
SUPPORT = Path(__file__).resolve().parents[1] / "support"
SOFT, HARD, LEASE_TTL = 4, 7, 3.0  # the lease renewed every second
BLOCKED = 30  # seconds a slow adapter blocks: far past both limits


class LimitedCluster:
    """One studio (staff 1-3 sync, 2 with sync back on), its state and tokens in PostgreSQL,
    and one prefork worker of two processes under short time limits, whose studio adapter a
    test can make block."""

    def __init__(self, tmp: Path, google: GoogleEmulator, prefix: str) -> None:
        self.tmp, self.google, self.prefix = tmp, google, prefix
        self.today = datetime.now(UTC).date()
        key = generate_key()
        self.database = Database(POSTGRES_URL, schema=prefix, max_size=2)
        self.store = PostgresStateStore(self.database, migrate=True)
        tokens = PostgresTokenStore(self.database, TokenCipher([key]))
        tokens.migrate()
        studios = seed_studios(tmp, google, tokens, 1, 4, self.today)
        # the studio draws its users' ids: staff members' profiles, by staff number
        self.profiles = {staff: profile_of(studios["studio1"], 1, staff) for staff in (1, 2, 3)}
        self.settings = tmp / "settings.json"
        self.settings.write_text(json.dumps({
            "studios": studios, "base_url": google.base_url,
            "state": {"postgres": POSTGRES_URL, "schema": prefix},
            "redis": REDIS_URL, "prefix": prefix,
            "interval": 300, "lease_ttl": LEASE_TTL, "calls_per_minute": 6000,
        }))  # fmt: skip
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.env = worker_environment(
            self.settings, broker=REDIS_URL, queue=prefix, prefix=prefix,
            visibility_timeout=60, extra={
                "CALSYNC_WORKER_SETUP": "slow_studio:worker_setup", KEYS_ENV: key,
                "CALSYNC_SOFT_TIME_LIMIT": str(SOFT), "CALSYNC_TIME_LIMIT": str(HARD),
            },
        )  # fmt: skip
        self.env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT), self.env["PYTHONPATH"]])
        self.worker = WorkerProcess(
            "limits", self.env, tmp / "limits.log", pool="prefork", concurrency=2
        )

    def block(
        self, profile_id: str, method: str, *, after: int, stubborn: bool, seconds: float = BLOCKED
    ) -> None:
        """Make the profile's studio adapter block in ``method`` after ``after`` calls."""
        self.redis.delete(calls_key(self.prefix, profile_id))
        slow = {"method": method, "after": after, "seconds": seconds, "stubborn": stubborn}
        self.redis.set(slow_key(self.prefix, profile_id), json.dumps(slow))

    def unblock(self, profile_id: str) -> None:
        self.redis.delete(slow_key(self.prefix, profile_id))

    def queued(self, profile_id: str) -> bool:
        return self.redis.exists(queued_key(self.prefix, profile_id)) > 0

    def unlinked(self, staff: int) -> list[str]:
        """The Google event ids of the staff member's unlinked appointments in the studio."""
        with Studio(self.tmp / "studio1.sqlite3") as studio:
            found = studio.appointments_between(
                staff_of(studio)[staff],
                self.today - timedelta(days=30),
                self.today + timedelta(days=60),
            )
        return sorted(a.google_event_id or "" for a in found if a.kind == "unlinked")

    def google_event_ids(self, staff: int) -> list[str]:
        account = self.google.account(email_of(1, staff))
        return sorted(e["id"] for e in account.primary.live_events())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LimitedCluster]:
    require("Redis")
    require("PostgreSQL")
    prefix = unique_name("limits")
    with GoogleEmulator() as google:
        cluster = LimitedCluster(tmp_path_factory.mktemp("limits"), google, prefix)
        os.environ["CALSYNC_SERVER_SETTINGS"] = str(cluster.settings)
        os.environ[KEYS_ENV] = cluster.env[KEYS_ENV]
        from server_host.worker import worker_setup

        stack = ExitStack()
        try:
            # this process runs sync_due, as beat would
            stack.enter_context(enqueuing_to(cluster.env, worker_setup))
            cluster.worker.wait_ready()
            calsync_celery.sync_due()  # the initial sync of every profile
            wait_for(lambda: all(cluster.store.get_last_run(p) for p in cluster.profiles.values()),
                     60, "the initial sync")  # fmt: skip
            yield cluster
        finally:
            cluster.worker.stop()
            stack.close()
            os.environ.pop("CALSYNC_SERVER_SETTINGS", None)
            os.environ.pop(KEYS_ENV, None)
            cluster.database.drop_schema()
            cluster.database.close()
            keys = list(cluster.redis.scan_iter(f"{prefix}*"))
            if keys:
                cluster.redis.delete(*keys)


def test_the_soft_time_limit_stops_a_blocked_run_and_keeps_what_it_recorded(
    cluster: LimitedCluster,
) -> None:
    slow, other = cluster.profiles[2], cluster.profiles[3]  # staff 2 has sync back on
    for day in range(4):  # made in Google: each comes back as an unlinked appointment
        add_google_event(cluster.google, email_of(1, 2), cluster.today + timedelta(days=20 + day))
    # the adapter creates two of them, then blocks in the third, inside the engine's
    # per-item isolation (which records an Exception as one item's error and goes on)
    cluster.block(slow, "create_unlinked", after=2, stubborn=False)
    for profile in (slow, other):
        cluster.store.set_last_run(profile, None)  # due again
    started = time.monotonic()

    assert sorted(calsync_celery.sync_due()) == sorted([slow, other])

    reported = "'timed_out': True"  # the task's outcome, once the run let go of the profile
    wait_for(lambda: reported in cluster.worker.text(), HARD + 20, "the soft time limit")
    assert time.monotonic() - started < BLOCKED  # the run did not wait for the adapter
    assert f"sync_profile: {slow} stopped at the soft time limit ({SOFT}s)" in cluster.worker.text()
    assert "Hard time limit" not in cluster.worker.text()
    # the run went no further, and let go of the profile
    assert len(cluster.unlinked(2)) == 2
    wait_for(lambda: cluster.store.get_lease(slow) is None, 5, "the lease to be released")
    wait_for(lambda: not cluster.queued(slow), 5, "the dedupe key to be freed")
    assert cluster.store.get_last_run(slow) is None  # a timed-out run is not a recent run
    # the other profile's run, alongside it in the other process, was not disturbed
    wait_for(lambda: cluster.store.get_last_run(other), 30, "the other profile's run")

    cluster.unblock(slow)
    assert calsync_celery.sync_due() == [slow]  # queued again at once
    wait_for(lambda: cluster.store.get_last_run(slow), 30, "the next run")

    made_in_google = [e for e in cluster.google_event_ids(2) if e in set(cluster.unlinked(2))]
    assert len(cluster.unlinked(2)) == len(made_in_google) == 4  # none lost, none twice


def test_the_hard_time_limit_kills_a_run_that_ignores_the_soft_one(
    cluster: LimitedCluster,
) -> None:
    profile = cluster.profiles[1]
    cluster.block(profile, "read", after=0, stubborn=True)
    cluster.store.set_last_run(profile, None)
    assert calsync_celery.sync_due() == [profile]

    wait_for(lambda: "Hard time limit" in cluster.worker.text(), HARD + 30, "the hard limit")
    log = cluster.worker.text()
    assert f"slow adapter: {profile} ignores TimeLimitReached" in log
    assert f"sync_profile: {profile} stopped" not in log  # it never got that far
    cluster.unblock(profile)
    # the killed run's lease lapses (LEASE_TTL) and so does its dedupe key (at the hard
    # limit): the next sync_due queues the profile again, and it is synced
    wait_for(lambda: calsync_celery.sync_due() == [profile], 30, "the profile to be queued again")
    wait_for(lambda: cluster.store.get_last_run(profile), 30, "the run after the kill")
    assert cluster.worker.text().count(f"syncing profile {profile}") == 3  # initial, killed, now


def test_a_run_stalled_while_another_runner_took_its_lease_stops_and_tells_no_one(
    cluster: LimitedCluster,
) -> None:
    profile = cluster.profiles[2]  # staff 2: sync back on
    for day in range(3):
        add_google_event(cluster.google, email_of(1, 2), cluster.today + timedelta(days=40 + day))
    before = len(cluster.unlinked(2))
    # the adapter blocks in the first create for longer than a renewal's period (1 s), and
    # within the soft limit: a worker stalled
    cluster.block(profile, "create_unlinked", after=0, stubborn=False, seconds=2.5)
    cluster.store.set_last_run(profile, None)
    blocked = f"slow adapter: {profile} blocks in create_unlinked"
    earlier = cluster.worker.text().count(blocked)  # (the other tests' runs)
    assert calsync_celery.sync_due() == [profile]
    wait_for(lambda: cluster.worker.text().count(blocked) > earlier, 30, "the run to block")

    with cluster.database.transaction() as conn:  # another runner took the lease over
        conn.execute(
            "UPDATE leases SET holder = 'intruder', expires_at = now() + interval '5 minutes'"
            " WHERE profile_id = %s",
            (profile,),
        )

    lost = f"profile {profile}: this runner lost its lease: another runner holds it now"
    wait_for(lambda: lost in cluster.worker.text(), 30, "the next renewal")
    cluster.unblock(profile)  # (the adapter would block in each create)
    wait_for(lambda: "'lease_lost': True" in cluster.worker.text(), 30, "the run to stop")
    this_run = cluster.worker.text().split(blocked)[-1]
    assert "stopped at the soft time limit" not in this_run
    assert "Hard time limit" not in this_run
    # the chunk in progress finished (the three creates of one commit); the run went no further
    assert len(cluster.unlinked(2)) == before + 3
    assert cluster.store.get_last_run(profile) is None  # not a run that finished
    lease = cluster.store.get_lease(profile)
    assert lease is not None
    assert lease.holder == "intruder"  # letting go never drops another runner's lease
    wait_for(lambda: not cluster.queued(profile), 5, "the dedupe key to be freed")
    cluster.store.release_lease(profile, "intruder")  # the intruder's run, done

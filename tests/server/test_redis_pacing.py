"""One quota across processes: RedisQuotaPacer against real Redis and the emulator's quota."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from services import REDIS_URL

from calsync.google.pacing import QuotaPacer
from calsync.google.redis_pacing import RedisQuotaPacer
from calsync.testing import GoogleEmulator

SUPPORT = Path(__file__).resolve().parents[1] / "support"
# Google's 600 calls per user in a window four times shorter: a run of one window (4 x 150
# creates and a few reads) is long enough that the bucket's burst does not flatter the rate,
# and 40 calls a second stays well below what two shared cores serve, so the pacer binds.
WORKERS, ITEMS = 4, 150
QUOTA, WINDOW = 600, 15.0


class Sleeps:
    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, seconds: float) -> None:
        self.total += seconds


def test_the_shared_bucket_has_the_local_pacers_shape(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    pacer = RedisQuotaPacer(client, "u1", prefix=redis_prefix, sleep=Sleeps())
    local = QuotaPacer(headroom=0.05)
    assert (pacer.burst, pacer.usable) == (local.burst, local.usable)
    assert pacer.rate == (local.usable - local.burst) / local.window_seconds


def test_two_pacers_of_one_user_share_one_bucket(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    sleeps = Sleeps()
    a = RedisQuotaPacer(client, "u1", 120, 60.0, prefix=redis_prefix, sleep=sleeps)
    b = RedisQuotaPacer(client, "u1", 120, 60.0, prefix=redis_prefix, sleep=sleeps)
    other = RedisQuotaPacer(client, "u2", 120, 60.0, prefix=redis_prefix, sleep=sleeps)
    assert a.burst == 9
    assert a.acquire(6) == 0.0
    assert b.acquire(3) == 0.0  # the burst is spent, together
    assert b.acquire(1) == pytest.approx(1 / b.rate, rel=0.05)  # b waits for a's calls too
    assert other.acquire(9) == 0.0  # another user has their own bucket


def test_a_project_bucket_paces_every_user_of_the_project(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)

    def pacer(user: str) -> RedisQuotaPacer:
        return RedisQuotaPacer(
            client, user, 600, 60.0, project="p1", project_calls_per_window=240,
            prefix=redis_prefix, sleep=Sleeps(),
        )  # fmt: skip

    assert pacer("u1").acquire(20) == 0.0  # the project's burst is 20
    assert pacer("u2").acquire(1) > 0.0  # u2's own bucket is full, the project's is not


def test_without_redis_it_falls_back_to_local_pacing_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    sleeps = Sleeps()
    pacer = RedisQuotaPacer(dead, "u1", 10, 60.0, sleep=sleeps)
    with caplog.at_level(logging.WARNING):
        for _ in range(12):
            pacer.acquire(1)
    assert pacer.fallback_calls == 12
    assert sleeps.total > 0  # still paced: 12 calls against 9 a window
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.emulator
def test_four_worker_processes_share_one_users_quota_without_a_refusal(
    redis_prefix: str,
) -> None:
    with GoogleEmulator(quota_per_window=QUOTA, quota_window_seconds=WINDOW) as google:
        token, _ = google.issue_tokens("quota-user@studio.example")
        command = [sys.executable, str(SUPPORT / "quota_worker.py"), google.base_url, token,
                   REDIS_URL, redis_prefix, str(QUOTA), str(WINDOW), str(ITEMS)]  # fmt: skip
        workers = [
            subprocess.Popen(
                [*command, f"w{n}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for n in range(WORKERS)
        ]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        before = google.stats()
        start = time.time()
        outs = []
        for worker in workers:  # everyone at once
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            assert worker.stdout is not None
            outs.append(json.loads(worker.stdout.readline()))
            worker.wait(timeout=60)
        after = google.stats()
    calls = after["api_calls"] - before["api_calls"]
    # from the start to the last call the pacers let out (the last batch's own latency is the
    # emulator's and the machine's, not the pacer's)
    elapsed = max(o["last_admitted"] for o in outs) - start
    throughput = calls / elapsed / (QUOTA / WINDOW)
    print(f"shared quota: {calls} calls in {elapsed:.2f}s, {throughput:.0%} of the quota")
    assert [o["errors"] for o in outs] == [[]] * WORKERS
    assert [o["created"] for o in outs] == [ITEMS] * WORKERS
    assert sum(o["fallback_calls"] for o in outs) == 0
    assert after["quota_rejections"] == 0
    assert throughput >= 0.85, f"{calls} calls in {elapsed:.2f}s: {throughput:.0%} of the quota"

"""A Redis that answers but refuses the pacer's script (a read-only replica after a failover,
out of memory, here a key of the wrong type) degrades pacing to the local bucket, as an
unreachable Redis does: it never fails the call."""

from __future__ import annotations

import logging

import pytest
import redis
from services import REDIS_URL

from calsync.google.redis_pacing import RedisQuotaPacer


class Sleeps:
    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, seconds: float) -> None:
        self.total += seconds


def test_a_redis_refusing_the_script_falls_back_to_local_pacing_with_one_warning(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    # the bucket's key holds a string: Redis refuses the script's HMGET with WRONGTYPE, an
    # error reply like a read-only replica's or an out-of-memory refusal
    client.set(f"{redis_prefix}:quota:user:u1", "not a bucket")
    sleeps = Sleeps()
    pacer = RedisQuotaPacer(client, "u1", 10, 60.0, prefix=redis_prefix, sleep=sleeps)
    with caplog.at_level(logging.WARNING):
        for _ in range(12):
            pacer.acquire(1)
    assert pacer.fallback_calls == 12
    assert sleeps.total > 0  # still paced: 12 calls against 9 a window
    warnings = [r for r in caplog.records if "refused the call" in r.getMessage()]
    assert len(warnings) == 1

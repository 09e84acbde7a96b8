"""One worker process of the shared-quota test: syncs a backlog of sessions into its own
calendar of a Google user shared with other workers, paced by a RedisQuotaPacer.

    python quota_worker.py BASE_URL TOKEN REDIS_URL PREFIX CALLS WINDOW ITEMS NAME

Prints ``ready`` and waits for a line on stdin, so every worker starts at once; then prints one
JSON line: calls admitted, seconds waited, errors, when it started and ended, and when its last
call was admitted by the pacer (epoch seconds).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from google.oauth2.credentials import Credentials

from calsync import (
    ClientInfo,
    ItemKind,
    MemoryStateStore,
    ScheduleItem,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    Timed,
)
from calsync.google.account import connect
from calsync.google.redis_pacing import RedisQuotaPacer
from calsync.testing import MemoryScheduleSource


def backlog(user: str, count: int) -> MemoryScheduleSource:
    source = MemoryScheduleSource()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    client = ClientInfo("c1", "Ann Smith", phone="+44 20 7946 0001")
    for n in range(count):
        when = start + timedelta(hours=n)
        item = ScheduleItem(
            f"s{n}", ItemKind.SESSION, client=client, session_type="Wedding",
            when=Timed(when, when + timedelta(hours=1), "Europe/London"),
        )  # fmt: skip
        source.add(user, item)
    return source


def main(argv: list[str]) -> int:
    base_url, token, redis_url, prefix, calls, window, items, name = argv
    client = redis.Redis.from_url(redis_url)
    pacer = RedisQuotaPacer(client, "quota-user", int(calls), float(window), prefix=prefix)
    last_admitted = [0.0]
    admit_calls = pacer._admit

    def admit(calls: int) -> tuple[Any, float]:  # when the last call went out (throughput)
        admitted = admit_calls(calls)
        last_admitted[0] = time.time()
        return admitted

    pacer._admit = admit  # type: ignore[method-assign]
    account = connect(Credentials(token=token), base_url=base_url, pacer=pacer)
    source = backlog(name, int(items))
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    calendar = account.calendar.create_calendar(f"backlog {name}")
    profile = SyncProfile(f"quota.{name}", name, calendar.id, SyncOptions())
    report = SyncEngine(MemoryStateStore(), source).sync(profile, account.calendar)
    ended = time.time()
    account.close()
    result = {
        "name": name,
        "admitted": pacer.admitted,
        "waited": pacer.waited,
        "fallback_calls": pacer.fallback_calls,
        "errors": [e.message for e in report.errors] + ([report.fatal] if report.fatal else []),
        "created": sum(n for k, n in report.counts.items() if k.startswith("remote.")),
        "started": started,
        "ended": ended,
        "last_admitted": last_admitted[0],
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

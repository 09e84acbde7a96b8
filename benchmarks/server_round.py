"""What a quiet round costs on the server: PostgreSQL and four worker processes, side by side
with SQLite in one process, in one run.

A quiet round syncs every user once when nothing changed on either side: per user it reads
the host's items, the mapping and cursors, lists the calendar incrementally from its sync
token, finds nothing to do and records the run. This is the steady state of a server, and what
decides how many users a worker process serves.

    .venv/bin/python benchmarks/server_round.py [--users 1000] [--items 200] [--workers 4]

Needs PostgreSQL and Redis (see docs/server.md). The Google emulator runs in this process;
each user is their own Google account with ``--items`` sessions, synced once (the initial
sync, not measured) by the PostgreSQL workers, then once more (not measured either: that run
lists the initial sync's own writes back from Google); the SQLite store is then given the same
state.
The initial sync is not paced at Google's quota: at 600 calls a minute per user it would take
each user's ``--items`` inserts a third of a minute, over an hour for 1,000 users on four
processes, and it is setup, not what is measured. It runs with a local pacer a thousand times
above the quota (same batch size, so the same requests), and the emulator enforces no quota
(its ``quota_rejections`` are reported and must be 0). The quiet round is paced as in
production.

The quiet round is measured on PostgreSQL with ``--workers`` processes (each a
``SyncProcessor`` over its share of the users, leases and all, paced by a Redis bucket per
user) and on SQLite in one process, ``--repeat`` times each, interleaved; each store's row is
its round with the least worker CPU per user (the one other load on the machine disturbed
least), with the range over every round. Reported: wall time, CPU seconds per user (the worker
processes' own CPU: the emulator's is Google's, reported apart), database statements per user
(the store's counter; SQLite: its calls counted, one statement each in a quiet round), and
HTTP requests per user (the emulator's count). ``wall_seconds`` includes starting the
processes (imports); ``sync_seconds`` is the slowest process's syncing alone.

For sizing a server (how many users a core serves): ``users_per_core_second`` is users
synced per second of worker CPU, and ``cores_busy`` how busy the machine's cores were while
the workers synced: the workers' CPU / (``sync_seconds`` * ``os.cpu_count()``), the share
left to the emulator, the database and everything else on the machine being the rest;
``machine_busy`` is the share of every core's time the whole machine was busy from the first
worker's start of syncing to the last one's end (``/proc/stat``: the workers, the emulator,
PostgreSQL, Redis and anything else running).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import redis
from google.oauth2.credentials import Credentials

from calsync import (
    ClientInfo,
    ItemKind,
    ScheduleItem,
    SqliteStateStore,
    StateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    Timed,
)
from calsync.google.account import connect
from calsync.google.pacing import QuotaPacer
from calsync.google.redis_pacing import RedisQuotaPacer
from calsync.model import Channel
from calsync.processor import Connection, SyncProcessor
from calsync.profile import ProfileStatus, ProfileStore
from calsync.server.database import Database
from calsync.state.postgres import PostgresStateStore
from calsync.testing import GoogleEmulator, MemoryScheduleSource

POSTGRES = os.environ.get("CALSYNC_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("CALSYNC_BENCH_REDIS", "redis://127.0.0.1:6379/0")
#: the setup's pacing: a thousand times Google's 600 calls a minute per user
UNPACED_CALLS_PER_MINUTE = 600_000
START = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)


class Profiles(ProfileStore):
    """The benchmark's users: profile ``bench.uN`` syncs host user ``uN`` to their primary
    calendar, initial sync done."""

    def __init__(self, users: list[int], setup: dict[str, Any]) -> None:
        self._profiles = [
            SyncProfile(f"bench.u{n}", f"u{n}", email(n), SyncOptions(initial_sync_pending=False))
            for n in users
        ]

    def profiles(self) -> list[SyncProfile]:
        return list(self._profiles)

    def initial_sync_done(self, profile_id: str) -> None:
        pass

    def set_status(self, profile_id: str, status: ProfileStatus, message: str) -> None:
        raise RuntimeError(f"{profile_id}: {status} {message}")


def email(user: int) -> str:
    return f"u{user}@bench.example"


class CountingStore:
    """Counts the calls made on a store (SQLite has no statement counter of its own)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.queries = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if callable(attribute) and name != "transaction":

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.queries += 1
                return attribute(*args, **kwargs)

            return counted
        return attribute


def host(users: list[int], items: int) -> MemoryScheduleSource:
    """Every user's sessions, the same in every process (built, not stored)."""
    source = MemoryScheduleSource()
    client = ClientInfo("c1", "Ann Smith", phone="+44 20 7946 0001")
    for user in users:
        for n in range(items):
            when = START + timedelta(hours=n)
            source.add(f"u{user}", ScheduleItem(
                f"s{n}", ItemKind.SESSION, client=client, session_type="Portrait",
                when=Timed(when, when + timedelta(hours=1), "Europe/London"),
            ))  # fmt: skip
    return source


def open_store(setup: dict[str, Any]) -> tuple[Any, Any]:
    if setup["store"] == "postgres":
        database = Database(POSTGRES, schema=setup["schema"], max_size=2)
        return PostgresStateStore(database, migrate=True), database
    store = SqliteStateStore(setup["sqlite"])
    return CountingStore(store), store


def run_worker(setup: dict[str, Any]) -> dict[str, Any]:
    """One worker process: sync its users once, sequentially; its own costs."""
    users: list[int] = setup["users"]
    store, closing = open_store(setup)
    client = redis.Redis.from_url(REDIS)
    tokens: dict[str, str] = setup["tokens"]

    def connect_profile(profile: SyncProfile) -> Connection:
        pacer: QuotaPacer
        if setup["paced"]:
            pacer = RedisQuotaPacer(client, profile.id, prefix=setup["prefix"])
        else:  # the initial sync (setup): far above the quota, the same 50-call batches
            pacer = QuotaPacer(UNPACED_CALLS_PER_MINUTE, burst=50)
        account = connect(Credentials(token=tokens[profile.calendar_id or ""]),
                          base_url=setup["base_url"], pacer=pacer)  # fmt: skip
        return Connection(account.calendar, account.contacts, close=account.close)

    engine = SyncEngine(store, host(users, setup["items"]))
    processor = SyncProcessor(engine, Profiles(users, setup), connect_profile, interval=0.0)
    ticks, started_at = machine_ticks(), time.time()
    queries, cpu, wall = store.queries, time.process_time(), time.perf_counter()
    writes = problems = 0
    for profile in processor.eligible():
        run = processor.run_profile(profile)
        report = run.report
        if report is None or not report.ok:
            problems += 1
        else:
            writes += report.writes
    result = {
        "users": len(users), "writes": writes, "problems": problems,
        "queries": store.queries - queries, "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "started_at": started_at, "ended_at": time.time(),
        "ticks_before": ticks, "ticks_after": machine_ticks(),
    }  # fmt: skip
    closing.close()
    return result


def spawn(setup: dict[str, Any], workdir: Path, name: str) -> subprocess.Popen[str]:
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(setup))
    return subprocess.Popen([sys.executable, __file__, "--worker", str(path)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of every core since boot (Linux), or ``None``."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 2)


def run_round(
    base: dict[str, Any], shares: list[list[int]], workdir: Path, google: GoogleEmulator
) -> dict[str, Any]:
    google.reset_stats()
    wall, emulator_cpu = time.perf_counter(), time.process_time()  # the emulator is in here
    workers = [spawn(base | {"users": share}, workdir, f"w{i}") for i, share in enumerate(shares)]
    results = [json.loads(w.communicate()[0]) for w in workers]
    first = min(results, key=lambda r: r["started_at"])
    last = max(results, key=lambda r: r["ended_at"])
    machine = busy_share(first["ticks_before"], last["ticks_after"])
    wall, emulator_cpu = time.perf_counter() - wall, time.process_time() - emulator_cpu
    users = sum(r["users"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    sync = max(r["wall"] for r in results)
    stats = google.stats()
    return {
        "processes": len(shares), "users": users,
        "wall_seconds": round(wall, 2),
        "sync_seconds": round(sync, 2),
        "cpu_ms_per_user": round(1000 * cpu / users, 2),
        "users_per_core_second": round(users / cpu, 1) if cpu else None,
        "cores_busy": round(cpu / (sync * (os.cpu_count() or 1)), 2) if sync else None,
        "emulator_cpu_ms_per_user": round(1000 * emulator_cpu / users, 2),
        "machine_busy": machine,
        "queries_per_user": round(sum(r["queries"] for r in results) / users, 2),
        "http_requests_per_user": round(stats["http_requests"] / users, 2),
        "quota_rejections": stats["quota_rejections"],
        "writes": sum(r["writes"] for r in results),
        "problems": sum(r["problems"] for r in results),
    }  # fmt: skip


def least_disturbed(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the least worker CPU per user (the one other load disturbed least), with
    the range of that CPU over every round."""
    best = min(rounds, key=lambda r: r["cpu_ms_per_user"])
    spread = [r["cpu_ms_per_user"] for r in rounds]
    return best | {"rounds": len(rounds), "cpu_ms_per_user_range": f"{min(spread)}-{max(spread)}"}


def copy_state(database: Database, target: StateStore, profiles: list[str]) -> None:
    """Give the SQLite store the state the initial sync left in PostgreSQL."""
    source = PostgresStateStore(database)
    with target.transaction():
        for profile in profiles:
            for channel in Channel:
                for row in source.mappings(profile, channel).values():
                    target.put_mapping(row)
        with database.transaction() as conn:
            cursors = conn.execute("SELECT profile_id, name, value FROM cursors").fetchall()
        for profile, name, value in cursors:
            target.set_cursor(profile, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="quiet rounds of each store")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(json.loads(Path(args.worker).read_text()))))
        return
    schema = f"calsync_bench_{uuid.uuid4().hex[:8]}"
    users = list(range(args.users))
    shares = [users[i :: args.workers] for i in range(args.workers)]
    with TemporaryDirectory() as tmp, GoogleEmulator() as google:
        workdir = Path(tmp)
        tokens = {email(n): google.issue_tokens(email(n))[0] for n in users}
        base = {"base_url": google.base_url, "tokens": tokens, "items": args.items,
                "prefix": schema, "schema": schema, "store": "postgres", "paced": True,
                "sqlite": str(workdir / "state.sqlite3")}  # fmt: skip
        database = Database(POSTGRES, schema=schema, max_size=2)
        try:
            started = time.perf_counter()
            initial = run_round(base | {"paced": False}, shares, workdir, google)
            print(f"initial sync (setup, unpaced): {initial['writes']} events in "
                  f"{time.perf_counter() - started:.0f}s, {initial['problems']} problem(s), "
                  f"{initial['quota_rejections']} quota refusal(s)", file=sys.stderr)  # fmt: skip
            # the first run after the initial sync lists that sync's own writes back (Google's
            # incremental listing holds every change since the token, calsync's included):
            # 200 events a user to read and find converged. Only the run after it is quiet.
            run_round(base, shares, workdir, google)
            with SqliteStateStore(base["sqlite"]) as sqlite_store:
                copy_state(database, sqlite_store, [f"bench.u{n}" for n in users])
            # the first SQLite round re-records the copied rows; the rounds after it are quiet
            run_round(base | {"store": "sqlite"}, [users], workdir, google)
            rounds: dict[str, list[dict[str, Any]]] = {"postgres": [], "sqlite": []}
            for _ in range(args.repeat):  # interleaved, so both see the same machine
                rounds["postgres"].append(run_round(base, shares, workdir, google))
                rounds["sqlite"].append(
                    run_round(base | {"store": "sqlite"}, [users], workdir, google)
                )
            postgres, sqlite = (least_disturbed(rounds[store]) for store in ("postgres", "sqlite"))
        finally:
            database.drop_schema()
            database.close()
            client = redis.Redis.from_url(REDIS)
            keys = list(client.scan_iter(f"{schema}*"))
            if keys:
                client.delete(*keys)
    table = {"postgres": postgres, "sqlite": sqlite}
    if args.json:
        print(json.dumps({"users": args.users, "items": args.items,
                          "cpu_count": os.cpu_count(), **table}, indent=2))  # fmt: skip
        return
    print(f"quiet round, {args.users} users x {args.items} items, {os.cpu_count()} core(s)")
    print(f"{'':28}{'PostgreSQL':>14}{'SQLite':>14}")
    for key in ("processes", "rounds", "wall_seconds", "sync_seconds", "cpu_ms_per_user",
                "cpu_ms_per_user_range",
                "users_per_core_second", "cores_busy", "emulator_cpu_ms_per_user", "machine_busy",
                "queries_per_user", "http_requests_per_user", "quota_rejections", "writes",
                "problems"):  # fmt: skip
        print(f"{key:28}{postgres[key]!s:>14}{sqlite[key]!s:>14}")


if __name__ == "__main__":
    main()

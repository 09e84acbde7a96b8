"""The hosted edition with real processes: Celery workers on Redis, state and encrypted tokens in
PostgreSQL, one Google quota bucket per user in Redis, against the bundled Google emulator.

    make demo-server                   # or: python examples/server.py [options] [--json]

Needs PostgreSQL (127.0.0.1:5432, user postgres, database ``test``) and Redis
(127.0.0.1:6379) running; ``--postgres`` and ``--redis`` point elsewhere. Everything the demo
creates lives in its own PostgreSQL schema and under its own Redis prefix, dropped at the end.

It seeds ``--studios`` studios of ``--users`` staff each (each studio its own database, each
user their own Google account with tokens encrypted in PostgreSQL), starts two ``celery
worker`` processes, and plays the part of celery beat: each round it calls ``sync_due``, which
queues every due user once, and waits until the workers synced them all. Round 1 is the
initial sync; the middle rounds follow changes staff made in every studio and events users
added in Google; in round ``--kill-round`` one worker is killed with SIGKILL in the middle of a
sync, its task is delivered again and the other worker finishes it (a replacement worker is
started for the next round, as a supervisor would); the last round finds nothing to do.

The report shows per round: users synced (each exactly once), duplicates in Google (must be
0), quota refusals (must be 0), HTTP requests and API calls, and the killed worker's users.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg
import redis
from server_host.cluster import WorkerProcess, seed_studios, wait_for, worker_environment
from server_host.studios import (
    SYNC_BACK_STAFF,
    add_google_event,
    email_of,
    make_changes,
    profile_of,
    staff_of,
)
from server_host.worker import worker_setup
from studio.db import Studio

import calsync.celery as calsync_celery
from calsync.crypto import KEYS_ENV, TokenCipher, generate_key
from calsync.errors import StateError
from calsync.server.database import Database
from calsync.server.tokens import PostgresTokenStore
from calsync.state.postgres import PostgresStateStore
from calsync.testing import GoogleEmulator

INTERVAL = 1.0  # seconds between two syncs of a user: every user is due again each round


@dataclass
class Killed:
    worker: str
    in_flight: list[str]  # the users it was syncing when it died
    finished_by: dict[str, str]  # user -> the worker that finished it


@dataclass
class RoundSummary:
    round: int
    name: str
    queued: int
    synced: int
    synced_by_worker: dict[str, int]
    synced_twice: list[str]  # users synced more than once this round (must be empty)
    not_synced: list[str]  # users queued but never synced (must be empty)
    duplicates_in_google: int
    quota_refusals: int
    http_requests: int
    api_calls: int
    wall_seconds: float
    killed: Killed | None = None
    problems: list[str] = field(default_factory=list)


class Demo:
    """The running server: emulator, stores, workers, and the studios' own screens."""

    def __init__(self, stack: ExitStack, args: argparse.Namespace) -> None:
        self.args = args
        self.prefix = f"calsync_demo_{uuid.uuid4().hex[:8]}"
        self.workdir = Path(stack.enter_context(TemporaryDirectory(prefix="calsync-server-")))
        self.google = stack.enter_context(GoogleEmulator(quota_per_window=600))
        os.environ.setdefault(KEYS_ENV, generate_key())  # a demo key; a server has its own
        self.database = Database(args.postgres, schema=self.prefix, max_size=4)
        stack.callback(self._drop_everything)
        self.store = PostgresStateStore(self.database, migrate=True)
        tokens = PostgresTokenStore(self.database, TokenCipher.from_env())
        tokens.migrate()
        today = datetime.now(UTC).date()
        studios = seed_studios(self.workdir, self.google, tokens, args.studios, args.users, today)
        self.screens = [stack.enter_context(Studio(path)) for path in studios.values()]
        # the studios draw their users' ids: who each profile is, for the report
        self.staff = {
            profile_of(screen, number, staff): f"studio {number}'s staff {staff}"
            for number, screen in enumerate(self.screens, start=1)
            for staff in staff_of(screen)
        }
        settings = {
            "studios": studios, "base_url": self.google.base_url,
            "state": {"postgres": args.postgres, "schema": self.prefix},
            "redis": args.redis, "prefix": self.prefix, "interval": INTERVAL,
            "lease_ttl": 3, "calls_per_minute": 600,
        }  # fmt: skip
        settings_path = self.workdir / "settings.json"
        settings_path.write_text(json.dumps(settings))
        self.env = worker_environment(
            settings_path, broker=args.redis, queue=self.prefix, prefix=self.prefix,
            visibility_timeout=5,
        )  # fmt: skip
        self._enqueue_from_here()
        self.workers: dict[str, WorkerProcess] = {}
        self.dead: dict[str, WorkerProcess] = {}
        stack.callback(self._stop_workers)
        for name in ("worker-1", "worker-2"):
            self.start_worker(name)
        for worker in self.workers.values():
            worker.wait_ready()
        self.today = today

    def _enqueue_from_here(self) -> None:
        """This process plays celery beat: it runs ``sync_due`` with the workers' setup."""
        os.environ.update(self.env)
        calsync_celery.app.conf.update(
            broker_url=self.args.redis, task_default_queue=self.prefix,
            broker_transport_options=json.loads(self.env["CALSYNC_BROKER_TRANSPORT_OPTIONS"]),
        )  # fmt: skip
        calsync_celery.setup_factory = worker_setup

    def start_worker(self, name: str) -> WorkerProcess:
        worker = WorkerProcess(name, self.env, self.workdir / f"{name}.log")
        self.workers[name] = worker
        return worker

    def _stop_workers(self) -> None:
        for worker in self.workers.values():
            worker.process.terminate()
        for worker in self.workers.values():
            worker.stop()

    def _drop_everything(self) -> None:
        self.database.drop_schema()
        self.database.close()
        client = redis.Redis.from_url(self.args.redis)
        keys = list(client.scan_iter(f"{self.prefix}*"))
        if keys:
            client.delete(*keys)

    # -- one round -------------------------------------------------------------------------

    def run_round(self, number: int, name: str, kill: bool) -> RoundSummary:
        time.sleep(INTERVAL * 1.3)  # every user is due again
        self.google.reset_stats()
        marks = {n: len(w.synced()) for n, w in (self.workers | self.dead).items()}
        before = {p: self.store.get_last_run(p) for p in self.store.profile_ids()}
        started = time.perf_counter()
        if kill:
            self.google.inject_fault(latency=0.05, count=None)  # syncs slow enough to die in
        queued = calsync_celery.sync_due()
        killed = self._kill_one(queued) if kill else None

        def all_synced() -> bool:
            return all(self.store.get_last_run(p) != before.get(p) for p in queued)

        wait_for(all_synced, 600, f"round {number} to finish")
        wall = time.perf_counter() - started
        stats = self.google.stats()
        everyone = self.workers | self.dead
        synced = {n: w.synced()[marks.get(n, 0) :] for n, w in everyone.items()}
        counts = Counter(p for users in synced.values() for p in users)
        if killed is not None:
            killed.finished_by = {
                p: n for p in killed.in_flight for n, users in synced.items()
                if p in users and n != killed.worker
            }  # fmt: skip
        return RoundSummary(
            round=number, name=name, queued=len(queued), synced=sum(counts.values()),
            synced_by_worker={n: len(users) for n, users in synced.items()},
            synced_twice=sorted(p for p, n in counts.items() if n > 1 and not _killed(killed, p)),
            not_synced=sorted(set(queued) - set(counts)),
            duplicates_in_google=self.duplicates_in_google(),
            quota_refusals=stats["quota_rejections"], http_requests=stats["http_requests"],
            api_calls=stats["api_calls"], wall_seconds=round(wall, 2), killed=killed,
        )  # fmt: skip

    def _kill_one(self, queued: list[str]) -> Killed:
        """SIGKILL the worker that holds a lease first (it is mid-sync), then bring up a
        replacement, as a process supervisor would."""

        def mid_sync() -> tuple[str, list[str]] | None:
            for name, worker in self.workers.items():
                held = [p for p in queued if _holds(self.store, p, worker.pid)]
                if held:
                    return name, held
            return None

        name, in_flight = wait_for(mid_sync, 60, "a worker to be mid-sync")
        self.workers[name].kill()
        self.google.clear_faults()
        self.dead[name] = self.workers.pop(name)
        self.start_worker(f"{name}-replacement").wait_ready()
        return Killed(name, in_flight, {})

    def duplicates_in_google(self) -> int:
        """Items of one host item present twice in a user's calendar or contacts."""
        duplicates = 0
        for number in range(1, self.args.studios + 1):
            for staff in range(1, self.args.users + 1):
                account = self.google.account(email_of(number, staff))
                markers = Counter(_marker(e) for c in account.calendars.values()
                                  for e in c.live_events())  # fmt: skip
                markers.update(_contact_marker(c) for c in account.contacts.values())
                duplicates += sum(n - 1 for m, n in markers.items() if m is not None and n > 1)
        return duplicates

    def change_both_sides(self, round_number: int) -> None:
        for number, studio in enumerate(self.screens, start=1):
            make_changes(studio, self.today, round_number)
            if self.args.users >= SYNC_BACK_STAFF:
                add_google_event(self.google, email_of(number, SYNC_BACK_STAFF), self.today)


def _holds(store: PostgresStateStore, profile_id: str, pid: int) -> bool:
    lease = store.get_lease(profile_id)
    return lease is not None and f":{pid}:" in lease.holder


def _killed(killed: Killed | None, profile_id: str) -> bool:
    """A user the killed worker was syncing is synced again by the other: that is expected."""
    return killed is not None and profile_id in killed.in_flight


def _marker(event: dict[str, Any]) -> tuple[str, str] | None:
    private = event.get("extendedProperties", {}).get("private", {})
    if "calsyncItem" not in private:
        return None
    return private.get("calsyncProfile", ""), private["calsyncItem"]


def _contact_marker(contact: dict[str, Any]) -> tuple[str, str] | None:
    data = {d.get("key"): d.get("value") for d in contact.get("clientData", [])}
    if "calsyncItem" not in data:
        return None
    return str(data.get("calsyncProfile", "")), str(data["calsyncItem"])


def print_round(summary: RoundSummary, staff: dict[str, str]) -> None:
    by_worker = ", ".join(f"{n}: {k}" for n, k in summary.synced_by_worker.items())
    print(f"=== round {summary.round}: {summary.name} ===")
    print(
        f"  users:      {summary.queued} queued by sync_due, {summary.synced} syncs ({by_worker})"
    )
    twice = ", ".join(summary.synced_twice) or "none"
    print(f"  exactly once: synced twice: {twice}; never synced: {len(summary.not_synced)}")
    print(f"  Google:     {summary.duplicates_in_google} duplicates, "
          f"{summary.quota_refusals} quota refusals")  # fmt: skip
    print(f"  emulator:   {summary.http_requests} HTTP requests, {summary.api_calls} API calls")
    print(f"  time:       {summary.wall_seconds:.2f}s")
    if summary.killed is not None:
        k = summary.killed
        finished = ", ".join(f"{p} by {w}" for p, w in k.finished_by.items()) or "none"
        syncing = ", ".join(f"{p} ({staff.get(p, '?')})" for p in k.in_flight)
        print(f"  killed:     {k.worker} (SIGKILL) while syncing {syncing}; "
              f"finished: {finished}")  # fmt: skip


def serve(args: argparse.Namespace) -> list[RoundSummary]:
    summaries = []
    with ExitStack() as stack:
        demo = Demo(stack, args)
        for number in range(1, args.rounds + 1):
            if number == 1:
                name = "initial sync"
            elif number == args.rounds:
                name = "nothing changed"
            else:
                name = "after changes in the studios and in Google"
                demo.change_both_sides(number)
            summary = demo.run_round(number, name, kill=number == args.kill_round)
            summaries.append(summary)
            if not args.json:
                print_round(summary, demo.staff)
    return summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studios", type=int, default=20, help="studios served (20)")
    parser.add_argument("--users", type=int, default=5, help="staff users per studio (5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, at least 3 (4)")
    parser.add_argument("--kill-round", type=int, default=2, help="the round a worker dies in")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", action="store_true", help="print the rounds as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 3 or not 1 <= args.kill_round <= args.rounds:
        parser.error("needs at least 3 rounds and a kill round among them")
    try:
        summaries = serve(args)
    except (StateError, psycopg.OperationalError, redis.ConnectionError) as exc:
        print(f"server demo: a service is not reachable: {exc}", file=sys.stderr)
        return 2
    if args.json:
        setup = {k: getattr(args, k) for k in ("studios", "users", "kill_round")}
        print(json.dumps({**setup, "rounds": [asdict(s) for s in summaries]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

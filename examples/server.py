"""A server-style host: many studios and users, synced by racing runners on one state store.

The hosted edition runs one server for many studios. Each studio has its own database (the
``studio`` example's ``Studio``); calsync's state for every studio lives in one shared
``SqliteStateStore`` file; Google is the bundled emulator, reached over HTTP by the real
google-api-python-client with each user's stored tokens.

Several runners (server nodes) each run a ``SyncProcessor`` per studio, all at once, in
threads. They race for the same users on purpose: a user is synced under their lease in the
shared store, and a user another runner synced within half the interval is skipped, so every
user is synced exactly once per round, by whichever runner gets there first.

    python examples/server.py [--studios 4] [--users 5] [--workers 4] [--rounds 4]
                              [--runners 2] [--json]

Round 1 is the initial sync, the middle rounds follow a few changes staff made in every
studio, and the last round finds nothing to do and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter, process_time

from server_host.studios import (
    SYNC_BACK_STAFF,
    add_google_event,
    email_of,
    make_changes,
    seed_studio,
)
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Studio

from calsync import SqliteStateStore, SyncEngine, SyncReport
from calsync.config import GoogleSettings, google_connector
from calsync.google import SqliteTokenStore, StoredToken
from calsync.processor import Connect, ProfileRun, SyncProcessor
from calsync.testing import GoogleEmulator

INTERVAL = 300.0  # seconds between two syncs of a user, as a server would run

# -- the runners -------------------------------------------------------------------------


class JumpingClock:
    """Real time plus an offset that :meth:`jump` moves on, so that every user is due again
    in the next round without waiting five minutes. A server uses the real clock."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Runner:
    """One server node: its own connections to the shared state store and to each studio's
    database, and a processor per studio."""

    name: str
    processors: list[SyncProcessor]

    def run_round(self) -> list[ProfileRun]:
        return [run for processor in self.processors for run in processor.run_once().values()]


def open_runner(
    stack: ExitStack, node: str, studios: dict[str, Path], state: Path, connect: Connect,
    *, workers: int, clock: Callable[[], datetime],
) -> Runner:  # fmt: skip
    store = stack.enter_context(SqliteStateStore(state))  # shared by this node's threads
    processors = []
    for name, path in studios.items():
        studio = stack.enter_context(Studio(path))
        engine = SyncEngine(store, StudioSchedule(studio), StudioClients(studio))
        # A lease holder names one processor: two processors under one name would both be
        # granted a user's lease. (The default, host:pid:random, is unique per processor.)
        processor = SyncProcessor(
            engine, StudioProfiles(studio, name), connect,
            interval=INTERVAL, workers=workers, holder=f"{node}:{name}", clock=clock,
        )  # fmt: skip
        processors.append(processor)
    return Runner(node, processors)


# -- one round ---------------------------------------------------------------------------


@dataclass
class RoundSummary:
    round: int
    name: str
    eligible: int
    synced: int
    synced_by_runner: dict[str, int]
    skipped: dict[str, int]  # by reason
    google_writes: int
    studio_writes: int
    errors: int
    http_requests: int
    api_calls: int
    wall_seconds: float
    cpu_seconds: float  # the whole process: runners and the emulator's server threads
    eligible_profiles: list[str]
    synced_profiles: list[str]  # one entry per sync: a user synced twice would show twice
    problems: list[str]


def writes_to(side: str, reports: list[SyncReport]) -> int:
    """Writes to ``"remote"`` (Google) or ``"host"`` (the studio)."""
    return sum(n for r in reports for key, n in r.counts.items() if key.startswith(f"{side}."))


def problems_of(report: SyncReport) -> list[str]:
    found = [report.fatal] if report.fatal else []
    found += [f"{error.item}: {error.message}" for error in report.errors]
    return [f"{report.profile_id}: {text}" for text in found]


def run_round(
    number: int, name: str, runners: list[Runner], google: GoogleEmulator
) -> RoundSummary:
    """Every runner runs all of its processors at once; count what happened."""
    eligible = sorted(p.id for processor in runners[0].processors for p in processor.eligible())
    google.reset_stats()
    wall, cpu = perf_counter(), process_time()
    with ThreadPoolExecutor(len(runners), thread_name_prefix="runner") as pool:
        results = dict(
            zip([r.name for r in runners], pool.map(Runner.run_round, runners), strict=True)
        )
    wall, cpu = perf_counter() - wall, process_time() - cpu
    stats = google.stats()
    runs = [run for node_runs in results.values() for run in node_runs]
    reports = [run.report for run in runs if run.report is not None]
    problems = [problem for report in reports for problem in problems_of(report)]
    return RoundSummary(
        round=number,
        name=name,
        eligible=len(eligible),
        synced=len(reports),
        synced_by_runner={
            node: sum(run.report is not None for run in node_runs)
            for node, node_runs in results.items()
        },
        skipped=dict(sorted(Counter(run.skipped for run in runs if run.skipped).items())),
        google_writes=writes_to("remote", reports),
        studio_writes=writes_to("host", reports),
        errors=len(problems),
        http_requests=stats["http_requests"],
        api_calls=stats["api_calls"],
        wall_seconds=round(wall, 3),
        cpu_seconds=round(cpu, 3),
        eligible_profiles=eligible,
        synced_profiles=sorted(report.profile_id for report in reports),
        problems=problems,
    )


def print_round(summary: RoundSummary) -> None:
    by_runner = ", ".join(f"{node}: {n}" for node, n in summary.synced_by_runner.items())
    print(f"=== round {summary.round}: {summary.name} ===")
    print(f"  users:    {summary.synced} of {summary.eligible} eligible synced ({by_runner})")
    for reason, count in summary.skipped.items():
        print(f"  skipped:  {count} ({reason})")
    print(f"  writes:   {summary.google_writes} to Google, {summary.studio_writes} to studios")
    print(f"  errors:   {summary.errors}")
    print(f"  emulator: {summary.http_requests} HTTP requests, {summary.api_calls} API calls")
    print(f"  time:     {summary.wall_seconds:.2f}s wall, {summary.cpu_seconds:.2f}s CPU")
    for problem in summary.problems:
        print(f"  problem:  {problem}")


# -- the server --------------------------------------------------------------------------


def create_studios(
    workdir: Path, args: argparse.Namespace, google: GoogleEmulator
) -> dict[str, Path]:
    """One database per studio, and every user's Google tokens saved under their profile id,
    as after the OAuth consent."""
    tokens = SqliteTokenStore(workdir / "tokens.sqlite3")
    studios: dict[str, Path] = {}
    for number in range(1, args.studios + 1):
        name, path = f"studio{number}", workdir / f"studio{number}.sqlite3"
        with Studio(path) as studio:
            profiles = StudioProfiles(studio, name)
            for user, email in seed_studio(studio, number, args.users, args.today).items():
                access, refresh = google.issue_tokens(email)
                tokens.save(profiles.profile_id(user), StoredToken(refresh, access))
        studios[name] = path
    return studios


def serve(workdir: Path, args: argparse.Namespace, google: GoogleEmulator) -> list[RoundSummary]:
    """Seed the studios, start the runners, and run the rounds."""
    studios = create_studios(workdir, args, google)
    settings = GoogleSettings(
        client_id="server-example", client_secret="emulated", tokens=workdir / "tokens.sqlite3",
        base_url=google.base_url, calls_per_minute=6000,
    )  # fmt: skip
    connect = google_connector(settings)  # each user's stored tokens, paced per user
    clock = JumpingClock()
    summaries: list[RoundSummary] = []
    with ExitStack() as stack:
        runners = [
            open_runner(stack, f"node-{k}", studios, workdir / "calsync.sqlite3", connect,
                        workers=args.workers, clock=clock)
            for k in range(1, args.runners + 1)
        ]  # fmt: skip
        screens = [stack.enter_context(Studio(path)) for path in studios.values()]  # staff's
        for number in range(1, args.rounds + 1):
            if number == 1:
                name = "initial sync"
            elif number == args.rounds:
                name = "nothing changed"
            else:
                name = "after changes in the studios and in Google"
                for studio_number, studio in enumerate(screens, start=1):
                    make_changes(studio, args.today, number)
                    if args.users >= SYNC_BACK_STAFF:
                        email = email_of(studio_number, SYNC_BACK_STAFF)
                        add_google_event(google, email, args.today)
            summaries.append(run_round(number, name, runners, google))
            if not args.json:
                print_round(summaries[-1])
            clock.jump(INTERVAL)  # every user is due again in the next round
    return summaries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studios", type=int, default=4, help="studios served (default 4)")
    parser.add_argument("--users", type=int, default=5, help="staff users per studio (5)")
    parser.add_argument("--workers", type=int, default=4, help="users at once per processor (4)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, at least 2 (4)")
    parser.add_argument("--runners", type=int, default=2, help="racing server nodes (2)")
    parser.add_argument("--json", action="store_true", help="print the rounds as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 2 or min(args.studios, args.users, args.workers, args.runners) < 1:
        parser.error("needs at least 2 rounds and 1 studio, user, worker and runner")
    args.today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory(prefix="calsync-server-") as tmp, GoogleEmulator() as google:
        summaries = serve(Path(tmp), args, google)
    if args.json:
        setup = {k: getattr(args, k) for k in ("studios", "users", "workers", "runners")}
        print(json.dumps({**setup, "rounds": [asdict(s) for s in summaries]}, indent=2))


if __name__ == "__main__":
    main()

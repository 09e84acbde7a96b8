"""What a sync costs in Google requests, through the engine and the Google backends, against
the emulator with the real google-api-python-client.

For each size N (host schedule items; the client sync group holds N/10 clients) it prints:

* HTTP requests and API calls (a batch is one HTTP request and one API call per part) of the
  initial sync; of the run after it ("echo": its sync tokens predate the initial writes, so
  Google lists those writes back once, and calsync recognises them by etag and writes
  nothing); of an incremental run with 10 host changes; and of a run with no change. Targets:
  the initial writes take about N / batch size HTTP requests, and a no-change run is one
  listing call per calendar plus one for contacts, with zero writes;
* client CPU: the CPU time of the thread that runs the sync (engine, Google backends and
  google-api-python-client; the in-process emulator runs on other threads and is not counted)
  per item (schedule items + clients) of the unpaced initial sync (target: at most 0.5 ms), and
  per user for a quiet round (no change; target: at most 8 ms), with a host that offers a change
  feed and with one that only lists in full (the engine's own per-item cost);
* the paced initial sync of ``--paced-items`` with the per-user quota scaled in time (600 calls
  per ``--window`` seconds instead of per 60 s, enforced by the emulator, paced by calsync):
  the share of the quota used over the whole run and after its first window (target: 93% or
  more), and the quota refusals (target: none). The window must be long enough for the
  emulator to serve more than the quota's rate, or the run measures the emulator.

Run: ``python benchmarks/google_sync_cost.py [--items 1000,10000] [--window 12]
[--paced-items 3000] [--no-paced]``. Measured here, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from google.oauth2.credentials import Credentials

from calsync import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    Email,
    ItemKind,
    MemoryStateStore,
    Phone,
    ScheduleItem,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
    Timed,
)
from calsync.google.account import GoogleAccount, connect
from calsync.google.pacing import QuotaPacer, unpaced
from calsync.google.retry import no_wait_retrying
from calsync.testing import MemoryContactSource, MemoryScheduleSource
from calsync.testing.emulator import GoogleEmulator

NOW = datetime(2031, 3, 2, 8, tzinfo=UTC)
USER, GROUP, QUOTA = "u1", "Clients 2031", 600


def schedule_item(number: int) -> ScheduleItem:
    day = NOW + timedelta(days=1 + number % 700, hours=number % 9)
    if number % 4 == 3:
        when = AllDay.single(day.date())
        return ScheduleItem(f"a{number}", ItemKind.APPOINTMENT, when=when, title=f"Task {number}")
    client = ClientInfo(f"c{number}", f"Client {number}", phone=f"+44 20 7946 {number:04d}")
    when = Timed(day, day + timedelta(hours=2), "Europe/London")
    return ScheduleItem(f"s{number}", ItemKind.SESSION, when=when, client=client)


def client(number: int) -> Contact:
    fields = ContactFields(
        given_name=f"Client{number}",
        family_name="Bench",
        phones=(Phone(f"+44 20 7946 {number:04d}"),),
        emails=(Email(f"client{number}@example.com"),),
    )
    return Contact(f"c{number}", fields)


@attrs.define
class Studio:
    google: GoogleEmulator
    account: GoogleAccount
    engine: SyncEngine
    schedule: MemoryScheduleSource
    clients: MemoryContactSource
    profile: SyncProfile
    cpu: float = 0.0  # CPU seconds of the sync thread in the last run

    def run(self) -> tuple[SyncReport, dict[str, Any], float]:
        self.google.reset_stats()
        started, cpu = time.perf_counter(), time.thread_time()
        report = self.engine.sync(self.profile, self.account.calendar, self.account.contacts)
        elapsed = time.perf_counter() - started
        self.cpu = time.thread_time() - cpu
        if not report.ok:
            raise SystemExit(f"the run failed:\n{report.summary()}")
        if report.initial_sync_completed:
            options = attrs.evolve(self.profile.options, initial_sync_pending=False)
            self.profile = attrs.evolve(self.profile, options=options)
        return report, self.google.stats(), elapsed


def studio(
    google: GoogleEmulator, items: int, pacer: QuotaPacer, *, change_feed: bool = False
) -> Studio:
    token = f"bench{items}-{time.monotonic_ns()}"
    account = connect(
        Credentials(token=token), base_url=google.base_url, pacer=pacer, retrying=no_wait_retrying()
    )
    calendar = account.calendar.create_calendar("Studio", "Europe/London")
    schedule = MemoryScheduleSource(now=lambda: NOW, change_feed=change_feed)
    clients = MemoryContactSource(now=lambda: NOW, change_feed=change_feed)
    for number in range(items):
        schedule.add(USER, schedule_item(number))
    for number in range(items // 10):
        clients.add(USER, client(number), groups=[GROUP])
    options = SyncOptions(contacts=True, client_group=GROUP)
    profile = SyncProfile("bench.u1", USER, calendar.id, options)
    engine = SyncEngine(MemoryStateStore(), schedule, clients, clock=lambda: NOW)
    return Studio(google, account, engine, schedule, clients, profile)


def ten_changes(s: Studio, items: int) -> None:
    """6 edits, 2 new items, 2 deletions in the host."""
    for number in range(6):
        item = schedule_item(number * 7)
        s.schedule.edit(USER, item.id, title=f"edited {number}", location="Town hall")
    for number in range(items, items + 2):
        s.schedule.add(USER, schedule_item(number))
    for number in (1, 2):
        s.schedule.remove(USER, schedule_item(number * 11).id)


def row(name: str, run: tuple[SyncReport, dict[str, Any], float], cpu: float) -> str:
    report, stats, elapsed = run
    methods = stats["methods"]
    listing = sum(n for m, n in methods.items() if m.endswith((".list", "connections.list")))
    return (
        f"  {name:<16} {stats['http_requests']:>7} {stats['api_calls']:>7} "
        f"{stats['batch_requests']:>7} {listing:>7} {report.writes:>7} {elapsed:>8.1f}s "
        f"{cpu * 1000:>9.1f}ms"
    )


def measure_costs(google: GoogleEmulator, items: int) -> None:
    s = studio(google, items, unpaced())
    print(f"\nN = {items} schedule items, {items // 10} clients (no quota, unpaced)")
    header = ("run", "HTTP", "calls", "batches", "lists", "writes", "time", "CPU")
    print("  {:<16} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>11}".format(*header))
    initial = s.run()
    initial_cpu = s.cpu
    print(row("initial", initial, s.cpu))
    print(row("echo of initial", s.run(), s.cpu))
    ten_changes(s, items)
    print(row("10 changes", s.run(), s.cpu))
    print(row("no change", s.run(), s.cpu))
    size = min(s.account.calendar.batch_size, s.account.calendar.caller.pacer.burst)
    batches = initial[1]["batch_requests"]
    print(f"  initial event writes: {batches} batch requests (N / batch size = {items / size:g})")
    per_item = initial_cpu / (items + items // 10) * 1000
    print(f"  client CPU of the initial sync: {per_item:.3f} ms an item (target <= 0.5)")
    print(f"  client CPU of a quiet round: {quiet_cpu(s) * 1000:.1f} ms (host lists in full)")
    google.reset()
    fed = studio(google, items, unpaced(), change_feed=True)
    fed.run()
    fed.run()
    print(
        f"  client CPU of a quiet round: {quiet_cpu(fed) * 1000:.1f} ms (host change feed;"
        " target <= 8)"
    )


def quiet_cpu(s: Studio, rounds: int = 5) -> float:
    """The least CPU of ``rounds`` runs with nothing changed."""
    best = float("inf")
    for _ in range(rounds):
        report, _, _ = s.run()
        if report.writes:
            raise SystemExit(f"a quiet run wrote {report.writes} times")
        best = min(best, s.cpu)
    return best


class RecordingPacer(QuotaPacer):
    """The pacer, noting when it let calls through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.let_through: list[tuple[float, int]] = []

    @contextmanager
    def calls(self, calls: int = 1) -> Iterator[float]:
        with super().calls(calls) as waited:
            self.let_through.append((time.monotonic(), calls))
            yield waited


def steady_share(let_through: list[tuple[float, int]], window: float) -> float:
    """Calls a second between the first call of the second window and the first of the last
    one: a long run's rate, without the first window's burst or the last one's remainder."""
    starts = [
        i for i, (at, _) in enumerate(let_through) if i and at - let_through[i - 1][0] > window / 4
    ]
    if len(starts) < 2:
        return float("nan")
    first, last = starts[0], starts[-1]
    calls = sum(n for _, n in let_through[first:last])
    return calls / (let_through[last][0] - let_through[first][0])


def measure_paced(google: GoogleEmulator, items: int, window: float) -> None:
    google.set_quota(QUOTA, window)
    pacer = RecordingPacer(QUOTA, window)
    s = studio(google, items, pacer)
    _, stats, elapsed = s.run()
    rate = QUOTA / window
    calls = stats["api_calls"]
    steady = steady_share(pacer.let_through, window) / rate
    print(
        f"\npaced initial sync of {items} items + {items // 10} clients, quota {QUOTA} calls / "
        f"{window:g}s: {elapsed:.1f}s for {calls} calls; {calls / elapsed / rate:.1%} of the "
        f"quota over the run, {steady:.1%} from the second window on (target >= 93%); "
        f"quota refusals (403/429): {stats['quota_rejections']}; batches of {pacer.burst}; "
        f"pacing waits {pacer.waited:.1f}s"
    )
    google.set_quota(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--window", type=float, default=12.0, help="seconds per 600 calls")
    parser.add_argument("--paced-items", type=int, default=3000, help="items of the paced run")
    parser.add_argument("--no-paced", action="store_true", help="skip the paced run")
    args = parser.parse_args()
    sizes = [int(text) for text in args.items.split(",") if text.strip()]
    with GoogleEmulator() as google:
        for items in sizes:
            google.reset()
            measure_costs(google, items)
        if not args.no_paced:
            google.reset()
            measure_paced(google, args.paced_items, args.window)


if __name__ == "__main__":
    main()

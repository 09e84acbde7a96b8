"""What a sync costs in Google requests, through the engine and the Google backends, against
the emulator with the real google-api-python-client.

For each size N (host schedule items; the client sync group holds N/10 clients) it prints:

* HTTP requests and API calls (a batch is one HTTP request and one API call per part) of the
  initial sync; of the run after it ("echo": its sync tokens predate the initial writes, so
  Google lists those writes back once, and calsync recognises them by etag and writes
  nothing); of an incremental run with 10 host changes; and of a run with no change. Targets:
  the initial writes take about N / batch size HTTP requests, and a no-change run is one
  listing call per calendar plus one for contacts, with zero writes;
* the wall time of the initial sync with the per-user quota scaled down (600 calls per
  ``--window`` seconds instead of per 60 s, enforced by the emulator, paced by calsync),
  against the quota floor: the calls made divided by the quota's rate.

Run: ``python benchmarks/google_sync_cost.py [--items 1000,10000] [--window 2] [--no-paced]``.
Measured here, never asserted.
"""

from __future__ import annotations

import argparse
import time
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

    def run(self) -> tuple[SyncReport, dict[str, Any], float]:
        self.google.reset_stats()
        started = time.perf_counter()
        report = self.engine.sync(self.profile, self.account.calendar, self.account.contacts)
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise SystemExit(f"the run failed:\n{report.summary()}")
        if report.initial_sync_completed:
            options = attrs.evolve(self.profile.options, initial_sync_pending=False)
            self.profile = attrs.evolve(self.profile, options=options)
        return report, self.google.stats(), elapsed


def studio(google: GoogleEmulator, items: int, pacer: QuotaPacer) -> Studio:
    token = f"bench{items}-{time.monotonic_ns()}"
    account = connect(
        Credentials(token=token), base_url=google.base_url, pacer=pacer, retrying=no_wait_retrying()
    )
    calendar = account.calendar.create_calendar("Studio", "Europe/London")
    schedule = MemoryScheduleSource(now=lambda: NOW)
    clients = MemoryContactSource(now=lambda: NOW)
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


def row(name: str, report: SyncReport, stats: dict[str, Any], elapsed: float) -> str:
    methods = stats["methods"]
    listing = sum(n for m, n in methods.items() if m.endswith((".list", "connections.list")))
    return (
        f"  {name:<16} {stats['http_requests']:>7} {stats['api_calls']:>7} "
        f"{stats['batch_requests']:>7} {listing:>7} {report.writes:>7} {elapsed:>8.1f}s"
    )


def measure_costs(google: GoogleEmulator, items: int) -> None:
    s = studio(google, items, unpaced())
    print(f"\nN = {items} schedule items, {items // 10} clients (no quota, unpaced)")
    header = ("run", "HTTP", "calls", "batches", "lists", "writes", "time")
    print("  {:<16} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}".format(*header))
    initial = s.run()
    print(row("initial", *initial))
    print(row("echo of initial", *s.run()))
    ten_changes(s, items)
    print(row("10 changes", *s.run()))
    print(row("no change", *s.run()))
    batch = s.account.calendar.batch_size
    batches = initial[1]["batch_requests"]
    print(f"  initial event writes: {batches} batch requests (N / batch size = {items / batch:g})")


def measure_paced(google: GoogleEmulator, items: int, window: float) -> None:
    google.set_quota(QUOTA, window)
    pacer = QuotaPacer(QUOTA, window)
    s = studio(google, items, pacer)
    _, stats, elapsed = s.run()
    rate = QUOTA / window
    floor = stats["api_calls"] / rate
    print(
        f"  paced initial sync, quota {QUOTA} calls / {window:g}s: {elapsed:.1f}s for "
        f"{stats['api_calls']} calls; quota floor {floor:.1f}s ({elapsed / floor:.2f}x); "
        f"quota refusals: {stats['quota_rejections']}; pacing waits {pacer.waited:.1f}s"
    )
    google.set_quota(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--window", type=float, default=2.0, help="seconds per 600 calls")
    parser.add_argument("--no-paced", action="store_true", help="skip the paced runs")
    args = parser.parse_args()
    sizes = [int(text) for text in args.items.split(",") if text.strip()]
    with GoogleEmulator() as google:
        for items in sizes:
            google.reset()
            measure_costs(google, items)
            if not args.no_paced:
                google.reset()
                measure_paced(google, items, args.window)


if __name__ == "__main__":
    main()

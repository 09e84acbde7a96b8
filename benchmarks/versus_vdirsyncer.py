"""calsync's engine against vdirsyncer's ``sync()``: the same workloads, in memory on both sides.

calsync: a host schedule in :class:`calsync.testing.MemoryScheduleSource` (listing in full, or
with a change feed), synced by :class:`calsync.SyncEngine` into
:class:`calsync.testing.MemoryCalendarBackend` with a :class:`calsync.MemoryStateStore`.
vdirsyncer: the same events as iCalendar items in a ``MemoryStorage``, synced by
``vdirsyncer.sync.sync`` into an empty ``MemoryStorage`` with ``SqliteStatus(":memory:")``.
The "SQLite file" row keeps the state where a desktop host keeps it, in a file, on both sides:
calsync's :class:`calsync.SqliteStateStore` (its default) and vdirsyncer's ``SqliteStatus``,
each on a new file in a temporary directory.

Each workload (items, shape, side) runs in a fresh subprocess: building the items, then the
initial sync, the run after it (calsync's "echo": its remote cursor predates the initial writes,
so they are listed back once, as Google does), a quiet re-sync (nothing changed) and a sync of
100 changed items, each timed as process CPU time; the child's peak RSS comes from
``os.wait4``. The sides are interleaved and each workload runs three times; the table shows the
least of the three, and the ratios calsync ÷ vdirsyncer (below 1: calsync is faster or
smaller). vdirsyncer has no change feed: the change-feed row compares with its only shape.

Run: ``python benchmarks/versus_vdirsyncer.py [--quick] [--rounds 3]`` (``--quick``: 10k
items only). vdirsyncer comes with the ``bench`` extra (``pip install -e '.[bench]'``); without
it the table shows calsync alone. Measured here, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2031, 3, 2, 8, tzinfo=UTC)
USER = "u1"
CHANGED = 100
PHASES = ("initial", "echo", "quiet", "changed")
NOT_INSTALLED = "vdirsyncer is not installed (pip install -e '.[bench]'): measuring calsync alone"


def when(number: int) -> tuple[datetime, datetime]:
    start = NOW + timedelta(days=1 + number % 700, hours=number % 9)
    return start, start + timedelta(hours=2)


# -- calsync ---------------------------------------------------------------------------------


def calsync_workload(items: int, feed: bool, store: str) -> dict[str, float]:
    import tempfile

    import attrs

    from calsync import (
        ClientInfo,
        ItemKind,
        MemoryStateStore,
        ScheduleItem,
        SqliteStateStore,
        SyncEngine,
        SyncOptions,
        SyncProfile,
        Timed,
    )
    from calsync.testing import MemoryCalendarBackend, MemoryScheduleSource

    def session(number: int) -> ScheduleItem:
        start, end = when(number)
        client = ClientInfo(f"c{number}", f"Client {number}", phone=f"+44 20 7946 {number:04d}")
        span = Timed(start, end, "Europe/London")
        return ScheduleItem(f"s{number}", ItemKind.SESSION, when=span, client=client)

    schedule = MemoryScheduleSource(now=lambda: NOW, change_feed=feed)
    for number in range(items):
        schedule.add(USER, session(number))
    google = MemoryCalendarBackend(now=lambda: NOW)
    profile = SyncProfile("bench.u1", USER, google.add_calendar(), SyncOptions())
    state = (
        SqliteStateStore(os.path.join(tempfile.mkdtemp(), "state.db"))
        if store == "sqlite"
        else MemoryStateStore()
    )
    engine = SyncEngine(state, schedule, None, clock=lambda: NOW)
    built = fixture_rss()

    def run(expected_writes: int) -> None:
        nonlocal profile
        report = engine.sync(profile, google, None)
        if not report.ok or report.writes != expected_writes:
            raise SystemExit(f"calsync: {report.writes} writes, expected {expected_writes}")
        if report.initial_sync_completed:
            options = attrs.evolve(profile.options, initial_sync_pending=False)
            profile = attrs.evolve(profile, options=options)

    def change() -> None:
        for number in range(0, items, items // CHANGED):
            schedule.edit(USER, f"s{number}", location="Town hall")

    return phases(lambda: run(items), lambda: run(0), change, lambda: run(CHANGED)) | built


# -- vdirsyncer ------------------------------------------------------------------------------


def vevent(number: int, location: str = "") -> str:
    start, end = when(number)
    stamp = "%Y%m%dT%H%M%S"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calsync//bench//EN",
        "BEGIN:VEVENT",
        f"UID:s{number}",
        f"DTSTAMP:{NOW.strftime(stamp)}Z",
        f"DTSTART;TZID=Europe/London:{start.strftime(stamp)}",
        f"DTEND;TZID=Europe/London:{end.strftime(stamp)}",
        f"SUMMARY:Session - Client {number}",
        f"DESCRIPTION:Client {number}\\nPhone: +44 20 7946 {number:04d}",
        f"LOCATION:{location}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines)


def vdirsyncer_workload(items: int, store: str) -> dict[str, float]:
    import tempfile

    from vdirsyncer.storage.memory import MemoryStorage
    from vdirsyncer.sync import sync
    from vdirsyncer.sync.status import SqliteStatus
    from vdirsyncer.vobject import Item

    loop = asyncio.new_event_loop()
    path = os.path.join(tempfile.mkdtemp(), "status.db") if store == "sqlite" else ":memory:"
    host, google, status = MemoryStorage(), MemoryStorage(), SqliteStatus(path)

    async def fill() -> None:
        for number in range(items):
            await host.upload(Item(vevent(number)))

    loop.run_until_complete(fill())
    built = fixture_rss()

    def run(expected: int) -> None:
        loop.run_until_complete(sync(host, google, status))
        if len(google.items) != expected:
            raise SystemExit(f"vdirsyncer: {len(google.items)} items, expected {expected}")

    async def edit() -> None:
        for number in range(0, items, items // CHANGED):
            href = f"s{number}"
            await host.update(href, Item(vevent(number, "Town hall")), host.items[href][0])

    def change() -> None:
        loop.run_until_complete(edit())

    return phases(lambda: run(items), lambda: run(items), change, lambda: run(items)) | built


# -- measuring -------------------------------------------------------------------------------


def fixture_rss() -> dict[str, float]:
    """The peak RSS (MB) so far: the interpreter, the imports and the workload's items in the
    in-memory storages, before any sync (the part of the peak the sync itself did not add)."""
    import resource

    return {"fixture_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def phases(
    initial: Callable[[], None],
    quiet: Callable[[], None],
    change: Callable[[], None],
    changed: Callable[[], None],
) -> dict[str, float]:
    """CPU seconds of the initial sync, the run after it (``echo``), a quiet re-sync and a
    sync of the changes."""
    spent: dict[str, float] = {}
    steps = (("initial", initial), ("echo", quiet), ("quiet", quiet), ("changed", changed))
    for name, step in steps:
        if name == "changed":
            change()
        started = time.process_time()
        step()
        spent[name] = time.process_time() - started
    return spent


Row = tuple[int, bool, str]  # items, change feed, state ("memory" or "sqlite": a file)


def in_child(side: str, row: Row) -> tuple[dict[str, float], float]:
    """Run one workload in a fresh interpreter: its CPU seconds per phase and peak RSS (MB)."""
    items, feed, store = row
    shape = "feed" if feed else "full"
    command = [sys.executable, __file__, "--child", side, str(items), shape, store]
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{side} at {items} items failed ({child.returncode})")
    return json.loads(output), usage.ru_maxrss / 1024  # (Linux: kilobytes)


def vdirsyncer_installed() -> bool:
    try:
        import vdirsyncer.sync  # noqa: F401
    except ImportError:
        return False
    return True


Result = tuple[dict[str, float], float]


def measure(rows: list[Row], rounds: int, versus: bool) -> dict[Any, Result]:
    best: dict[Any, Result] = {}
    theirs = sorted({(items, False, store) for items, _, store in rows}) if versus else []
    for round_number in range(1, rounds + 1):
        print(f"round {round_number} of {rounds} …", file=sys.stderr)
        for row in rows:  # interleaved: calsync, then vdirsyncer on the same workload
            keep(best, ("calsync", row), in_child("calsync", row))
            if row in theirs:
                keep(best, ("vdirsyncer", row), in_child("vdirsyncer", row))
        for row in theirs:  # vdirsyncer has no change feed: its only shape, if not done yet
            if row not in rows:
                keep(best, ("vdirsyncer", row), in_child("vdirsyncer", row))
    return best


def vdirsyncer_row(row: Row) -> tuple[str, Row]:
    """What a calsync row is compared with: vdirsyncer listing in full, with its state kept
    the same way."""
    items, _, store = row
    return ("vdirsyncer", (items, False, store))


def keep(best: dict[Any, Result], key: Any, result: Result) -> None:
    if key not in best:
        best[key] = result
        return
    cpu, rss = best[key]
    best[key] = ({p: min(cpu[p], result[0][p]) for p in cpu}, min(rss, result[1]))


def table(rows: list[Row], best: dict[Any, Result], versus: bool) -> None:
    print("\nCPU seconds (least of the rounds), peak RSS in MB; ratio = calsync ÷ vdirsyncer\n")
    heads = ["initial sync", "quiet re-sync", "100 changed", "peak RSS"]
    print("| items | shape | " + " | ".join(heads) + " |")
    print("|---|---|" + "---|" * len(heads))
    for row in rows:
        mine, mine_rss = best[("calsync", row)]
        theirs = best.get(vdirsyncer_row(row))
        cells = []
        for phase in ("initial", "quiet", "changed"):
            cell = f"{mine[phase]:.3f}"
            if theirs:
                cell += f" vs {theirs[0][phase]:.3f} = {ratio(mine[phase], theirs[0][phase])}"
            cells.append(cell)
        rss = f"{mine_rss:.0f}"
        if theirs:
            rss += f" vs {theirs[1]:.0f} = {ratio(mine_rss, theirs[1])}"
        print(f"| {row[0] // 1000}k | {shape_name(row)} | " + " | ".join([*cells, rss]) + " |")
    print("\nThe run right after the initial sync (calsync reads its own writes back once, as")
    print("from Google; vdirsyncer's second run is an ordinary quiet one):")
    for row in rows:
        mine = best[("calsync", row)][0]["echo"]
        theirs = best.get(vdirsyncer_row(row))
        versus_text = f" vs {theirs[0]['echo']:.3f}" if theirs else ""
        print(f"  {row[0] // 1000}k {shape_name(row)}: {mine:.3f}{versus_text} CPU seconds")
    print("\nPeak RSS beyond the fixtures (the interpreter, imports and items built before the")
    print("first sync: the MB the syncs themselves added):")
    for row in rows:
        mine, mine_rss = best[("calsync", row)]
        added = mine_rss - mine["fixture_rss"]
        fixtures = mine["fixture_rss"]
        line = f"  {row[0] // 1000}k {shape_name(row)}: {added:.0f} MB (fixtures {fixtures:.0f})"
        theirs = best.get(vdirsyncer_row(row))
        if theirs:
            their_added = theirs[1] - theirs[0]["fixture_rss"]
            line += f" vs {their_added:.0f} MB (fixtures {theirs[0]['fixture_rss']:.0f})"
            line += f" = {ratio(added, their_added)}"
        print(line)
    if not versus:
        print("\n(vdirsyncer is not installed: its column is left out; pip install -e '.[bench]')")


def shape_name(row: Row) -> str:
    _, feed, store = row
    name = "host change feed" if feed else "full listing"
    return f"{name}, SQLite file" if store == "sqlite" else name


def ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}x" if theirs > 0 else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k items only")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each workload")
    parser.add_argument(
        "--child", nargs=4, metavar=("SIDE", "ITEMS", "SHAPE", "STATE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        side, items, shape, store = args.child[0], int(args.child[1]), *args.child[2:]
        if side == "calsync":
            spent = calsync_workload(items, shape == "feed", store)
        else:
            spent = vdirsyncer_workload(items, store)
        print(json.dumps(spent))
        return
    versus = vdirsyncer_installed()
    if not versus:
        print(
            "vdirsyncer is not installed (pip install -e '.[bench]'): calsync alone",
            file=sys.stderr,
        )
    rows: list[Row]
    if args.quick:
        rows = [(10_000, False, "memory"), (10_000, True, "memory"), (10_000, False, "sqlite")]
    else:
        rows = [
            (10_000, False, "memory"),
            (100_000, False, "memory"),
            (100_000, True, "memory"),
            (100_000, False, "sqlite"),
        ]
    table(rows, measure(rows, args.rounds, versus), versus)


if __name__ == "__main__":
    main()

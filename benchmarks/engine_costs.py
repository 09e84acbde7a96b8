"""Where the engine's CPU goes, for the costs named in issue 12 (measured, never asserted).

With the in-memory host and backend of ``versus_vdirsyncer.py`` (sessions with a client), it
profiles (cProfile, so the seconds are inflated; the shares are what matters):

* an initial sync: state-store transactions and ``commit()`` calls per item, and how often the
  canonical JSON of a base is encoded per item (``encode_base``, ``json.dumps``);
* a quiet run with a full host listing: template renders and their share, the top functions;
* a quiet run with a host change feed: the mapping load's share of the run.

Each shape runs with the in-memory store and with SQLite (``--sqlite-items``, default 20k, as
SQLite's per-item commits make a 100k initial sync slow).

Run: ``python benchmarks/engine_costs.py [--items 100000] [--sqlite-items 20000]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
from versus_vdirsyncer import NOW, USER, when

from calsync import (
    ClientInfo,
    ItemKind,
    MemoryStateStore,
    ScheduleItem,
    SqliteStateStore,
    StateStore,
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


@attrs.define
class Studio:
    engine: SyncEngine
    profile: SyncProfile
    google: MemoryCalendarBackend

    def run(self, profiler: cProfile.Profile | None = None) -> float:
        started = time.process_time()
        if profiler:
            profiler.enable()
        report = self.engine.sync(self.profile, self.google, None)
        if profiler:
            profiler.disable()
        if not report.ok:
            raise SystemExit(report.summary())
        if report.initial_sync_completed:
            options = attrs.evolve(self.profile.options, initial_sync_pending=False)
            self.profile = attrs.evolve(self.profile, options=options)
        return time.process_time() - started


def studio(items: int, feed: bool, store: StateStore) -> Studio:
    schedule = MemoryScheduleSource(now=lambda: NOW, change_feed=feed)
    for number in range(items):
        schedule.add(USER, session(number))
    google = MemoryCalendarBackend(now=lambda: NOW)
    profile = SyncProfile("bench.u1", USER, google.add_calendar(), SyncOptions())
    return Studio(SyncEngine(store, schedule, None, clock=lambda: NOW), profile, google)


class Commits:
    """Counts the outermost transactions of a store (its commits), whoever opens them."""

    def __init__(self, store: StateStore) -> None:
        self.count = 0
        depth = 0
        opened = store.transaction

        @contextmanager
        def counted_transaction() -> Iterator[None]:
            nonlocal depth
            self.count += depth == 0
            depth += 1
            try:
                with opened():
                    yield
            finally:
                depth -= 1

        store.transaction = counted_transaction  # type: ignore[method-assign]


def calls(stats: pstats.Stats, name: str) -> tuple[int, float]:
    """Calls of functions named ``name`` and their share of the profiled time."""
    count, seconds = 0, 0.0
    for (_, _, function), (_, ncalls, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if function == name:
            count, seconds = count + ncalls, seconds + cumulative
    return count, seconds / stats.total_tt  # type: ignore[attr-defined]


def top(profiler: cProfile.Profile, order: str, lines: int) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
    text = out.getvalue()
    return text[text.index("   ncalls") :]


def measure(items: int, store: StateStore, label: str, *, profile_quiet: bool) -> None:
    s = studio(items, False, store)
    commits = Commits(store)
    profiler = cProfile.Profile()
    cpu = s.run(profiler)
    stats = pstats.Stats(profiler)
    _, commit_share = calls(stats, "counted_transaction")
    encodes, encode_share = calls(stats, "encode_base")
    dumps, _ = calls(stats, "dumps")
    print(
        f"\n[{label}, N={items}] initial sync: {cpu:.2f} s CPU (profiled); store commits "
        f"(outermost transactions) {commits.count / items:.2f} an item, transactions "
        f"{commit_share:.0%} of the run; encode_base {encodes / items:.2f} an item "
        f"({encode_share:.0%}); json.dumps {dumps / items:.2f} an item"
    )
    s.run()  # the echo of the initial writes
    profiler = cProfile.Profile()
    cpu = s.run(profiler)
    stats = pstats.Stats(profiler)
    renders, render_share = calls(stats, "host_record")
    loads, load_share = calls(stats, "mappings")
    print(
        f"[{label}, N={items}] quiet run, full listing: {cpu:.3f} s CPU (profiled); host records "
        f"rendered through the templates: {renders} ({render_share:.0%} of the run); mapping "
        f"loads {loads} ({load_share:.0%})"
    )
    if profile_quiet:
        print(top(profiler, "tottime", 15))
        print(top(profiler, "cumulative", 22))


def measure_feed(items: int, store: StateStore, label: str) -> None:
    s = studio(items, True, store)
    s.run()
    s.run()
    profiler = cProfile.Profile()
    cpu = s.run(profiler)
    loads, load_share = calls(pstats.Stats(profiler), "mappings")
    print(
        f"[{label}, N={items}] quiet run, host change feed: {cpu * 1000:.1f} ms CPU (profiled); "
        f"mapping loads {loads}, {load_share:.0%} of the run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--sqlite-items", type=int, default=20_000)
    args = parser.parse_args()
    measure(args.items, MemoryStateStore(), "memory store", profile_quiet=True)
    measure_feed(args.items, MemoryStateStore(), "memory store")
    with tempfile.TemporaryDirectory() as folder:
        for shape in ("full", "feed"):
            with SqliteStateStore(str(Path(folder) / f"{shape}.sqlite3")) as store:
                if shape == "full":
                    measure(args.sqlite_items, store, "SQLite store", profile_quiet=False)
                else:
                    measure_feed(args.sqlite_items, store, "SQLite store")


if __name__ == "__main__":
    main()

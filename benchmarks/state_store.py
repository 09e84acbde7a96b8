"""How fast the SQLite state store is on a temporary file.

Prints, for 100k mapping rows: the time and peak Python memory (tracemalloc) to insert them in
one transaction and to load them with ``mappings()`` (the first load, and the best of three);
then the cost of one commit per row for 1,000 ``put_mapping`` calls outside a transaction.
Times are taken with tracemalloc off (it slows Python down); memory is measured in a second,
traced run. SQLite's own page cache is allocated outside Python and is not in those figures.

Run: ``.venv/bin/python benchmarks/state_store.py [rows]``
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calsync.model import Channel, RecordKind
from calsync.state import MappingRow, SqliteStateStore

PROFILE = "studio-1/alice"
SYNCED_AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
BASE = (
    '{"title": "Portrait session — Zoë Example", "start": "2024-05-02T10:00:00+02:00", '
    '"end": "2024-05-02T11:30:00+02:00", "location": "Studio 2, 12 High Street", '
    '"description": "Client: Zoë Example\\nPhone: +44 20 7946 0000\\nPackage: Gold"}'
)


def make_row(number: int) -> MappingRow:
    """A realistic row: JSON base, a hashed remote id, an etag."""
    digest = hashlib.sha256(str(number).encode()).hexdigest()
    return MappingRow(
        profile_id=PROFILE,
        channel=Channel.CALENDAR,
        host_id=f"session-{number:08d}",
        remote_id=f"cs{digest[:26]}",
        kind=RecordKind.SESSION,
        base=BASE,
        host_revision=str(number),
        remote_etag=f'"{3_000_000_000_000 + number}"',
        synced_at=SYNCED_AT + timedelta(seconds=number),
    )


def insert_in_one_transaction(path: Path, rows: list[MappingRow]) -> None:
    with SqliteStateStore(path) as store, store.transaction():
        for row in rows:
            store.put_mapping(row)


def load(path: Path) -> int:
    with SqliteStateStore(path) as store:
        return len(store.mappings(PROFILE, Channel.CALENDAR))


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def peak_memory(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def single_commits(path: Path, count: int) -> float:
    """Seconds per ``put_mapping`` when each one commits on its own."""
    rows = [make_row(10_000_000 + number) for number in range(count)]
    with SqliteStateStore(path) as store:
        started = time.perf_counter()
        for row in rows:
            store.put_mapping(row)
        return (time.perf_counter() - started) / count


def main(row_count: int) -> None:
    rows = [make_row(number) for number in range(row_count)]
    with tempfile.TemporaryDirectory() as directory:
        timed_file, traced_file = Path(directory, "timed.db"), Path(directory, "traced.db")
        insert_seconds = timed(lambda: insert_in_one_transaction(timed_file, rows))
        insert_peak = peak_memory(lambda: insert_in_one_transaction(traced_file, rows))
        load_runs = [timed(lambda: load(timed_file)) for _ in range(3)]
        load_peak = peak_memory(lambda: load(timed_file))
        per_commit = single_commits(Path(directory, "commits.db"), 1_000)
        file_size = timed_file.stat().st_size

    print(f"sqlite {sqlite3.sqlite_version}, python {sys.version.split()[0]}")
    print(f"rows: {row_count}")
    print(f"insert, one transaction: {insert_seconds:.3f} s, peak {insert_peak / 2**10:.0f} KiB")
    first, best = load_runs[0], min(load_runs)
    print(f"load with mappings():    {first:.3f} s first, {best:.3f} s best of 3")
    print(f"                         peak {load_peak / 2**20:.0f} MiB")
    print(f"single put_mapping commits: {per_commit * 1e6:.0f} µs per row (1000 rows)")
    print(f"database file size: {file_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

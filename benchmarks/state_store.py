"""How fast the SQLite state store is on a temporary file.

Prints, for 100k mapping rows: the time and peak Python memory (tracemalloc) to insert them in
one transaction and to load them with ``mappings()`` (the first load, and the best of three);
then the cost of one commit per row for 1,000 ``put_mapping`` calls outside a transaction;
and what a first sync importing 2,000 Google contacts as clients (inbound contacts; fewer when
fewer rows are asked for) writes to the store: its commits, its state-store writes (calls of
the store's write methods, a bulk write counted once) and the SQL write statements SQLite ran
for them.
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
from typing import Any

from calsync import ContactFields, Email, Side, SyncEngine, SyncOptions, SyncProfile
from calsync.model import Channel, RecordKind
from calsync.state import MappingRow, SqliteStateStore, StateStore
from calsync.testing import MemoryContactsBackend, MemoryContactSource, MemoryScheduleSource

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


#: the store's write methods, counted by :class:`StateWrites` (a bulk write is one)
WRITES = (
    "put_mapping", "put_mappings", "delete_mapping", "set_cursor", "set_cursors", "set_origin",
    "set_origins", "add_pending", "add_pendings", "remove_pending", "remove_pendings",
    "put_push_channel", "delete_push_channel", "forget_channel", "forget_profile",
)  # fmt: skip


class StateWrites:
    """Counts the calls of a store's write methods made by its users: a write another one
    makes (a default built on a one-row write) is part of that one."""

    def __init__(self, store: StateStore) -> None:
        self.count = 0
        self._depth = 0
        for name in WRITES:
            if hasattr(store, name):
                setattr(store, name, self._counted(getattr(store, name)))

    def _counted(self, write: Callable[..., None]) -> Callable[..., None]:
        def counted(*args: Any, **kwargs: Any) -> None:
            self.count += self._depth == 0
            self._depth += 1
            try:
                write(*args, **kwargs)
            finally:
                self._depth -= 1

        return counted


def import_contacts(path: Path, count: int) -> tuple[int, int, int]:
    """A first sync of a profile whose Google group holds ``count`` contacts the Google user
    made (inbound contacts: each becomes a client). Returns its commits, its state-store
    writes and SQLite's write statements (each row of a bulk statement counts)."""
    google = MemoryContactsBackend(now=lambda: SYNCED_AT)
    for number in range(count):
        email = Email(f"client{number}@example.com")
        fields = ContactFields(given_name=f"Client {number}", emails=(email,))
        google.external_create(fields, groups=["Clients"])
    options = SyncOptions(contacts=True, client_group="Clients", inbound_contacts=True)
    profile = SyncProfile("studio-1.alice", "alice", None, options)
    statements: list[str] = []
    with SqliteStateStore(path) as store:
        engine = SyncEngine(
            store, MemoryScheduleSource(), MemoryContactSource(), clock=lambda: SYNCED_AT
        )
        writes = StateWrites(store)
        store._conn.set_trace_callback(statements.append)  # what SQLite runs, row by row
        report = engine.sync(profile, None, google)
        store._conn.set_trace_callback(None)
    if report.count(Side.HOST, "created") != count:
        raise SystemExit(report.summary())
    verbs = [statement.split(None, 1)[0].upper() for statement in statements]
    written = sum(verb in ("INSERT", "UPDATE", "DELETE") for verb in verbs)
    return verbs.count("COMMIT"), writes.count, written


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
        contacts = min(2_000, row_count)
        commits, writes, statements = import_contacts(Path(directory, "contacts.db"), contacts)

    print(f"sqlite {sqlite3.sqlite_version}, python {sys.version.split()[0]}")
    print(f"rows: {row_count}")
    print(f"insert, one transaction: {insert_seconds:.3f} s, peak {insert_peak / 2**10:.0f} KiB")
    first, best = load_runs[0], min(load_runs)
    print(f"load with mappings():    {first:.3f} s first, {best:.3f} s best of 3")
    print(f"                         peak {load_peak / 2**20:.0f} MiB")
    print(f"single put_mapping commits: {per_commit * 1e6:.0f} µs per row (1000 rows)")
    print(f"database file size: {file_size / 2**20:.1f} MiB")
    print(
        f"import of {contacts} Google contacts: {commits} commits, {writes} state writes, "
        f"{statements} SQL write statements"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

"""A desktop host's sync in a process of its own, for the tests that kill it with SIGKILL
(tests/google/test_killed_sync.py).

    python -m killed_sync_child BASE_URL TOKEN CALENDAR STATE_DIR ITEMS CLIENTS LEASE VARIANT

The studio's data is the same in every process of a VARIANT, built from ITEMS and CLIENTS:
``base``; ``edited`` (every session moved to the town hall, every client renamed); ``deleted``
(edited, less every sixth session and client: under the mass-deletion hold). The sync state
is a SQLite file in STATE_DIR, where the host also keeps its "initial sync done" switch, as a
real host keeps both on disk. The run goes through the sync processor (under the profile's
lease in the state file), against the emulator at BASE_URL with the real Google client. It
prints its report as one JSON line. The tests kill it with SIGKILL, or pause it with SIGSTOP.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.oauth2.credentials import Credentials
from studio_world import StudioBuilders

from calsync import SqliteStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.google.account import connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryContactSource, MemoryProfileStore, MemoryScheduleSource

USER = "u1"
GROUP = "Weddings"
NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def main(argv: list[str]) -> int:
    base_url, token, calendar_id, state_dir = argv[:4]
    items, clients = int(argv[4]), int(argv[5])
    lease, variant = timedelta(seconds=float(argv[6])), argv[7]
    done = Path(state_dir) / "initial-sync-done"
    schedule = MemoryScheduleSource(now=lambda: NOW)
    contacts = MemoryContactSource(now=lambda: NOW)
    studio = StudioBuilders(NOW, user=USER, group=GROUP)
    for number in range(items):
        schedule.add(USER, studio.session(f"s{number}", day=1 + number % 300, hour=8 + number % 8))
    for number in range(clients):
        contacts.add(USER, studio.client(f"c{number}", f"Client{number}", "Avery"), [GROUP])
    if variant != "base":  # (edits after the adds: new host revisions, the same in each run)
        for number in range(items):
            schedule.edit(USER, f"s{number}", location="Town hall")
        for number in range(clients):
            contacts.edit(USER, f"c{number}", family_name="Avery-Jones")
    if variant == "deleted":
        for number in range(0, items, 6):
            schedule.remove(USER, f"s{number}")
        for number in range(0, clients, 6):
            contacts.remove(USER, f"c{number}")
    options = SyncOptions(contacts=True, client_group=GROUP, initial_sync_pending=not done.exists())
    profile = SyncProfile("studio.u1", USER, calendar_id, options)
    profiles = MemoryProfileStore([profile])

    def connected(_: SyncProfile) -> Connection:
        account = connect(
            Credentials(token=token),
            base_url=base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )
        return Connection(account.calendar, account.contacts)

    with SqliteStateStore(Path(state_dir) / "state.sqlite3") as store:
        engine = SyncEngine(store, schedule, contacts, clock=lambda: NOW)
        processor = SyncProcessor(
            engine, profiles, connected, lease_ttl=lease, lease_poll=0.2, remind_every=None
        )
        run = processor.run_profile(profile, wait=lease.total_seconds() * 3)
    report = run.report
    if report is not None and report.initial_sync_completed:
        done.touch()
    print(
        json.dumps(
            {
                "skipped": run.skipped,
                "stopped": run.stopped,
                "lease_lost": run.lease_lost,
                "ok": report is not None and report.ok,
                "writes": None if report is None else report.writes,
                "summary": None if report is None else report.summary(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

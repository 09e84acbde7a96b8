"""A demo studio synced in memory: three users, their sessions and appointments, a client group.

Run it with ``make demo`` (or ``python examples/demo.py``). It syncs, makes changes on both
sides — including a Google-made appointment that comes back unlinked and is converted into a
session — syncs again, and prints a readable report per user. ``--json`` prints the reports as
JSON. A last run with nothing changed shows zero writes.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from calsync import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    Email,
    EventFields,
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
from calsync.testing import (
    MemoryCalendarBackend,
    MemoryContactsBackend,
    MemoryContactSource,
    MemoryScheduleSource,
)

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
CLIENTS = [
    ClientInfo("c1", "Ann Smith", "+44 20 7946 0001", "ann@example.com"),
    ClientInfo("c2", "Ben Jones", "+1 212 555 0102", "ben@example.com"),
    ClientInfo("c3", "Cara Diaz", "+34 91 555 0103", "cara@example.com"),
]


def at(days: int, hour: int, zone: str = "Europe/London", hours: int = 2) -> Timed:
    start = NOW.replace(hour=hour) + timedelta(days=days)
    return Timed(start, start + timedelta(hours=hours), zone)


class DemoStudio:
    """Three staff users, each with their own Google account, calendar and options."""

    def __init__(self) -> None:
        self.schedule = MemoryScheduleSource()
        self.clients = MemoryContactSource()
        self.store = MemoryStateStore()
        self.engine = SyncEngine(self.store, self.schedule, self.clients)
        self.google: dict[str, tuple[MemoryCalendarBackend, MemoryContactsBackend]] = {}
        self.profiles = {
            "ann": SyncProfile(
                "demo.ann",
                "ann",
                "ann-calendar",
                SyncOptions(contacts=True, client_group="Weddings"),
            ),
            "ben": SyncProfile(
                "demo.ben", "ben", "ben-calendar", SyncOptions(inbound_calendar=True)
            ),
            "cara": SyncProfile("demo.cara", "cara", "cara-calendar"),
        }
        for user, profile in self.profiles.items():
            assert profile.calendar_id is not None
            self.google[user] = (
                MemoryCalendarBackend(calendars=[profile.calendar_id]),
                MemoryContactsBackend(),
            )
        self._seed()

    def _seed(self) -> None:
        for i, client in enumerate(CLIENTS):
            fields = ContactFields(
                given_name=client.name.split()[0],
                family_name=client.name.split()[1],
                phones=(Phone(client.phone),),
                emails=(Email(client.email),),
            )
            groups = ["Weddings"] if i < 2 else []
            self.clients.add("ann", Contact(client.id, fields), groups=groups)
        for user, zone in (
            ("ann", "Europe/London"),
            ("ben", "America/New_York"),
            ("cara", "Asia/Tokyo"),
        ):
            for day, client in enumerate(CLIENTS, start=1):
                self.schedule.add(
                    user,
                    ScheduleItem(
                        f"{user}-s{day}",
                        ItemKind.SESSION,
                        at(day, 10, zone),
                        client=client,
                        session_type="Wedding" if day == 1 else "Portrait",
                        location="Studio A",
                    ),
                )
            self.schedule.add(
                user,
                ScheduleItem(
                    f"{user}-a1",
                    ItemKind.APPOINTMENT,
                    AllDay.single(NOW.date() + timedelta(days=5)),
                    title="Equipment service",
                ),
            )

    def sync_all(self) -> dict[str, SyncReport]:
        reports = {}
        for user, profile in self.profiles.items():
            calendar, contacts = self.google[user]
            report = self.engine.sync(profile, calendar, contacts)
            if report.initial_sync_completed:
                options = attrs.evolve(profile.options, initial_sync_pending=False)
                self.profiles[user] = attrs.evolve(profile, options=options)
            reports[user] = report
        return reports

    def make_changes(self) -> None:
        """Edits on both sides, as staff and Google users would make them."""
        self.schedule.edit("ann", "ann-s2", when=at(2, 15))
        self.schedule.remove("cara", "cara-a1")
        ben_calendar, _ = self.google["ben"]
        ben_calendar.external_create(
            "ben-calendar",
            EventFields("Call Cara about her shoot", when=at(4, 9, "America/New_York")),
        )
        self.clients.edit("ann", "c1", notes="Prefers morning shoots")

    def convert_unlinked(self) -> str:
        """Ben converts the Google-made appointment into a session for Cara."""
        unlinked = [i for i in self.schedule.items("ben").values() if i.kind is ItemKind.UNLINKED]
        session = self.schedule.convert(
            "ben", unlinked[0].id, client=CLIENTS[2], session_type="Consultation"
        )
        return session.id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = parser.parse_args(argv)
    studio = DemoStudio()
    runs: list[tuple[str, dict[str, SyncReport]]] = [("initial sync", studio.sync_all())]
    studio.make_changes()
    runs.append(("changes on both sides", studio.sync_all()))
    studio.convert_unlinked()
    runs.append(("unlinked appointment converted to a session", studio.sync_all()))
    runs.append(("nothing changed", studio.sync_all()))
    if args.json:
        out: list[dict[str, Any]] = [
            {"run": name, "reports": {user: r.to_dict() for user, r in reports.items()}}
            for name, reports in runs
        ]
        print(json.dumps(out, indent=2))
        return
    for name, reports in runs:
        print(f"=== {name} ===")
        for report in reports.values():
            print(report.summary())
        print()


if __name__ == "__main__":
    main()

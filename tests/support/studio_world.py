"""A small in-memory studio world for tests: host fakes, remote fakes, a store, a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from calsync import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    Email,
    ItemKind,
    Phone,
    ScheduleItem,
    StateStore,
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

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CAL = "studio@group.calendar.google.com"
USER = "u7"
GROUP = "Weddings 2027"
ANN = ClientInfo("c1", "Ann Smith", phone="+44 20 7946 0001", email="ann@example.com")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def timed(day: int, hour: int = 10, hours: int = 1, zone: str = "Europe/London") -> Timed:
    start = NOW.replace(hour=hour) + timedelta(days=day)
    return Timed(start, start + timedelta(hours=hours), zone)


def session(item_id: str, day: int = 3, hour: int = 10, **kw: Any) -> ScheduleItem:
    values: dict[str, Any] = {"client": ANN, "session_type": "Wedding", "when": timed(day, hour)}
    values.update(kw)
    return ScheduleItem(item_id, ItemKind.SESSION, **values)


def appointment(
    item_id: str, title: str = "Studio cleaning", day: int = 4, **kw: Any
) -> ScheduleItem:
    values: dict[str, Any] = {"when": AllDay.single(NOW.date() + timedelta(days=day))}
    values.update(kw)
    return ScheduleItem(item_id, ItemKind.APPOINTMENT, title=title, **values)


def client(contact_id: str, given: str = "Ann", family: str = "Smith") -> Contact:
    fields = ContactFields(
        given_name=given,
        family_name=family,
        phones=(Phone("+44 20 7946 0001"),),
        emails=(Email(f"{given.lower()}@example.com"),),
    )
    return Contact(contact_id, fields)


@attrs.define
class World:
    """One studio user synced with one calendar and one contact group, all in memory."""

    clock: Clock
    store: StateStore
    schedule: MemoryScheduleSource
    clients: MemoryContactSource
    calendar: MemoryCalendarBackend
    contacts: MemoryContactsBackend
    profile: SyncProfile

    @property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.schedule, self.clients, clock=self.clock)

    def sync(self, **kw: Any) -> SyncReport:
        report = self.engine.sync(self.profile, self.calendar, self.contacts, **kw)
        if report.initial_sync_completed:
            self.options(initial_sync_pending=False)
        return report

    def options(self, **changes: Any) -> None:
        options = attrs.evolve(self.profile.options, **changes)
        self.profile = attrs.evolve(self.profile, options=options)

    def events(self) -> dict[str, Any]:
        return self.calendar.events(CAL)

    def items(self) -> dict[str, ScheduleItem]:
        return self.schedule.items(USER)


def make_world(store: StateStore, **options: Any) -> World:
    clock = Clock(NOW)
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    profile = SyncProfile("studio.u7", USER, CAL, SyncOptions(**options))
    return World(
        clock,
        store,
        MemoryScheduleSource(now=clock),
        MemoryContactSource(now=clock),
        calendar,
        MemoryContactsBackend(now=clock),
        profile,
    )

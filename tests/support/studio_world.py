"""The studio side of tests, written once: builders of a studio user's items (dated from a
``now`` of the test's choosing), a hand-moved clock, and a studio user synced through the
engine — with in-memory Google backends here (:func:`make_world`), or with the emulator in
``tests/google/conftest.py`` (which subclasses :class:`SyncedUser`).

Module-level builders (``timed``, ``session``, ``appointment``) are dated from :data:`NOW`;
``StudioBuilders(now=...)`` gives the same builders dated from another day.
"""

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
from calsync.backends import CalendarBackend, ContactsBackend, RemoteEvent
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


def client(contact_id: str, given: str = "Ann", family: str = "Smith") -> Contact:
    fields = ContactFields(
        given_name=given,
        family_name=family,
        phones=(Phone("+44 20 7946 0001"),),
        emails=(Email(f"{given.lower()}@example.com"),),
    )
    return Contact(contact_id, fields)


@attrs.frozen
class StudioBuilders:
    """One studio user's items, ``day`` days after ``now`` (at ``hour`` in London)."""

    now: datetime
    user: str = USER
    group: str = GROUP
    ann: ClientInfo = ANN

    def timed(self, day: int, hour: int = 10, hours: int = 1, zone: str = "Europe/London") -> Timed:
        start = self.now.replace(hour=hour) + timedelta(days=day)
        return Timed(start, start + timedelta(hours=hours), zone)

    def session(self, item_id: str, day: int = 3, hour: int = 10, **kw: Any) -> ScheduleItem:
        values: dict[str, Any] = {
            "client": self.ann,
            "session_type": "Wedding",
            "when": self.timed(day, hour),
        }
        values.update(kw)
        return ScheduleItem(item_id, ItemKind.SESSION, **values)

    def appointment(
        self, item_id: str, title: str = "Studio cleaning", day: int = 4, **kw: Any
    ) -> ScheduleItem:
        values: dict[str, Any] = {"when": AllDay.single(self.now.date() + timedelta(days=day))}
        values.update(kw)
        return ScheduleItem(item_id, ItemKind.APPOINTMENT, title=title, **values)

    def client(self, contact_id: str, given: str = "Ann", family: str = "Smith") -> Contact:
        return client(contact_id, given, family)


_BUILDERS = StudioBuilders(NOW)
timed = _BUILDERS.timed
session = _BUILDERS.session
appointment = _BUILDERS.appointment


@attrs.define(kw_only=True)
class SyncedUser:
    """One studio user (in-memory host) synced through the engine; subclasses give the
    Google side (:meth:`backends`)."""

    clock: Clock
    store: StateStore
    schedule: MemoryScheduleSource
    clients: MemoryContactSource
    profile: SyncProfile

    @property
    def engine(self) -> SyncEngine:
        return SyncEngine(self.store, self.schedule, self.clients, clock=self.clock)

    def backends(self) -> tuple[CalendarBackend, ContactsBackend]:
        raise NotImplementedError

    def sync(self, **kw: Any) -> SyncReport:
        report = self.engine.sync(self.profile, *self.backends(), **kw)
        if report.initial_sync_completed:
            self.options(initial_sync_pending=False)
        return report

    def options(self, **changes: Any) -> None:
        options = attrs.evolve(self.profile.options, **changes)
        self.profile = attrs.evolve(self.profile, options=options)

    def items(self) -> dict[str, ScheduleItem]:
        return self.schedule.items(self.profile.user_id)


@attrs.define(kw_only=True)
class World(SyncedUser):
    """One studio user synced with one calendar and one contact group, all in memory."""

    calendar: MemoryCalendarBackend
    contacts: MemoryContactsBackend

    def backends(self) -> tuple[CalendarBackend, ContactsBackend]:
        return self.calendar, self.contacts

    def events(self) -> dict[str, RemoteEvent]:
        return self.calendar.events(CAL)


def make_world(store: StateStore, **options: Any) -> World:
    clock = Clock(NOW)
    return World(
        clock=clock,
        store=store,
        schedule=MemoryScheduleSource(now=clock),
        clients=MemoryContactSource(now=clock),
        calendar=MemoryCalendarBackend(now=clock, calendars=[CAL]),
        contacts=MemoryContactsBackend(now=clock),
        profile=SyncProfile("studio.u7", USER, CAL, SyncOptions(**options)),
    )

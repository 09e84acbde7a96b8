"""A studio session converted from an unlinked appointment keeps the Google event the
appointment was made from (``sessions.google_event_id``, given to calsync as ``remote_id``):
even when calsync holds no pair of the appointment, the session is paired with that event,
never given a second one, and the event never comes back as a new unlinked appointment. An
older studio file gains the column when opened."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from studio.adapters import StudioClients, StudioSchedule
from studio.db import SCHEMA_VERSION, Span, Studio, session_key

from calsync import (
    EventFields,
    Marker,
    MemoryStateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
    Timed,
)
from calsync.testing import MemoryCalendarBackend

CAL = "ben@lumen-studio.example"
OTHER = "ben-other@lumen-studio.example"
START = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)
CALL = Timed(START, START + timedelta(hours=1), "Europe/London")


@attrs.define
class BenSyncs:
    """Ben's studio schedule, synced through the engine to in-memory Google calendars."""

    studio: Studio
    ben: int
    sofia: int
    calendars: MemoryCalendarBackend = attrs.field(
        factory=lambda: MemoryCalendarBackend(calendars=[CAL, OTHER])
    )
    profile: SyncProfile = attrs.field(init=False)
    engine: SyncEngine = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        options = SyncOptions(inbound_calendar=True, initial_sync_pending=False)
        self.profile = SyncProfile("lumen.ben", str(self.ben), CAL, options)
        schedule, clients = StudioSchedule(self.studio), StudioClients(self.studio)
        self.engine = SyncEngine(MemoryStateStore(), schedule, clients)

    def sync(self) -> SyncReport:
        report = self.engine.sync(self.profile, self.calendars)
        assert report.ok, report.summary()
        return report

    def use_calendar(self, calendar_id: str) -> None:
        self.profile = attrs.evolve(self.profile, calendar_id=calendar_id)

    def schedule(self) -> list[str]:
        """The keys of Ben's sessions and appointments."""
        rows = self.studio.schedule_between(self.ben, date(2000, 1, 1), date(2100, 1, 1))
        return [row.key for row in rows]

    def unlinked(self) -> list[int]:
        rows = self.studio.appointments_between(self.ben, date(2000, 1, 1), date(2100, 1, 1))
        return [row.id for row in rows if row.kind == "unlinked"]


@pytest.fixture
def world() -> Iterator[BenSyncs]:
    with Studio(":memory:") as studio:
        ben = studio.add_user("Ben", CAL)
        sofia = studio.add_client("Sofia", "Marin", phone="+1 212 555 0147")
        yield BenSyncs(studio, ben, sofia)


def test_a_session_converted_before_calsync_recorded_its_appointment_takes_its_event(
    world: BenSyncs,
) -> None:
    made = world.calendars.external_create(CAL, EventFields("Call Sofia", when=CALL))
    # the studio made the appointment from the event, and calsync stopped before recording it
    unlinked = world.studio.add_unlinked(
        world.ben, made.id, "Call Sofia", Span(CALL.start, CALL.end, CALL.zone)
    )
    session = world.studio.convert_to_session(unlinked, world.sofia, "Consultation")

    world.sync()

    assert [session_key(session)] == world.schedule()
    assert [made.id] == list(world.calendars.events(CAL))
    assert Marker("lumen.ben", session_key(session)) == world.calendars.events(CAL)[made.id].marker
    assert world.sync().writes == 0


def test_a_session_converted_while_another_calendar_was_synced_takes_its_event_back(
    world: BenSyncs,
) -> None:
    made = world.calendars.external_create(CAL, EventFields("Call Sofia", when=CALL))
    world.sync()
    (unlinked,) = world.unlinked()
    world.use_calendar(OTHER)
    world.sync()
    session = world.studio.convert_to_session(unlinked, world.sofia, "Consultation")
    world.sync()

    world.use_calendar(CAL)
    world.sync()

    assert [session_key(session)] == world.schedule()
    assert [made.id] == list(world.calendars.events(CAL))
    assert Marker("lumen.ben", session_key(session)) == world.calendars.events(CAL)[made.id].marker
    assert world.sync().writes == 0


# -- the schema upgrade ------------------------------------------------------------------


def _as_version_1(path: Path) -> None:
    """Make the studio file at ``path`` what the studio wrote before sessions kept their event
    (and before clients kept labels, which came later)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("ALTER TABLE sessions DROP COLUMN google_event_id")
        for column in ("phone_label", "email_label", "address_label"):
            db.execute(f"ALTER TABLE clients DROP COLUMN {column}")
        db.execute("ALTER TABLE change_log DROP COLUMN stamp")  # (stamps came later too)
        db.execute("PRAGMA user_version = 1")
    finally:
        db.close()


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_an_older_studio_file_is_upgraded_and_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as studio:
        ben = studio.add_user("Ben")
        sofia = studio.add_client("Sofia", "Marin")
        booked = studio.book_session(ben, sofia, "Portrait", Span(CALL.start, CALL.end, CALL.zone))
        unlinked = studio.add_unlinked(ben, "google-1", "Call", Span(CALL.start, CALL.end, "UTC"))
    _as_version_1(path)

    with Studio(path) as studio:
        old = studio.session(booked)
        converted = studio.session(studio.convert_to_session(unlinked, sofia, "Consultation"))

    assert old is not None
    assert converted is not None
    assert (old.google_event_id, converted.google_event_id) == (None, "google-1")
    assert _version(path) == SCHEMA_VERSION


def test_a_studio_file_from_newer_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    Studio(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    with pytest.raises(RuntimeError, match="schema"):
        Studio(path)

"""A session converted from an unlinked appointment keeps the Google event the appointment
came from (the host gives the session the appointment's ``remote_id``), even when calsync
holds no pair of the appointment to take over: the session is paired with that event, never
given a second one, and the event never comes back as a new appointment."""

from __future__ import annotations

import attrs
import pytest
from studio_world import ANN, CAL, USER, World, timed

from calsync import EventFields, ItemKind, Marker
from calsync.testing import SimulatedCrash

OTHER = "other@group.calendar.google.com"


def test_a_session_converted_after_a_crash_before_the_appointment_was_recorded(
    world: World,
) -> None:
    made = world.calendar.external_create(CAL, EventFields("Call Ann", when=timed(2, 11)))
    world.schedule.crash_after_next("create_unlinked")  # the host wrote, calsync did not record
    with pytest.raises(SimulatedCrash):
        world.sync()
    (unlinked_id,) = world.items()
    session = world.schedule.convert(USER, unlinked_id, client=ANN, session_type="Portrait")

    report = world.sync()

    assert report.ok, report.summary()
    assert list(world.items()) == [session.id]
    assert list(world.events()) == [made.id]
    assert world.events()[made.id].marker == Marker("studio.u7", session.id)
    assert world.sync().writes == 0


def test_a_session_converted_while_another_calendar_was_synced_takes_its_event_back(
    world: World,
) -> None:
    world.calendar.add_calendar(OTHER)
    made = world.calendar.external_create(CAL, EventFields("Call Ann", when=timed(2, 11)))
    world.sync()
    (unlinked_id,) = world.items()
    world.profile = attrs.evolve(world.profile, calendar_id=OTHER)
    world.sync()
    session = world.schedule.convert(USER, unlinked_id, client=ANN, session_type="Portrait")
    world.sync()

    world.profile = attrs.evolve(world.profile, calendar_id=CAL)
    report = world.sync()

    assert report.ok, report.summary()
    assert list(world.items()) == [session.id]
    assert [i.kind for i in world.items().values()] == [ItemKind.SESSION]
    assert list(world.events()) == [made.id]
    assert world.sync().writes == 0

"""``cleanup_old_calendar`` removes every event calsync provably made in the calendar the user
switched away from — the copies of unlinked appointments it wrote there after an earlier
switch, and the events of creates it journaled but never recorded (a crash came between) —
and never an event the Google user made, even one that came to the studio as an unlinked
appointment."""

from __future__ import annotations

import attrs
import pytest
from studio_world import CAL, USER, World, session, timed

from calsync import EventFields, ItemKind
from calsync.ids import event_id_for
from calsync.testing import SimulatedCrash

OTHER = "other@group.calendar.google.com"


def switch_to(world: World, calendar_id: str, **options: object) -> None:
    world.profile = attrs.evolve(world.profile, calendar_id=calendar_id)
    if options:
        world.options(**options)


def test_calsyncs_copy_of_an_unlinked_appointment_goes_and_the_google_made_event_stays(
    world: World,
) -> None:
    world.calendar.add_calendar(OTHER)
    dentist = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    [(item_id, item)] = world.items().items()
    assert item.kind is ItemKind.UNLINKED
    switch_to(world, OTHER)
    world.sync()  # calsync writes the appointment into OTHER, under its own id
    assert set(world.calendar.events(OTHER)) == {event_id_for(world.profile.id, item_id)}

    switch_to(world, CAL, cleanup_old_calendar=True)
    world.sync()

    assert world.calendar.events(OTHER) == {}
    assert set(world.events()) == {dentist.id}  # the Google user's event, adopted again
    assert set(world.items()) == {item_id}

    switch_to(world, OTHER)  # away again: the Google-made event is never calsync's to remove
    world.sync()
    assert dentist.id in world.events()
    assert not world.events()[dentist.id].deleted
    assert set(world.items()) == {item_id}


def test_the_event_of_a_create_journaled_and_never_recorded_goes(world: World) -> None:
    world.calendar.add_calendar(OTHER)
    world.schedule.add(USER, session("s1"))
    world.calendar.crash_after_next("create_event")
    with pytest.raises(SimulatedCrash):
        world.sync()
    assert event_id_for(world.profile.id, "s1") in world.events()

    switch_to(world, OTHER, cleanup_old_calendar=True)
    report = world.sync()

    assert report.ok, report.summary()
    assert world.events() == {}
    assert set(world.calendar.events(OTHER)) == {event_id_for(world.profile.id, "s1")}

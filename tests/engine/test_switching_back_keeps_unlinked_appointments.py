"""An unlinked appointment whose Google event is gone, with no pair of this profile saying it
was synced with it, stays in the studio and is written to Google again: the event being gone
is no deletion the user meant for the studio (the calendar was switched back after the user
tidied it, or the studio moved the appointment from a colleague who syncs the same calendar)."""

from __future__ import annotations

import attrs
import pytest
from studio_world import CAL, NOW, USER, Clock, World, timed

from calsync import EventFields, MemoryStateStore, Side, SyncEngine, SyncOptions, SyncProfile
from calsync.testing import MemoryCalendarBackend, MemoryScheduleSource, SimulatedCrash

OTHER = "other@group.calendar.google.com"


def switch_to(world: World, calendar_id: str) -> None:
    world.profile = attrs.evolve(world.profile, calendar_id=calendar_id)


def test_switching_back_to_a_calendar_whose_event_was_deleted_keeps_the_appointment(
    world: World,
) -> None:
    world.calendar.add_calendar(OTHER)
    made = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    (unlinked_id,) = world.items()
    switch_to(world, OTHER)
    world.sync()  # the appointment is written to the other calendar too
    world.calendar.external_delete(CAL, made.id)  # the user tidies the calendar left behind
    switch_to(world, CAL)

    report = world.sync()

    assert report.count(Side.HOST, "deleted") == 0, report.summary()
    assert list(world.items()) == [unlinked_id]
    assert [e.fields.title for e in world.events().values() if e.fields] == ["Dentist"]
    assert world.sync().writes == 0


def test_an_appointment_whose_event_went_between_its_make_and_its_record_is_written_again(
    world: World,
) -> None:
    """The one case where the gone event was this profile's pair in all but the record: the
    studio item is kept (calsync cannot tell it from the cases above), and the event comes
    back, for the user to delete again."""
    made = world.calendar.external_create(CAL, EventFields("Call Ann", when=timed(2, 11)))
    world.schedule.crash_after_next("create_unlinked")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.calendar.external_delete(CAL, made.id)

    report = world.sync()

    assert report.ok, report.summary()
    assert [i.title for i in world.items().values()] == ["Call Ann"]
    assert [e.fields.title for e in world.events().values() if e.fields] == ["Call Ann"]
    assert world.sync().writes == 0
    (event_id,) = world.events()
    world.calendar.external_delete(CAL, event_id)  # deleted again, now that it is synced
    world.sync()
    assert world.items() == {}


def test_an_appointment_moved_to_a_colleague_on_the_same_calendar_is_kept() -> None:
    """Ann's sync deletes the event once the appointment leaves her schedule; Ben's sync, which
    never synced it, writes it again instead of deleting the appointment."""
    clock = Clock(NOW)
    store = MemoryStateStore()
    schedule = MemoryScheduleSource(now=clock)
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    options = SyncOptions(inbound_calendar=True)
    profiles = [
        SyncProfile("st.ann", USER, CAL, options),
        SyncProfile("st.ben", "ben", CAL, options),
    ]

    def sync(profile: SyncProfile) -> None:
        engine = SyncEngine(store, schedule, None, clock=clock)
        report = engine.sync(profile, calendar, None)
        assert report.count(Side.HOST, "deleted") == 0, report.summary()

    calendar.external_create(CAL, EventFields("Lunch with the florist", when=timed(2, 12)))
    sync(profiles[0])
    (item,) = schedule.items(USER).values()
    schedule.remove(USER, item.id)  # the studio moves it to Ben, under the same id
    schedule.add("ben", item)

    for _ in range(2):
        for profile in profiles:
            sync(profile)

    assert [i.title for i in schedule.items("ben").values()] == ["Lunch with the florist"]
    events = calendar.events(CAL).values()
    assert [e.fields.title for e in events if e.fields] == ["Lunch with the florist"]

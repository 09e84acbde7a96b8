"""An incremental listing (a sync token) lists any event that changed, however far back or
ahead: the in-memory calendar, like Google, does not window it. What is synced is the window
(what a full listing holds), so an unpaired event outside it never comes to the studio, and
is not read at the day's full listing. A paired event follows the rules of any pair."""

from __future__ import annotations

from studio_world import CAL, USER, World, session, timed

from calsync import EventFields, ItemKind, Side
from calsync.ids import event_id_for


def titles(world: World) -> list[str]:
    return sorted(i.title for i in world.items().values() if i.kind is ItemKind.UNLINKED)


def test_events_made_outside_the_window_do_not_come_in_on_an_incremental_run(
    world: World,
) -> None:
    world.sync()
    for title, day in (("Past", -200), ("Far", 3 * 365), ("Soon", 3)):
        world.calendar.external_create(CAL, EventFields(title, when=timed(day)))

    incremental = world.sync()

    assert incremental.count(Side.HOST, "created") == 1
    assert titles(world) == ["Soon"]
    world.clock.advance(days=1)  # the day's full listing
    world.calendar.calls.clear()

    full = world.sync()

    assert (full.ok, full.writes, titles(world)) == (True, 0, ["Soon"])
    assert world.calendar.calls["get_event"] == 0


def test_an_event_edited_outside_the_window_does_not_come_in(world: World) -> None:
    """(An occurrence months back, edited: listed by the sync token, not by the window.)"""
    old = world.calendar.external_create(CAL, EventFields("Yoga", when=timed(-180)))
    world.sync()
    assert titles(world) == []
    world.calendar.external_update(CAL, old.id, title="Yoga (guest)")

    report = world.sync()

    assert (report.ok, report.writes, titles(world)) == (True, 0, [])


def test_a_copy_of_a_session_made_outside_the_window_does_not_come_in(world: World) -> None:
    """A copy carries calsync's marker for a paired session: unpaired, it would come in as the
    Google user's own event, but not from outside the window."""
    world.schedule.add(USER, session("s1"))
    world.sync()
    original = world.events()[event_id_for("studio.u7", "s1")]
    world.calendar.external_create(
        CAL, EventFields("Copy", when=timed(-200)), marker=original.marker
    )

    report = world.sync()

    assert (report.ok, report.writes, titles(world)) == (True, 0, [])


def test_an_unlinked_appointment_moved_out_of_the_window_in_google_moves(world: World) -> None:
    made = world.calendar.external_create(CAL, EventFields("Yoga", when=timed(3)))
    world.sync()
    world.calendar.external_update(CAL, made.id, when=timed(-200))

    report = world.sync()

    assert report.count(Side.HOST, "updated") == 1
    [item] = world.items().values()
    assert (item.remote_id, item.when) == (made.id, timed(-200))

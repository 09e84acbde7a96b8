"""A held deletion names the item as the user knows it ('Wedding - Ann Smith' (s0)), so that
whoever is asked to confirm it can tell what would go. Before, it named only ids: a 52
character event id and the host id."""

from __future__ import annotations

from studio_world import CAL, USER, World, session, timed

from calsync import DeletionRules, EventFields, RemoteDeletion


def test_a_held_studio_deletion_names_the_session(world: World) -> None:
    for number in range(8):
        world.schedule.add(USER, session(f"s{number}", day=1 + number))
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")

    report = world.sync()

    assert len(report.held) == 8
    assert all("(host 'Wedding - Ann Smith' (s" in held.description for held in report.held)


def test_a_held_google_deletion_names_the_appointment(world: World) -> None:
    made = [
        world.calendar.external_create(CAL, EventFields(f"Lunch {n}", when=timed(2 + n)))
        for n in range(8)
    ]
    world.options(deletion_rules=DeletionRules(unlinked=RemoteDeletion.DELETE_HOST))
    world.sync()
    for event in made:
        world.calendar.external_delete(CAL, event.id)

    report = world.sync()

    assert len(report.held) == 8
    described = sorted(held.description for held in report.held)
    assert described[0].startswith("delete host unlinked 'Lunch 0' (")

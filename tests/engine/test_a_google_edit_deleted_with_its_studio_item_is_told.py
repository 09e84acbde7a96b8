"""An item deleted in the studio after the Google user changed its event: the change goes with
the deletion, and the user is told, as in the mirror case (changed in the studio, deleted in
Google). Failed before: the event was deleted with no word."""

from __future__ import annotations

from studio_world import CAL, USER, World, timed

from calsync import EventFields, ItemKind


def test_an_unlinked_appointment_deleted_in_the_studio_after_a_google_edit_is_told(
    world: World,
) -> None:
    event = world.calendar.external_create(CAL, EventFields("Yoga", when=timed(4, 9)))
    world.sync()
    (unlinked,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    world.calendar.external_update(CAL, event.id, description="bring a mat")
    world.schedule.remove(USER, unlinked.id)

    report = world.sync()

    assert event.id not in world.events()
    (told,) = [w for w in report.warnings if "changed in Google, but deleted" in w]
    assert "'Yoga'" in told
    assert "the change with it" in told


def test_an_item_deleted_in_the_studio_with_no_google_edit_is_not_told(world: World) -> None:
    world.calendar.external_create(CAL, EventFields("Yoga", when=timed(4, 9)))
    world.sync()
    (unlinked,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    world.schedule.remove(USER, unlinked.id)

    report = world.sync()

    assert not [w for w in report.warnings if "changed in Google" in w]

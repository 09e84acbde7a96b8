"""Google answers "not found" to calsync's update of an event: the event is gone since the run
listed it (the Google user deleted it meanwhile, or it is an occurrence its series no longer
has, which Google's incremental listing never cancels). calsync reads it again, as after a
412, and the deletion rules apply at once. Before, the update was an item error in every run
until the day's full listing found the event gone (an error email each run); a studio edit
lost with an item the rules delete is named in the report."""

from __future__ import annotations

import pytest
from studio_world import CAL, USER, World, session, timed

from calsync import EventFields, NotFound, Side
from calsync.backends import RemoteEvent
from calsync.model import Marker

GONE = NotFound("Google answered 404 notFound", status=404, reason="notFound")


def deleted_while_the_run_writes(world: World, gone: str) -> None:
    """The Google user deletes event ``gone`` between the run's listing and its update."""
    update = world.calendar.update_event

    def deleting_first(
        calendar_id: str,
        event_id: str,
        fields: EventFields,
        marker: Marker | None,
        etag: str | None,
    ) -> RemoteEvent:
        if event_id == gone and gone in world.events():
            world.calendar.external_delete(calendar_id, gone)
        return update(calendar_id, event_id, fields, marker, etag)

    world.calendar.update_event = deleting_first  # type: ignore[method-assign]


def google_made(world: World) -> tuple[str, str]:
    """An event made in Google, synced as an unlinked appointment: its id and the item's."""
    event = world.calendar.external_create(CAL, EventFields("Yoga", when=timed(2, 9)))
    world.sync()
    (item,) = world.items().values()
    return event.id, item.id


def test_an_unlinked_appointment_edited_in_the_studio_whose_event_went_is_deleted(
    world: World,
) -> None:
    event_id, item_id = google_made(world)
    world.schedule.edit(USER, item_id, description="call first")
    deleted_while_the_run_writes(world, event_id)

    report = world.sync()

    assert report.errors == []
    assert world.items() == {}  # the rule for an unlinked appointment deleted in Google
    assert report.count(Side.HOST, "deleted") == 1
    assert report.warnings == [
        f"the unlinked appointment 'Yoga' ({item_id}) was changed in the studio, but its "
        "Google event is gone (deleted in Google): it has been deleted in the studio, and "
        "the change with it"
    ]
    assert [world.sync().writes for _ in range(2)] == [0, 0]


def test_a_session_edited_in_the_studio_whose_event_went_is_restored(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.schedule.edit(USER, "s1", location="Town hall")
    deleted_while_the_run_writes(world, event_id)

    report = world.sync()

    assert report.errors == []
    assert report.count(Side.REMOTE, "restored") == 1
    (event,) = world.events().values()
    assert event.fields is not None
    assert event.fields.location == "Town hall"
    assert [w for w in report.warnings if "deleted in Google" in w] == [
        "the session 'Wedding - Ann Smith' (s1) was deleted in Google; it has been restored"
    ]
    assert world.sync().writes == 0


def test_a_not_found_for_an_event_still_there_is_written_after_the_read(world: World) -> None:
    """(Google's 404 may be propagation noise: the read finds the event, the update goes.)"""
    event_id, item_id = google_made(world)
    world.schedule.edit(USER, item_id, description="call first")
    world.calendar.fail_next("update_event", GONE)

    report = world.sync()

    assert report.errors == []
    assert report.count(Side.REMOTE, "updated") == 1
    event = world.events()[event_id]
    assert event.fields is not None
    assert event.fields.description == "call first"
    assert world.sync().writes == 0


@pytest.mark.parametrize("edited", [True, False])
def test_a_studio_edit_lost_with_an_unlinked_appointment_is_named(
    world: World, edited: bool
) -> None:
    """The Google user deleted the event before the run: the appointment goes (the rule), and
    the report names a studio edit that went with it — and says nothing when there was none."""
    event_id, item_id = google_made(world)
    if edited:
        world.schedule.edit(USER, item_id, location="Studio 2")
    world.calendar.external_delete(CAL, event_id)

    report = world.sync()

    assert world.items() == {}
    lost = [w for w in report.warnings if "the change with it" in w]
    assert len(lost) == (1 if edited else 0), report.warnings

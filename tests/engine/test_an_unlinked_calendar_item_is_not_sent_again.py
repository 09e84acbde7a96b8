"""``RemoteDeletion.UNLINK`` on the calendar ("forget the link, touch neither side"), and the
unlinked appointment deleted in Google while inbound sync is off (its link is dropped): the
studio item stays and is not sent to Google again until the studio edits it. Before, the next
run created its event again, undoing the Google user's deletion without a word."""

from __future__ import annotations

import pytest
from studio_world import CAL, USER, World, appointment, session, timed

from calsync import DeletionRules, EventFields, RemoteDeletion


def unlinked(world: World, kind: str) -> None:
    unlink = RemoteDeletion.UNLINK
    rules = (
        DeletionRules(session=unlink) if kind == "session" else DeletionRules(appointment=unlink)
    )
    world.options(deletion_rules=rules)
    world.schedule.add(USER, session("x1") if kind == "session" else appointment("x1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_delete(CAL, event_id)
    assert world.sync().counts == {"forgotten": 1}


@pytest.mark.parametrize("kind", ["session", "appointment"])
def test_an_unlinked_item_is_not_sent_again(world: World, kind: str) -> None:
    unlinked(world, kind)

    later = [world.sync(), world.sync()]

    assert [r.writes for r in later] == [0, 0], [r.counts for r in later]
    assert world.events() == {}  # the Google user's deletion stands
    assert "x1" in world.items()  # the studio keeps its item


@pytest.mark.parametrize("kind", ["session", "appointment"])
def test_an_unlinked_item_edited_in_the_studio_is_sent_again(world: World, kind: str) -> None:
    unlinked(world, kind)
    world.sync()
    world.schedule.edit(USER, "x1", location="Town hall")

    report = world.sync()

    assert report.writes == 1, report.counts
    ((event),) = world.events().values()
    assert event.fields is not None
    assert event.fields.location == "Town hall"
    assert world.sync().writes == 0


def test_an_unlinked_appointment_deleted_in_google_with_inbound_off_stays_deleted(
    world: World,
) -> None:
    made = world.calendar.external_create(CAL, EventFields("Lunch", when=timed(2)))
    world.sync()  # comes in as an unlinked appointment
    world.options(inbound_calendar=False)
    world.sync()
    world.calendar.external_delete(CAL, made.id)
    assert world.sync().counts == {"forgotten": 1}  # the link dropped (inbound off)

    later = [world.sync(), world.sync()]

    assert [r.writes for r in later] == [0, 0], [r.counts for r in later]
    assert world.events() == {}

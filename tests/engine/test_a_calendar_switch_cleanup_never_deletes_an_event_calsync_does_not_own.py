"""``cleanup_old_calendar`` deletes only events calsync made: an event under calsync's id for an
item is read first, and deleted only when it is live and carries calsync's marker for that
item, on the etag read. Anyone who may write to a shared calendar can make an event under such
an id (the ids are derived from what others know): that event survives the switch, whether the
id came with a create journaled and never recorded or with a pair."""

from __future__ import annotations

import attrs
import pytest
from studio_world import CAL, USER, World, session, timed

from calsync import EventFields, ItemKind
from calsync.backends import RemoteEvent
from calsync.ids import event_id_for
from calsync.model import Marker
from calsync.testing import MemoryCalendarBackend, SimulatedCrash

OTHER = "other@group.calendar.google.com"

#: Whose event holds calsync's id for the item: a colleague's, or another studio's calsync's
#: (an event there with no marker is calsync's own, its marker dropped: see
#: test_an_event_id_taken_by_someone_else_does_not_block_the_item.py).
HOLDERS = pytest.mark.parametrize(
    "holder",
    [Marker("studio.u8", "b1"), Marker("other-studio.u1", "s1")],
    ids=["a colleague's", "another studio's"],
)


def switch_to(world: World, calendar_id: str, **options: object) -> None:
    world.profile = attrs.evolve(world.profile, calendar_id=calendar_id)
    if options:
        world.options(**options)


@HOLDERS
def test_the_event_holding_the_id_of_a_create_journaled_and_never_recorded_survives(
    world: World, holder: Marker
) -> None:
    """The item's event was made under an id the calendar chose (its own was taken), and the
    run crashed before recording it: the intent stays pending. The switch's clean-up deletes
    calsync's recorded event, and leaves the other event (and the one made under the
    calendar's id, which calsync cannot prove it made)."""
    world.calendar.add_calendar(OTHER)
    world.schedule.add(USER, session("s1"))
    assert world.sync().ok
    pid = world.profile.id
    taken = event_id_for(pid, "a9")
    theirs = world.calendar.external_create(
        CAL, EventFields("Someone else's event", when=timed(9)), event_id=taken, marker=holder
    )
    world.schedule.add(USER, session("a9", day=5))
    world.calendar.crash_after_next("write_events")
    with pytest.raises(SimulatedCrash):
        world.sync()
    [made] = [e for e in world.events().values() if e.marker == Marker(pid, "a9")]
    assert made.id != taken

    switch_to(world, OTHER, cleanup_old_calendar=True)
    report = world.sync()

    assert report.ok, report.summary()
    assert world.events() == {taken: theirs, made.id: made}
    assert world.calendar.events(CAL, include_deleted=True)[event_id_for(pid, "s1")].deleted
    assert f"removed 1 of calsync's events from {CAL}" in report.warnings
    assert f"events left in {CAL} under calsync's ids, which calsync cannot prove it made: 1" in (
        report.warnings
    )


def test_a_google_event_paired_under_calsyncs_id_for_its_item_survives(world: World) -> None:
    """The Google user made an event under the id calsync would give the studio item it
    becomes (the studio's ids can be foreseen): the pair holds calsync's id for the item, but
    the event carries no marker of calsync's. It is the user's, and stays."""
    world.calendar.add_calendar(OTHER)
    foreseen = event_id_for(world.profile.id, "u1")
    theirs = world.calendar.external_create(
        CAL, EventFields("Dentist", when=timed(5, 15)), event_id=foreseen
    )
    assert world.sync().ok
    [(item_id, item)] = world.items().items()
    assert (item_id, item.kind, item.remote_id) == ("u1", ItemKind.UNLINKED, foreseen)

    switch_to(world, OTHER, cleanup_old_calendar=True)
    report = world.sync()

    assert report.ok, report.summary()
    assert world.events() == {foreseen: theirs}
    assert not any(w.startswith("removed") for w in report.warnings), report.warnings
    assert set(world.items()) == {"u1"}


class EditedOnceRead(MemoryCalendarBackend):
    """A calendar whose user edits one event just after calsync has read it."""

    edited_after_reading: str | None = None

    def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent | None:
        event = super().get_event(calendar_id, event_id)
        if event_id == self.edited_after_reading:
            self.edited_after_reading = None
            self.external_update(calendar_id, event_id, title="Moved by the user")
        return event


def test_an_event_of_calsyncs_changed_after_it_was_read_is_not_deleted(world: World) -> None:
    world.calendar = EditedOnceRead(now=world.clock, calendars=[CAL, OTHER])
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, session("s2", day=4))
    assert world.sync().ok
    edited = event_id_for(world.profile.id, "s1")
    world.calendar.edited_after_reading = edited

    switch_to(world, OTHER, cleanup_old_calendar=True)
    report = world.sync()

    assert report.ok, report.summary()
    [left] = world.events().values()
    assert (left.id, left.fields and left.fields.title) == (edited, "Moved by the user")
    assert f"removed 1 of calsync's events from {CAL}" in report.warnings
    assert f"1 of calsync's events in {CAL} could not be removed" in report.warnings

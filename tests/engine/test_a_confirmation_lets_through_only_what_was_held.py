"""A confirmation (``confirm_deletions=True``) lets through the deletions the last run held,
which the user was told about, and nothing else: deletions made since — more of the same
side, the other side, the other channel — are weighed against the limit as any run's are.
Before, a confirmation let every deletion of the confirming run through, held or not."""

from __future__ import annotations

from studio_world import CAL, GROUP, USER, World, client, session, timed

from calsync import EventFields, Side
from calsync.model import Channel


def sessions(world: World, count: int) -> None:
    for number in range(count):
        world.schedule.add(USER, session(f"s{number}", day=1 + number % 20))


def test_deletions_made_after_the_report_are_held_not_confirmed(world: World) -> None:
    sessions(world, 30)
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")
    assert len(world.sync().held) == 8
    for number in range(8, 30):  # then the rest goes too (a bad import, a purge by mistake)
        world.schedule.remove(USER, f"s{number}")

    confirmed = world.sync(confirm_deletions=True)

    assert confirmed.count(Side.REMOTE, "deleted") == 8, confirmed.summary()
    assert len(confirmed.held) == 22
    assert len(world.events()) == 22
    again = world.sync(confirm_deletions=True)  # confirming what the last run held: the 22
    assert again.count(Side.REMOTE, "deleted") == 22
    assert world.events() == {}


def test_a_confirmation_of_studio_deletions_does_not_carry_google_deletions(
    world: World,
) -> None:
    made = [
        world.calendar.external_create(CAL, EventFields(f"G{n}", when=timed(2 + n)))
        for n in range(8)
    ]
    sessions(world, 8)
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")
    assert {held.side for held in world.sync().held} == {Side.REMOTE}
    for event in made:  # before the confirmation, the Google user deletes their events
        world.calendar.external_delete(CAL, event.id)

    confirmed = world.sync(confirm_deletions=True)

    assert confirmed.count(Side.REMOTE, "deleted") == 8
    assert confirmed.count(Side.HOST, "deleted") == 0, confirmed.summary()
    assert {held.side for held in confirmed.held} == {Side.HOST}
    assert len(world.items()) == 8  # the unlinked appointments, held


def test_a_confirmation_of_calendar_deletions_does_not_carry_contact_deletions(
    world: World,
) -> None:
    world.options(contacts=True, client_group=GROUP)
    for number in range(10):
        world.clients.add(USER, client(f"c{number}", given=f"N{number}"), groups=[GROUP])
    sessions(world, 10)
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")
    assert {held.channel for held in world.sync().held} == {Channel.CALENDAR}
    for number in range(8):
        world.clients.remove_from_group_by_user(USER, GROUP, f"c{number}")

    confirmed = world.sync(confirm_deletions=True)

    assert confirmed.count(Side.REMOTE, "deleted") == 8, confirmed.summary()
    assert {held.channel for held in confirmed.held} == {Channel.CONTACTS}
    assert len(world.contacts.contacts(GROUP)) == 10


def test_a_confirmation_after_a_dry_run_only_holds_what_it_finds(world: World) -> None:
    """A dry run writes nothing, not even what it would hold: confirming what only a dry run
    showed confirms nothing yet, and the deletions are held (and recorded) for a confirmation."""
    sessions(world, 10)
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")
    assert len(world.sync(dry_run=True).held) == 8

    first = world.sync(confirm_deletions=True)
    second = world.sync(confirm_deletions=True)

    assert (len(first.held), first.count(Side.REMOTE, "deleted")) == (8, 0)
    assert (len(second.held), second.count(Side.REMOTE, "deleted")) == (0, 8)


def test_a_quiet_run_after_a_hold_writes_no_state(world: World) -> None:
    sessions(world, 10)
    world.sync()
    for number in range(8):
        world.schedule.remove(USER, f"s{number}")
    world.sync()

    again = world.sync()

    assert len(again.held) == 8
    assert again.writes == 0

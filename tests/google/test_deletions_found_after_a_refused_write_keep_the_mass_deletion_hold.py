"""Deletions a run finds only when Google refuses one of its writes (412: the event changed,
here: was deleted, after the run read it) are weighed together against the mass-deletion
hold, as the plan's are: a mass deletion is held until the user confirms it, a single one
goes at once. Deleting each one as it was found would let a mass deletion in Google empty the
studio without the user's confirmation (emulator, real client, through the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import EventFields, Side
from calsync.backends import RemoteEvent

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

COUNT = 8


def deleted_in_google_once_read(w: GoogleWorld, event_ids: list[str]) -> object:
    """A checkpoint that deletes the events in Google after the run read the calendar (the
    first call, before the listing, does nothing; the next comes before the first writes)."""
    calls = 0

    def checkpoint() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            for event_id in event_ids:
                w.calendar_user.external_delete(w.calendar_id, event_id)

    return checkpoint


def meetings_made_in_google(w: GoogleWorld, studio: StudioBuilders) -> list[RemoteEvent]:
    """COUNT events the Google user made: unlinked appointments once synced."""
    return [
        w.calendar_user.external_create(
            w.calendar_id, EventFields(f"Meeting {n}", when=studio.timed(n + 1, hour=9))
        )
        for n in range(COUNT)
    ]


def renamed_in_the_studio(w: GoogleWorld, studio: StudioBuilders) -> None:
    for item_id, item in w.items().items():
        w.schedule.edit(studio.user, item_id, title=f"{item.title} (studio)")


def test_unlinked_appointments_deleted_in_google_while_the_run_writes_them_are_held_in_bulk(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    made = meetings_made_in_google(w, studio)
    assert w.sync().count(Side.HOST, "created") == COUNT
    renamed_in_the_studio(w, studio)  # an update to Google each

    racing = w.sync(checkpoint=deleted_in_google_once_read(w, [e.id for e in made]))

    assert racing.count(Side.HOST, "deleted") == 0
    assert len(racing.held) == COUNT
    assert len(w.items()) == COUNT
    after = w.sync()  # found again, in the listing: held again
    assert len(after.held) == COUNT  # every unlinked appointment: a mass deletion
    assert len(w.items()) == COUNT
    confirmed = w.sync(confirm_deletions=True)
    assert confirmed.count(Side.HOST, "deleted") == COUNT
    assert w.items() == {}


def test_confirming_the_deletions_a_refused_write_found_lets_them_through_at_once(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """The user confirms what the racing run reported: one confirmation is enough."""
    w = world(contacts=False, inbound_calendar=True)
    made = meetings_made_in_google(w, studio)
    w.sync()
    renamed_in_the_studio(w, studio)
    racing = w.sync(checkpoint=deleted_in_google_once_read(w, [e.id for e in made]))
    assert len(racing.held) == COUNT

    confirmed = w.sync(confirm_deletions=True)

    assert confirmed.held == []
    assert confirmed.count(Side.HOST, "deleted") == COUNT
    assert w.items() == {}


def test_one_unlinked_appointment_deleted_in_google_while_the_run_writes_it_goes_at_once(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    made = meetings_made_in_google(w, studio)
    w.sync()
    [gone] = [i for i, item in w.items().items() if item.remote_id == made[0].id]
    w.schedule.edit(studio.user, gone, title="Meeting 0 (studio)")

    report = w.sync(checkpoint=deleted_in_google_once_read(w, [made[0].id]))

    assert report.ok, report.summary()
    assert report.held == []
    assert report.count(Side.HOST, "deleted") == 1
    assert gone not in w.items()
    assert len(w.items()) == COUNT - 1
    assert w.sync().writes == 0

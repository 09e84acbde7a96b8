"""Switching a user's sync back to a calendar, against the emulator with the real Google
client: an unlinked appointment whose Google event the user deleted there meanwhile stays in
the studio and is written again; a session converted meanwhile takes back the event its
appointment came from (one event, no appointment coming back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pytest

from calsync import EventFields, ItemKind, Side

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def switch_to(world: GoogleWorld, calendar_id: str) -> None:
    world.profile = attrs.evolve(world.profile, calendar_id=calendar_id)


def test_an_appointment_whose_event_was_deleted_while_away_is_written_again(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    first = w.calendar_id
    made = w.calendar_user.external_create(first, EventFields("Dentist", when=studio.timed(5)))
    w.sync()
    (unlinked_id,) = w.items()
    switch_to(w, w.account.calendar.create_calendar("Other", "Europe/London").id)
    assert w.sync().ok
    w.calendar_user.external_delete(first, made.id)
    switch_to(w, first)

    report = w.sync()

    assert report.ok, report.summary()
    assert report.count(Side.HOST, "deleted") == 0, report.summary()
    assert list(w.items()) == [unlinked_id]
    assert [e["summary"] for e in w.events()] == ["Dentist"]
    assert w.sync().writes == 0


def test_a_session_converted_while_away_takes_back_the_event_it_came_from(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    first = w.calendar_id
    made = w.calendar_user.external_create(first, EventFields("Call Ann", when=studio.timed(5)))
    w.sync()
    (unlinked_id,) = w.items()
    switch_to(w, w.account.calendar.create_calendar("Other", "Europe/London").id)
    assert w.sync().ok
    session = w.schedule.convert(
        studio.user, unlinked_id, client=studio.ann, session_type="Portrait"
    )
    assert w.sync().ok
    switch_to(w, first)

    report = w.sync()

    assert report.ok, report.summary()
    assert [(i.id, i.kind) for i in w.items().values()] == [(session.id, ItemKind.SESSION)]
    assert [e["id"] for e in w.events()] == [made.id]
    assert w.sync().writes == 0

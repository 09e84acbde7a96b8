"""A profile whose calendar is Google's ``primary`` (an id every account has) and whose user
connects Google again with another account: the next run pairs with the new account's
primary calendar as a calendar switch. The unlinked appointments that came from the first
account stay in the studio, nothing is reported "deleted in Google", and the schedule is
written to the new account (emulator, real client, through the engine)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import pytest
from tests.google.conftest import CalendarUser

from calsync import EventFields, ItemKind, Side
from calsync.google.account import GoogleAccount

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def on_primary(w: GoogleWorld) -> GoogleWorld:
    w.profile = attrs.evolve(w.profile, calendar_id="primary")
    return w


def test_connecting_another_account_keeps_the_studios_appointments_from_the_first(
    world: MakeWorld, studio: StudioBuilders, account_for: Callable[..., GoogleAccount]
) -> None:
    w = on_primary(world(contacts=False, inbound_calendar=True))
    w.schedule.add(studio.user, studio.session("s1", day=2))
    for n in range(3):  # made by the user in Google: they come to the studio
        w.calendar_user.external_create(
            "primary", EventFields(f"Personal {n}", when=studio.timed(3 + n, hour=9))
        )
    first = w.sync()
    assert first.count(Side.HOST, "created") == 3
    before = w.items()

    other = f"other-account-{uuid.uuid4().hex}"  # the user picks another account
    w.account = account_for(other)
    switched = w.sync()

    assert switched.ok, switched.summary()
    assert switched.count(Side.HOST, "deleted") == 0
    assert w.items().keys() == before.keys()
    assert not [m for m in switched.warnings if "deleted in Google" in m]
    assert [m for m in switched.warnings if "the calendar changed" in m]
    titles = sorted(e["summary"] for e in CalendarUser(w.google, other).live_events("primary"))
    assert len(titles) == 4  # the session and the studio's three appointments
    assert w.sync().writes == 0


def test_a_profile_paired_with_primary_before_identities_is_not_switched(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """An installation that recorded the alias itself keeps its pairs on the same account."""
    w = on_primary(world(contacts=False, inbound_calendar=True))
    w.schedule.add(studio.user, studio.session("s1", day=2))
    w.sync()
    w.store.set_paired_calendar(w.profile.id, "primary")  # as an older calsync recorded it

    again = w.sync()

    assert again.ok, again.summary()
    assert not [m for m in again.warnings if "the calendar changed" in m]
    assert again.writes == 0
    assert [i.kind for i in w.items().values()] == [ItemKind.SESSION]


def test_a_profile_paired_with_primary_before_identities_and_moved_to_another_account_is_switched(
    world: MakeWorld, studio: StudioBuilders, account_for: Callable[..., GoogleAccount]
) -> None:
    """An older calsync recorded the alias; the user connected another account before this
    version ran: the first account's events, not found in the new primary, make it a switch,
    and nothing is cleaned through the alias (it names the new account's calendar now)."""
    w = on_primary(world(contacts=False, inbound_calendar=True, cleanup_old_calendar=True))
    w.schedule.add(studio.user, studio.session("s1", day=2))
    for n in range(3):
        w.calendar_user.external_create(
            "primary", EventFields(f"Personal {n}", when=studio.timed(3 + n, hour=9))
        )
    w.sync()
    before = w.items()
    w.store.set_paired_calendar(w.profile.id, "primary")  # as an older calsync recorded it
    other = f"other-account-{uuid.uuid4().hex}"
    w.account = account_for(other)

    switched = w.sync()

    assert switched.ok, switched.summary()
    assert switched.count(Side.HOST, "deleted") == 0
    assert w.items().keys() == before.keys()
    assert not [m for m in switched.warnings if "deleted in Google" in m]
    assert [m for m in switched.warnings if "another account's" in m]
    assert len(CalendarUser(w.google, other).live_events("primary")) == 4
    assert len(w.calendar_user.live_events("primary")) == 4  # the first account's, untouched

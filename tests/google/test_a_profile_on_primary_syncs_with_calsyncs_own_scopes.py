"""A profile on Google's ``primary``, connected with exactly the scopes calsync asks for.

calsync resolved ``primary`` to the calendar's own id with ``calendars.get``, which none of
calsync's scopes covers (Google lists only ``calendar``, ``calendar.readonly``,
``calendar.calendars[.readonly]`` and, for the app's own calendars, ``calendar.app.created``):
with real Google every profile on ``primary`` was refused (403
``ACCESS_TOKEN_SCOPE_INSUFFICIENT``) and its calendar channel waited for an access the user had
given. Now ``primary`` is resolved with ``calendarList.get``, which
``calendar.calendarlist.readonly`` covers; a token that lacks even that pairs with the alias.

End to end: the engine, the real google-api-python-client and the emulator, whose tokens are
minted with the scopes named (it refuses what they do not cover, as Google does)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import attrs
import pytest
from tests.google.conftest import CalendarUser, GoogleWorld

from calsync import EventFields, Side
from calsync.google.account import GoogleAccount
from calsync.google.auth import CALENDAR_EVENTS, CONTACTS, scopes_for
from calsync.model import Channel
from calsync.testing.emulator import GoogleEmulator

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator

#: Each flow a host can offer with a calendar the user chooses (``scopes_for`` options).
CHOOSING_FLOWS = {
    "default": scopes_for(),
    "choose only": scopes_for(create_calendar=False),
    "no contacts": scopes_for(contacts=False),
    "choose only, no contacts": scopes_for(create_calendar=False, contacts=False),
}
#: Where push notifications would go (nothing listens: deliveries are refused at once).
ADDRESS = "http://127.0.0.1:9/google/notifications"


def connected_with(
    w: GoogleWorld,
    scopes: Sequence[str],
    account_for: Callable[..., GoogleAccount],
    email: str | None = None,
) -> GoogleAccount:
    """The backends of a token granted only ``scopes`` for the world's account (or
    ``email``'s), as the OAuth flows store it."""
    email = email or w.google.account(w.token).email
    access, _ = w.google.issue_tokens(email, " ".join(scopes))
    return account_for(access)


def on_primary(w: GoogleWorld, studio: StudioBuilders) -> GoogleWorld:
    """The world's profile on ``primary``, with a session (and a client, with contacts)."""
    w.profile = attrs.evolve(w.profile, calendar_id="primary")
    w.schedule.add(studio.user, studio.session("s1", day=2))
    if w.profile.options.contacts:
        w.clients.add(studio.user, studio.client("c1", "Bea"), groups=[studio.group])
    return w


def made_in_google(w: GoogleWorld, studio: StudioBuilders) -> None:
    w.calendar_user.external_create("primary", EventFields("Dentist", when=studio.timed(4)))


@pytest.mark.parametrize("scopes", CHOOSING_FLOWS.values(), ids=CHOOSING_FLOWS.keys())
def test_a_profile_on_primary_syncs_with_the_scopes_calsync_asks_for(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
    scopes: tuple[str, ...],
) -> None:
    w = on_primary(world(contacts=CONTACTS in scopes, inbound_calendar=True), studio)
    made_in_google(w, studio)
    w.account = connected_with(w, scopes, account_for)
    google.reset_stats()

    first = w.sync()
    again = w.sync()

    assert (first.ok, first.not_authorised) == (True, []), first.summary()
    assert first.count(Side.REMOTE, "created", Channel.CALENDAR) == 1
    assert first.count(Side.HOST, "created", Channel.CALENDAR) == 1  # the one made in Google
    assert len(w.calendar_user.live_events("primary")) == 2
    if CONTACTS in scopes:
        assert len(w.group_members()) == 1
    assert (again.ok, again.writes) == (True, 0), again.summary()
    assert google.stats()["scope_rejections"] == 0
    assert w.store.get_paired_calendar(w.profile.id) == google.account(w.token).email


def test_a_dedicated_calendar_syncs_with_the_scopes_of_a_host_that_only_creates_one(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
) -> None:
    """``calendar.app.created`` and Contacts alone: the calendar calsync made, its events,
    its push channels and the client group."""
    w = world(contacts=True)
    w.account = connected_with(w, scopes_for(choose_calendar=False), account_for)
    made = w.account.calendar.create_calendar("Studio", "Europe/London")
    w.profile = attrs.evolve(w.profile, calendar_id=made.id)
    w.schedule.add(studio.user, studio.session("s1", day=2))
    w.clients.add(studio.user, studio.client("c1", "Bea"), groups=[studio.group])
    google.reset_stats()

    report = w.sync()
    calendar = w.account.calendar
    channel = calendar.watch_events(made.id, "c1", ADDRESS, "t", timedelta(hours=1))
    calendar.stop_channel(channel.channel_id, channel.resource_id)

    assert (report.ok, report.not_authorised) == (True, []), report.summary()
    assert len(w.calendar_user.live_events(made.id)) == 1
    assert len(w.group_members()) == 1
    assert google.stats()["scope_rejections"] == 0


def test_primary_is_paired_as_the_alias_when_the_calendar_list_is_not_allowed(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A token without the calendar list (granted before calsync asked for it, or the list
    unticked on Google's consent page) still syncs ``primary``: one refused call a run, and a
    log line that says why the alias is paired."""
    w = on_primary(world(contacts=False), studio)
    w.account = connected_with(w, [CALENDAR_EVENTS], account_for)
    google.reset_stats()

    with caplog.at_level(logging.INFO, logger="calsync.google.calendar"):
        report = w.sync()

    assert (report.ok, report.not_authorised) == (True, []), report.summary()
    assert len(w.calendar_user.live_events("primary")) == 1
    assert google.stats()["scope_rejections"] == 1
    assert google.stats()["methods"]["calendar.calendarList.get"] == 1
    assert w.store.get_paired_calendar(w.profile.id) == "primary"
    assert [r for r in caplog.records if "calendar list" in r.getMessage()]


def test_connecting_another_account_with_calsyncs_scopes_is_a_calendar_switch(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
) -> None:
    w = on_primary(world(contacts=False, inbound_calendar=True), studio)
    made_in_google(w, studio)
    w.account = connected_with(w, scopes_for(contacts=False), account_for)
    first = w.sync()
    before = w.items()
    other = f"other-{uuid.uuid4().hex}@example.com"  # the user picks another account
    w.account = connected_with(w, scopes_for(contacts=False), account_for, email=other)
    google.reset_stats()

    switched = w.sync()

    assert first.ok, first.summary()
    assert (switched.ok, switched.not_authorised) == (True, []), switched.summary()
    assert switched.count(Side.HOST, "deleted") == 0
    assert w.items().keys() == before.keys()
    assert [m for m in switched.warnings if "the calendar changed" in m]
    theirs = CalendarUser(google, other).live_events("primary")
    assert len(theirs) == 2  # the session, and the appointment that came from the first
    assert len(w.calendar_user.live_events("primary")) == 2  # the first account's, untouched
    assert w.store.get_paired_calendar(w.profile.id) == other
    assert google.stats()["scope_rejections"] == 0


@pytest.mark.parametrize("cleanup", [False, True], ids=["keep old", "clean old"])
def test_the_same_account_reconnected_without_the_calendar_list_is_not_a_switch(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
    cleanup: bool,
) -> None:
    """Paired with ``primary``'s own id, then the user reconnects the same account and
    unticks the calendar list: ``primary`` can no longer be resolved, which must not read as
    another calendar (a switch would import the user's own events again as new unlinked
    appointments, and with ``cleanup_old_calendar`` delete calsync's events from the very
    calendar it then writes to)."""
    w = on_primary(
        world(contacts=False, inbound_calendar=True, cleanup_old_calendar=cleanup), studio
    )
    made_in_google(w, studio)
    w.account = connected_with(w, scopes_for(contacts=False), account_for)
    first = w.sync()
    before = w.items()
    events = {e["id"]: e["etag"] for e in w.calendar_user.live_events("primary")}
    w.account = connected_with(w, [CALENDAR_EVENTS], account_for)  # the list unticked

    again = w.sync()

    assert first.ok, first.summary()
    assert (again.ok, again.writes) == (True, 0), again.summary()
    assert not [m for m in again.warnings if "calendar" in m and "changed" in m], again.warnings
    assert w.items().keys() == before.keys()
    assert {e["id"]: e["etag"] for e in w.calendar_user.live_events("primary")} == events
    assert w.store.get_paired_calendar(w.profile.id) == google.account(w.token).email
    assert w.sync().writes == 0


def test_another_account_connected_without_the_calendar_list_is_a_switch(
    world: MakeWorld,
    studio: StudioBuilders,
    google: GoogleEmulator,
    account_for: Callable[..., GoogleAccount],
) -> None:
    """Paired with the first account's primary; the token now is another account's, without
    the calendar list: none of the pairs is in that calendar, so it is a switch, and the first
    account's events (out of this token's reach) are left as they are."""
    w = on_primary(world(contacts=False, inbound_calendar=True, cleanup_old_calendar=True), studio)
    made_in_google(w, studio)
    w.account = connected_with(w, scopes_for(contacts=False), account_for)
    assert w.sync().ok
    before = w.items()
    other = f"other-{uuid.uuid4().hex}@example.com"
    w.account = connected_with(w, [CALENDAR_EVENTS], account_for, email=other)

    switched = w.sync()

    assert switched.ok, switched.summary()
    assert switched.count(Side.HOST, "deleted") == 0
    assert w.items().keys() == before.keys()
    assert [m for m in switched.warnings if "another account" in m], switched.warnings
    assert len(CalendarUser(google, other).live_events("primary")) == 2
    assert len(w.calendar_user.live_events("primary")) == 2  # the first account's, untouched
    assert w.sync().writes == 0

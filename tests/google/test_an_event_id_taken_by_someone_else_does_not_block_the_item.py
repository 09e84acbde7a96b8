"""calsync's event ids are deterministic (the profile and the host item): a colleague's calsync on
a shared calendar can make an event under the id of a studio item that does not exist yet.
When the item comes, its create meets that event, which carries another marker: the item is
made under an id Google chooses, once, and the other event is never written to. An event under
calsync's own id with no marker at all is calsync's own, whose marker another app's full
update dropped: it is taken over, never doubled. On the emulator with the real
google-api-python-client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from calsync import Side
from calsync.backends import EventWrite
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.markers import MARKER_ITEM, MARKER_PROFILE
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker
from calsync.testing import SimulatedCrash

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

#: calsync's id for the studio item ``a9``, taken before the item exists.
TAKEN = event_id_for("studio.u7", "a9")

#: Whose event holds the id: a colleague's (another profile), or another item's.
HOLDERS = pytest.mark.parametrize(
    "holder",
    [Marker("studio.u8", "b1"), Marker("studio.u7", "b1")],
    ids=["a colleague's", "another item's"],
)


def writes(w: GoogleWorld) -> dict[str, int]:
    """The emulator's count of write calls since its stats were last reset."""
    methods: dict[str, int] = w.google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith((".list", ".get", ".instances"))}


def stored(w: GoogleWorld, event_id: str) -> dict[str, Any]:
    """The event as Google stores it."""
    event: dict[str, Any] = w.google.account(w.token).calendar(w.calendar_id).events[event_id]
    return event


def ours_for(w: GoogleWorld, host_id: str) -> list[dict[str, Any]]:
    """The live events carrying calsync's marker for ``host_id``."""
    return [
        e
        for e in w.events()
        if (e.get("extendedProperties") or {}).get("private", {}).get(MARKER_ITEM) == host_id
        and e["extendedProperties"]["private"].get(MARKER_PROFILE) == "studio.u7"
    ]


def paired(w: GoogleWorld, host_id: str) -> str:
    return w.store.mappings("studio.u7", Channel.CALENDAR)[host_id].remote_id


def taken_before_the_item_comes(
    w: GoogleWorld, studio: StudioBuilders, holder: Marker
) -> dict[str, Any]:
    """Someone makes an event under ``a9``'s id; then the studio makes ``a9``. The event that
    holds the id, as it was made."""
    fields = EventFields("Someone else's event", when=studio.timed(9))
    w.calendar_user.external_create(w.calendar_id, fields, event_id=TAKEN, marker=holder)
    w.schedule.add(studio.user, studio.session("a9", day=5))
    return stored(w, TAKEN)


def untouched(w: GoogleWorld, holder: dict[str, Any]) -> None:
    """The event that holds the id is as its maker left it: never written to."""
    now = stored(w, TAKEN)
    keys = ("status", "etag", "summary", "start", "end", "extendedProperties")
    assert {k: now.get(k) for k in keys} == {k: holder.get(k) for k in keys}


@HOLDERS
def test_an_item_whose_id_another_event_holds_is_made_under_an_id_google_chooses(
    world: MakeWorld, studio: StudioBuilders, holder: Marker
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    assert w.sync().ok
    theirs = taken_before_the_item_comes(w, studio, holder)
    w.google.reset_stats()

    report = w.sync()

    assert (report.ok, report.errors) == (True, []), report.summary()
    assert report.count(Side.REMOTE, "created") == 1
    # the insert under calsync's id (refused: 409), the event read, the insert without an id
    assert writes(w) == {"calendar.events.insert": 2}
    assert w.google.stats()["methods"].get("calendar.events.get") == 1
    [event] = ours_for(w, "a9")
    assert event["id"] != TAKEN
    assert event["summary"] == "Wedding - Ann Smith"  # (the item's, from its template)
    assert paired(w, "a9") == event["id"]
    untouched(w, theirs)
    items = w.items()

    quiet = w.sync()
    w.google.expire_sync_tokens()
    full = w.sync()
    w.clock.advance(days=1)
    next_day = w.sync()

    for run in (quiet, full, next_day):
        assert (run.ok, run.writes, run.errors, run.warnings) == (True, 0, [], []), run.summary()
    assert writes(w) == {"calendar.events.insert": 2}  # (nothing since)
    assert w.items() == items
    assert ours_for(w, "a9") == [event]
    untouched(w, theirs)


@HOLDERS
def test_the_item_made_beside_the_other_event_is_synced_as_any_item(
    world: MakeWorld, studio: StudioBuilders, holder: Marker
) -> None:
    """Its pair is any pair's: an edit in the studio reaches it, the item's deletion deletes
    it; the other event is never written to."""
    w = world(contacts=False, inbound_calendar=True)
    theirs = taken_before_the_item_comes(w, studio, holder)
    w.sync()
    [event] = ours_for(w, "a9")

    w.schedule.edit(studio.user, "a9", session_type="Engagement")
    edited = w.sync()

    assert (edited.ok, edited.count(Side.REMOTE, "updated")) == (True, 1), edited.summary()
    [now] = ours_for(w, "a9")
    assert (now["id"], now["etag"] != event["etag"]) == (event["id"], True)
    untouched(w, theirs)

    w.schedule.remove(studio.user, "a9")
    removed = w.sync()

    assert (removed.ok, removed.count(Side.REMOTE, "deleted")) == (True, 1), removed.summary()
    assert ours_for(w, "a9") == []
    assert stored(w, event["id"])["status"] == "cancelled"
    untouched(w, theirs)
    w.google.expire_sync_tokens()
    assert (w.sync().writes, w.sync().writes) == (0, 0)
    untouched(w, theirs)


class CrashingCalendar(GoogleCalendarBackend):
    """Writes to Google, then "dies" before the engine can record what it wrote."""

    def write_events(self, calendar_id: str, writes: Sequence[EventWrite]) -> Any:
        super().write_events(calendar_id, writes)
        raise SimulatedCrash("process died after the calendar batch")


@HOLDERS
def test_a_crash_after_the_item_was_made_beside_the_other_event_duplicates_nothing(
    world: MakeWorld, studio: StudioBuilders, holder: Marker
) -> None:
    """The event made under Google's id is not calsync's id, but it carries the item's marker:
    the next run (a full one: the create's intent is journaled) adopts it, and takes the
    event that holds calsync's id neither for the item's nor for an orphan."""
    w = world(contacts=False, inbound_calendar=True)
    assert w.sync().ok
    theirs = taken_before_the_item_comes(w, studio, holder)
    crashing: Any = object.__new__(CrashingCalendar)
    crashing.__dict__.update(w.account.calendar.__dict__)

    with pytest.raises(SimulatedCrash):
        w.engine.sync(w.profile, crashing, w.account.contacts)
    [made] = ours_for(w, "a9")
    w.google.reset_stats()

    report = w.sync()

    assert (report.ok, report.errors) == (True, []), report.summary()
    assert (report.count(Side.REMOTE, "created"), report.counts["adopted"]) == (0, 1)
    assert writes(w) == {}
    assert ours_for(w, "a9") == [made]
    assert paired(w, "a9") == made["id"]
    untouched(w, theirs)
    assert w.sync().writes == 0


def test_calsyncs_event_whose_marker_another_app_dropped_is_taken_back_not_doubled(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Another app's full ``events.update`` without ``extendedProperties`` drops calsync's
    marker. Once the pair is gone (a switch to another calendar and back), the item's create
    meets its own event under its own id: it takes it back, with the marker, and makes no
    second event."""
    w = world(contacts=False, inbound_calendar=False)
    first = w.calendar_id
    w.schedule.add(studio.user, studio.session("a9", day=5))
    assert w.sync().ok
    service = w.calendar_user.events()
    event = service.get(calendarId=first, eventId=TAKEN).execute()
    event.pop("extendedProperties")
    service.update(calendarId=first, eventId=TAKEN, body=event).execute()
    assert w.sync().writes == 0
    other = w.account.calendar.create_calendar("Studio 2", "Europe/London").id
    w.profile = attrs.evolve(w.profile, calendar_id=other)
    assert w.sync().ok
    w.profile = attrs.evolve(w.profile, calendar_id=first)

    back = w.sync()

    assert (back.ok, back.errors) == (True, []), back.summary()
    [live] = [e for e in w.events() if e.get("status") != "cancelled"]
    assert live["id"] == TAKEN
    assert live["extendedProperties"]["private"][MARKER_ITEM] == "a9"
    assert paired(w, "a9") == TAKEN
    w.google.expire_sync_tokens()
    assert w.sync().writes == 0

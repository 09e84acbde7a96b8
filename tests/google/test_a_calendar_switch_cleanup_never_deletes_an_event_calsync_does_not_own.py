"""``cleanup_old_calendar`` deletes only events calsync made. calsync's event ids are
deterministic (the profile and the host item), so anyone who may write to a shared calendar can
make an event under the id of an item before calsync does: the item's event is then made under
an id Google chooses. When the run crashes before recording it, the create's intent stays
pending; a calendar switch with clean-up then met the other event under calsync's id and
deleted it. Each event under calsync's id is now read first and deleted only when it is live
and carries calsync's marker for its item, with ``If-Match`` on the etag read. On the emulator
with the real google-api-python-client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from calsync.backends import EventWrite
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.markers import MARKER_ITEM, MARKER_PROFILE
from calsync.ids import event_id_for
from calsync.model import EventFields, ItemKind, Marker
from calsync.testing import SimulatedCrash

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

#: calsync's id for the studio item ``a9``, taken before the item exists.
TAKEN = event_id_for("studio.u7", "a9")

#: Whose event holds the id: a colleague's, or another studio's calsync's (one with no marker is
#: calsync's own, its marker dropped: it is taken back).
HOLDERS = pytest.mark.parametrize(
    "holder",
    [Marker("studio.u8", "b1"), Marker("other-studio.u1", "s1")],
    ids=["a colleague's", "another studio's"],
)

KEYS = ("status", "etag", "summary", "start", "end", "extendedProperties")


class CrashingCalendar(GoogleCalendarBackend):
    """Writes to Google, then "dies" before the engine can record what it wrote."""

    def write_events(self, calendar_id: str, writes: Sequence[EventWrite]) -> Any:
        super().write_events(calendar_id, writes)
        raise SimulatedCrash("process died after the calendar batch")


def crash_after_the_batch(w: GoogleWorld) -> None:
    crashing: Any = object.__new__(CrashingCalendar)
    crashing.__dict__.update(w.account.calendar.__dict__)
    with pytest.raises(SimulatedCrash):
        w.engine.sync(w.profile, crashing, w.account.contacts)


def stored(w: GoogleWorld, calendar_id: str, event_id: str) -> dict[str, Any]:
    """The event as Google stores it."""
    event: dict[str, Any] = w.google.account(w.token).calendar(calendar_id).events[event_id]
    return event


def as_made(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in KEYS}


def ours_for(w: GoogleWorld, calendar_id: str, host_id: str) -> list[dict[str, Any]]:
    """The live events in ``calendar_id`` carrying calsync's marker for ``host_id``."""
    return [
        e
        for e in w.calendar_user.live_events(calendar_id)
        if (e.get("extendedProperties") or {}).get("private", {}).get(MARKER_ITEM) == host_id
        and e["extendedProperties"]["private"].get(MARKER_PROFILE) == "studio.u7"
    ]


def switch_with_cleanup(w: GoogleWorld) -> str:
    """The user picks another calendar, with the old one's clean-up on; the old one's id."""
    old = w.calendar_id
    other = w.account.calendar.create_calendar("Studio 2", "Europe/London")
    options = attrs.evolve(w.profile.options, cleanup_old_calendar=True)
    w.profile = attrs.evolve(w.profile, calendar_id=other.id, options=options)
    return old


@HOLDERS
def test_the_event_holding_the_id_of_an_item_made_beside_it_survives_a_crash_and_a_switch(
    world: MakeWorld, studio: StudioBuilders, holder: Marker
) -> None:
    """The item's event is made under an id Google chooses, then the process dies before the
    pair is recorded (its create's intent stays). The switch's clean-up removes calsync's
    recorded event and leaves the other one untouched; the item's own, under Google's id, is
    left too (calsync cannot prove it made it)."""
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    assert w.sync().ok
    fields = EventFields("Someone else's event", when=studio.timed(9))
    w.calendar_user.external_create(w.calendar_id, fields, event_id=TAKEN, marker=holder)
    theirs = as_made(stored(w, w.calendar_id, TAKEN))
    w.schedule.add(studio.user, studio.session("a9", day=5))
    crash_after_the_batch(w)
    [made] = ours_for(w, w.calendar_id, "a9")
    assert made["id"] != TAKEN
    old = switch_with_cleanup(w)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert as_made(stored(w, old, TAKEN)) == theirs
    assert stored(w, old, event_id_for("studio.u7", "s1"))["status"] == "cancelled"
    assert ours_for(w, old, "a9") == [made]
    assert f"removed 1 of calsync's events from {old}" in report.warnings
    assert f"events left in {old} under calsync's ids, which calsync cannot prove it made: 1" in (
        report.warnings
    )
    assert w.google.stats()["methods"].get("calendar.events.delete") == 1
    # the schedule is in the new calendar, once
    assert [len(ours_for(w, w.calendar_id, i)) for i in ("s1", "a9")] == [1, 1]


def test_a_google_event_paired_under_calsyncs_id_for_its_item_survives_a_switch(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """The Google user made an event under the id calsync would give the studio item it
    comes back as (the studio's ids can be foreseen): its pair holds calsync's id for the
    item, but the event carries no marker of calsync's. It is the user's, and stays."""
    w = world(contacts=False, inbound_calendar=True)
    foreseen = event_id_for("studio.u7", "u1")
    fields = EventFields("Dentist", when=studio.timed(5, hour=15))
    w.calendar_user.external_create(w.calendar_id, fields, event_id=foreseen)
    assert w.sync().ok
    [(item_id, item)] = w.items().items()
    assert (item_id, item.kind, item.remote_id) == ("u1", ItemKind.UNLINKED, foreseen)
    theirs = as_made(stored(w, w.calendar_id, foreseen))
    old = switch_with_cleanup(w)

    report = w.sync()

    assert report.ok, report.summary()
    assert as_made(stored(w, old, foreseen)) == theirs
    assert not any(warning.startswith("removed") for warning in report.warnings)
    assert set(w.items()) == {"u1"}


def test_the_event_of_a_create_journaled_and_never_recorded_goes_on_its_etag(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """The ordinary crash: the item's event was made under calsync's own id and never
    recorded. It carries calsync's marker: the clean-up deletes it, with ``If-Match``."""
    w = world(contacts=False)
    assert w.sync().ok
    w.schedule.add(studio.user, studio.session("s1", day=3))
    crash_after_the_batch(w)
    [made] = ours_for(w, w.calendar_id, "s1")
    assert made["id"] == event_id_for("studio.u7", "s1")
    old = switch_with_cleanup(w)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert ours_for(w, old, "s1") == []
    assert f"removed 1 of calsync's events from {old}" in report.warnings
    assert w.google.stats()["methods"].get("calendar.events.delete") == 1
    assert len(ours_for(w, w.calendar_id, "s1")) == 1

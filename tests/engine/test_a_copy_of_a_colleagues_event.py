"""A Google user copies into their own calendar an event calsync made for a colleague: the
copy carries the colleague's marker (Google copies private properties) under an id Google
chose. It is the user's own new event: with inbound sync it comes in as their unlinked
appointment. The colleague's own events, and events of profiles this store does not know,
are left as they were."""

from __future__ import annotations

import attrs
from studio_world import CAL, NOW, Clock, session, timed

from calsync import EventFields, MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.ids import event_id_for
from calsync.model import Marker
from calsync.testing import MemoryCalendarBackend, MemoryScheduleSource

BENS = "ben@group.calendar.google.com"


class Studio:
    """Two staff users, Ann (a) and Ben (b), each with their own calendar, one state store."""

    def __init__(self) -> None:
        self.clock = Clock(NOW)
        self.store = MemoryStateStore()
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL, BENS])
        self.profiles = {
            "st.a": SyncProfile("st.a", "a", CAL, SyncOptions(inbound_calendar=True)),
            "st.b": SyncProfile("st.b", "b", BENS, SyncOptions(inbound_calendar=True)),
        }

    def sync(self, profile_id: str) -> None:
        profile = self.profiles[profile_id]
        engine = SyncEngine(self.store, self.schedule, None, clock=self.clock)
        report = engine.sync(profile, self.calendar, None)
        assert report.ok, report.summary()
        if report.initial_sync_completed:
            options = attrs.evolve(profile.options, initial_sync_pending=False)
            self.profiles[profile_id] = attrs.evolve(profile, options=options)

    def titles(self, user: str) -> list[str]:
        return sorted(item.title for item in self.schedule.items(user).values())


def test_a_copy_of_a_colleagues_event_comes_in_as_the_users_appointment() -> None:
    """Before, it was taken for Ben's event and ignored, run after run, without a word."""
    studio = Studio()
    studio.schedule.add("b", session("s1"))
    studio.sync("st.a")
    studio.sync("st.b")
    bens = studio.calendar.events(BENS)[event_id_for("st.b", "s1")]
    assert bens.fields is not None
    copy = attrs.evolve(bens.fields, title="Second shooter for Ben")
    studio.calendar.external_create(CAL, copy, marker=bens.marker)

    studio.sync("st.a")
    studio.sync("st.a")
    studio.sync("st.b")

    assert studio.titles("a") == ["Second shooter for Ben"]
    assert studio.titles("b") == [""]  # Ben's session (titled by its template in Google)
    assert len(studio.calendar.events(BENS)) == 1


def test_a_colleagues_own_event_on_a_shared_calendar_is_not_imported() -> None:
    studio = Studio()
    studio.profiles["st.b"] = attrs.evolve(studio.profiles["st.b"], calendar_id=CAL)
    studio.schedule.add("b", session("s1"))
    studio.sync("st.b")

    studio.sync("st.a")

    assert studio.titles("a") == []


def test_an_event_of_a_profile_this_store_does_not_know_is_not_imported() -> None:
    """Nothing tells whether it is that profile's (its store is elsewhere): left as it is."""
    studio = Studio()
    studio.calendar.external_create(
        CAL, EventFields("Ben's shoot", when=timed(2)), marker=Marker("elsewhere.b", "s1")
    )

    studio.sync("st.a")

    assert studio.titles("a") == []

"""Two staff users sync one shared Google calendar, inbound on. An event made in Google comes
in to both as an unlinked appointment, and each converts theirs into a session. The first
session written keeps the event; the other gets an event of its own (its pair with the shared
one ends, which is left to the first), the user is told once, and then runs write nothing —
rather than both rewriting the shared event on every run."""

from __future__ import annotations

import attrs
from studio_world import ANN, CAL, NOW, Clock, timed

from calsync import (
    ClientInfo,
    EventFields,
    Marker,
    MemoryStateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.ids import event_id_for
from calsync.testing import MemoryCalendarBackend, MemoryScheduleSource

BEN = ClientInfo("c2", "Ben Jones", phone="+44 20 7946 0002", email="ben@example.com")


class SharedCalendar:
    def __init__(self) -> None:
        self.clock = Clock(NOW)
        self.store = MemoryStateStore()
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL])
        options = SyncOptions(inbound_calendar=True)
        self.profiles = {user: SyncProfile(f"st.{user}", user, CAL, options) for user in "ab"}

    def sync(self, user: str) -> SyncReport:
        profile = self.profiles[user]
        report = SyncEngine(self.store, self.schedule, None, clock=self.clock).sync(
            profile, self.calendar, None
        )
        assert report.ok, report.summary()
        if report.initial_sync_completed:
            options = attrs.evolve(profile.options, initial_sync_pending=False)
            self.profiles[user] = attrs.evolve(profile, options=options)
        return report


def test_the_first_session_keeps_the_shared_event_and_the_other_gets_its_own() -> None:
    shared = SharedCalendar()
    enquiry = shared.calendar.external_create(CAL, EventFields("Enquiry", when=timed(2, 12)))
    shared.sync("a")
    shared.sync("b")
    (ua,) = shared.schedule.items("a")
    (ub,) = shared.schedule.items("b")
    anns = shared.schedule.convert("a", ua, client=ANN, session_type="Portrait")
    bens = shared.schedule.convert("b", ub, client=BEN, session_type="Wedding")

    first = shared.sync("a")
    second = shared.sync("b")
    quiet = [shared.sync(user).writes for user in "abab"]

    assert quiet == [0, 0, 0, 0]
    assert first.warnings == []
    assert [w for w in second.warnings if enquiry.id in w] == [
        f"the session {bens.id} was synced with Google event {enquiry.id}, which another "
        "user's sync has made their own session's; it has been given an event of its own; "
        "that one is left to them"
    ]
    events = shared.calendar.events(CAL)
    assert {e.id: e.marker for e in events.values()} == {
        enquiry.id: Marker("st.a", anns.id),
        event_id_for("st.b", bens.id): Marker("st.b", bens.id),
    }
    shared_fields = events[enquiry.id].fields
    assert shared_fields is not None
    assert shared_fields.title.startswith("Portrait")


def test_it_settles_when_one_user_saw_the_others_session_before_converting() -> None:
    """Ben's sync brings Ann's session's text into his appointment before he converts it, so
    his next sync does not read the event again and stamps it for his session: Ann's sync
    then finds it taken, and gives hers an event of its own. One rewrite, then quiet."""
    shared = SharedCalendar()
    enquiry = shared.calendar.external_create(CAL, EventFields("Enquiry", when=timed(2, 12)))
    shared.sync("a")
    shared.sync("b")
    (ua,) = shared.schedule.items("a")
    (ub,) = shared.schedule.items("b")
    anns = shared.schedule.convert("a", ua, client=ANN, session_type="Portrait")
    shared.sync("a")
    shared.sync("b")  # Ben's appointment takes the title of Ann's session
    bens = shared.schedule.convert("b", ub, client=BEN, session_type="Wedding")

    reports = [shared.sync(user) for user in "baba"]

    assert [r.writes for r in reports[2:]] == [0, 0]
    told = [w for r in reports for w in r.warnings if enquiry.id in w]
    assert len(told) == 1, told
    assert {e.id: e.marker for e in shared.calendar.events(CAL).values()} == {
        enquiry.id: Marker("st.b", bens.id),
        event_id_for("st.a", anns.id): Marker("st.a", anns.id),
    }

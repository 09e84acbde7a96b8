"""A Google user copies into their calendar an event calsync made for a colleague (the copy
carries the colleague's marker); it comes in as the user's unlinked appointment, and the
studio converts that into a session: the same event follows, stamped as the user's session.
The colleague's marker it carried since it came in is no sign that the colleague's sync took
it over, so the session gets no second event."""

from __future__ import annotations

import attrs
from studio_world import ANN, CAL, NOW, Clock, session

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.ids import event_id_for
from calsync.model import Marker
from calsync.testing import MemoryCalendarBackend, MemoryScheduleSource

BENS = "ben@group.calendar.google.com"


def test_a_converted_copy_of_a_colleagues_event_is_the_sessions_event() -> None:
    clock = Clock(NOW)
    store = MemoryStateStore()
    schedule = MemoryScheduleSource(now=clock)
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL, BENS])
    options = SyncOptions(inbound_calendar=True)
    profiles = {
        "a": SyncProfile("st.a", "a", CAL, options),
        "b": SyncProfile("st.b", "b", BENS, options),
    }

    def sync(user: str) -> int:
        report = SyncEngine(store, schedule, None, clock=clock).sync(profiles[user], calendar, None)
        assert report.ok, report.summary()
        profiles[user] = attrs.evolve(
            profiles[user], options=attrs.evolve(options, initial_sync_pending=False)
        )
        return report.writes

    schedule.add("b", session("s1"))
    sync("b")
    bens = calendar.events(BENS)[event_id_for("st.b", "s1")]
    assert bens.fields is not None
    copy = calendar.external_create(CAL, bens.fields, marker=bens.marker)
    sync("a")
    (unlinked_id,) = schedule.items("a")
    converted = schedule.convert("a", unlinked_id, client=ANN, session_type="Portrait")

    sync("a")

    assert [sync("a"), sync("b")] == [0, 0]
    assert {e.id: e.marker for e in calendar.events(CAL).values()} == {
        copy.id: Marker("st.a", converted.id)
    }

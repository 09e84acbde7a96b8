"""A session converted from one occurrence of a Google user's series, whose occurrence the user
deletes in Google: calsync restores it in its place in the series (the occurrence confirmed
again), so the user's undo of the deletion duplicates nothing. Before, the session was restored
as an event of its own; the undone occurrence was then taken for a series split off it, had its
marker stripped, and came in as an unlinked appointment: the session twice in Google, and once
more in the studio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from calsync import EventFields, ItemKind
from calsync.google.translate import event_body

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def occurrences(w: GoogleWorld, series: str) -> list[dict[str, Any]]:
    events = w.calendar_user.events()
    return list(events.instances(calendarId=w.calendar_id, eventId=series).execute()["items"])


def live_single_events(w: GoogleWorld) -> list[dict[str, Any]]:
    stored = w.google.account(w.token).calendar(w.calendar_id).events.values()
    return [e for e in stored if e.get("status") != "cancelled" and "recurrence" not in e]


def test_undoing_the_deletion_of_a_converted_occurrence_duplicates_nothing(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    body = event_body(
        EventFields("Yoga", when=studio.timed(1, hour=9)), None, event_id="lesson0001"
    )
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    w.calendar_user.insert_raw(w.calendar_id, body)
    w.sync()
    third = occurrences(w, "lesson0001")[2]["id"]
    (appointment,) = [i for i in w.items().values() if i.remote_id == third]
    w.schedule.convert(
        studio.user, appointment.id, client=studio.ann, session_type="Portrait", new_id="s9"
    )
    w.sync()
    w.calendar_user.external_delete(w.calendar_id, third)  # the Google user deletes it
    restored = w.sync()
    assert any("restored" in warning for warning in restored.warnings), restored.warnings

    w.calendar_user.patch(w.calendar_id, third, {"status": "confirmed"})  # ... and undoes it
    report = w.sync()

    assert report.ok, report.summary()
    assert not [warning for warning in report.warnings if "split off" in warning]
    kinds = sorted(item.kind.value for item in w.items().values())
    assert kinds == [ItemKind.SESSION.value, *[ItemKind.UNLINKED.value] * 3]
    portraits = [e for e in live_single_events(w) if e.get("summary") == "Portrait - Ann Smith"]
    assert [e["id"] for e in portraits] == [third]
    assert w.sync().writes == 0

"""An occurrence of a Google user's series converted into a session, deleted in Google: the
restore brings the occurrence back in its series (Google never takes an occurrence's id on
create), so a Google user's undo of the deletion finds it there instead of making a second
event. And an occurrence carrying a session's marker beside that session's single event is
never taken for a series "split off" it: nothing splits off a single event. On the emulator
with the real google-api-python-client."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from calsync.backends import CreateEvent
from calsync.errors import AlreadyExists
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.markers import MARKER_ITEM
from calsync.google.translate import event_body
from calsync.ids import event_id_for
from calsync.model import EventFields, Marker, TimeRange

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import CalendarUser

    from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator

S9 = Marker("studio.u7", "s9")
OWN = event_id_for("studio.u7", "s9")
SERIES = "series0001"


def writes(google: GoogleEmulator) -> dict[str, int]:
    """The emulator's count of write calls since its stats were last reset."""
    methods: dict[str, int] = google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith((".list", ".get", ".instances"))}


def instances(user: CalendarUser, calendar_id: str) -> dict[str, dict[str, Any]]:
    request = user.events().instances(calendarId=calendar_id, eventId=SERIES)
    return {item["id"]: item for item in request.execute()["items"]}


@pytest.fixture
def converted(
    calendar_backend: GoogleCalendarBackend, calendar_user: CalendarUser, studio: StudioBuilders
) -> tuple[str, str, EventFields]:
    """The Google user's weekly Yoga, whose third week calsync made session s9's event (the
    session's fields and marker on the occurrence): the calendar, the week's id, the fields."""
    calendar = calendar_backend.list_writable_calendars()[0].id
    body = event_body(EventFields("Yoga", when=studio.timed(1, hour=9)), None, event_id=SERIES)
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    calendar_user.insert_raw(calendar, body)
    third = list(instances(calendar_user, calendar))[2]
    portrait = EventFields("Portrait - Ann Smith", when=studio.timed(15, hour=9))
    calendar_backend.update_event(calendar, third, portrait, S9, None)
    return calendar, third, portrait


@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_the_restore_of_a_deleted_occurrence_confirms_it_again_in_its_series(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    google: GoogleEmulator,
    converted: tuple[str, str, EventFields],
    batched: bool,
) -> None:
    calendar, third, portrait = converted
    calendar_user.external_delete(calendar, third)
    assert third not in instances(calendar_user, calendar)
    google.reset_stats()

    if batched:
        [result] = calendar_backend.write_events(calendar, [CreateEvent(third, portrait, S9)])
        assert result.error is None
        restored = result.item
    else:
        restored = calendar_backend.create_event(calendar, third, portrait, S9)

    assert restored is not None
    assert (restored.id, restored.fields, restored.marker) == (third, portrait, S9)
    assert writes(google) == {"calendar.events.patch": 1}
    back = instances(calendar_user, calendar)[third]
    assert (back["summary"], back["extendedProperties"]["private"][MARKER_ITEM]) == (
        "Portrait - Ann Smith",
        "s9",
    )
    calendar_user.patch(calendar, third, {"status": "confirmed"})  # the Google user's undo
    sessions = [e["id"] for e in calendar_user.live_events(calendar) if e["summary"] != "Yoga"]
    assert sessions == [third]


def test_an_occurrence_restored_twice_is_written_once(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    google: GoogleEmulator,
    converted: tuple[str, str, EventFields],
) -> None:
    """A run that crashed after the restore, before recording it: the next one finds the
    occurrence back already."""
    calendar, third, portrait = converted
    calendar_user.external_delete(calendar, third)
    calendar_backend.create_event(calendar, third, portrait, S9)
    google.reset_stats()

    again = calendar_backend.create_event(calendar, third, portrait, S9)

    assert (again.id, again.deleted, writes(google)) == (third, False, {})


def test_an_occurrence_whose_series_is_gone_is_restored_under_calsyncs_id(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    converted: tuple[str, str, EventFields],
) -> None:
    calendar, third, portrait = converted
    calendar_user.external_delete(calendar, SERIES)

    restored = calendar_backend.create_event(calendar, third, portrait, S9)

    assert (restored.id, restored.fields, restored.marker) == (OWN, portrait, S9)


def test_an_occurrence_another_item_holds_is_not_taken_over(
    calendar_backend: GoogleCalendarBackend,
    converted: tuple[str, str, EventFields],
) -> None:
    calendar, third, portrait = converted

    with pytest.raises(AlreadyExists):
        calendar_backend.create_event(calendar, third, portrait, Marker("studio.u7", "s10"))


def test_an_occurrence_beside_its_sessions_single_event_is_no_split_copy(
    calendar_backend: GoogleCalendarBackend,
    google: GoogleEmulator,
    converted: tuple[str, str, EventFields],
    studio: StudioBuilders,
) -> None:
    """Session s9 restored as a single event under calsync's id (by an earlier calsync),
    then the Google user undid the deletion of its occurrence: both carry s9's marker. The
    occurrence keeps it (the engine settles the two), and nothing is written or reported as
    a split."""
    calendar, third, portrait = converted
    calendar_backend.create_event(calendar, OWN, portrait, S9)
    window = TimeRange(studio.now - timedelta(days=30), studio.now + timedelta(days=731))
    google.reset_stats()

    listing = calendar_backend.list_events(calendar, window, None)

    by_id = {event.id: event for event in listing.items}
    assert (by_id[third].marker, by_id[OWN].marker) == (S9, S9)
    assert writes(google) == {}
    assert not [warning for warning in listing.warnings if "split off" in warning]

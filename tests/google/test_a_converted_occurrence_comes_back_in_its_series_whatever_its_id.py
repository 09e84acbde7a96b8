"""Google's instance ids are opaque since Q3 2026 (its notice: key instances by
``recurringEventId`` and ``originalStartTime``, never parse ids). calsync learns that a deleted
event was an occurrence from what Google says of it, never from the id, so a session converted
from one occurrence of a Google user's series, deleted in Google, comes back in its series in
both formats: ``dated`` (``<series>_<start>``) and ``opaque``. On the emulator (each format in
turn) with the real google-api-python-client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind
from calsync.backends import CreateEvent
from calsync.errors import AlreadyExists
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.markers import MARKER_ITEM
from calsync.google.translate import event_body
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker
from calsync.testing.emulator import GoogleEmulator

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import CalendarUser, GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

SERIES = "lesson0001"
S9 = Marker("studio.u7", "s9")
OWN = event_id_for("studio.u7", "s9")


@pytest.fixture(scope="module", params=["dated", "opaque"])
def emulator_server(request: pytest.FixtureRequest) -> Iterator[GoogleEmulator]:
    """The emulator naming instances in one format (the conftest's ``google`` resets it)."""
    with GoogleEmulator(instance_ids=request.param) as google:
        yield google


def occurrences(user: CalendarUser, calendar_id: str, series: str) -> list[dict[str, Any]]:
    request = user.events().instances(calendarId=calendar_id, eventId=series)
    return list(request.execute()["items"])


def stored(w: GoogleWorld) -> list[dict[str, Any]]:
    """Every live event Google stores: series masters, edited occurrences, single events."""
    events = w.google.account(w.token).calendar(w.calendar_id).events.values()
    return [e for e in events if e.get("status") != "cancelled"]


def carrying(events: list[dict[str, Any]], host_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if (e.get("extendedProperties") or {}).get("private", {}).get(MARKER_ITEM) == host_id
    ]


def paired(w: GoogleWorld, host_id: str) -> str:
    return w.store.mappings("studio.u7", Channel.CALENDAR)[host_id].remote_id


def calls(w: GoogleWorld) -> dict[str, int]:
    """The emulator's count of calls by method since its stats were last reset, listings
    left out."""
    methods: dict[str, int] = w.google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith(".list")}


def weekly_yoga(user: CalendarUser, calendar_id: str, studio: StudioBuilders) -> None:
    body = event_body(EventFields("Yoga", when=studio.timed(1, hour=9)), None, event_id=SERIES)
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    user.insert_raw(calendar_id, body)


def converted(w: GoogleWorld, studio: StudioBuilders) -> str:
    """The Google user's weekly Yoga synced to the studio, whose third week staff converted
    into session s9 (synced): the third week's id."""
    weekly_yoga(w.calendar_user, w.calendar_id, studio)
    w.sync()
    third = str(occurrences(w.calendar_user, w.calendar_id, SERIES)[2]["id"])
    (appointment,) = [i for i in w.items().values() if i.remote_id == third]
    w.schedule.convert(
        studio.user, appointment.id, client=studio.ann, session_type="Portrait", new_id="s9"
    )
    report = w.sync()
    assert report.ok, report.summary()
    assert paired(w, "s9") == third
    return third


def test_a_deleted_converted_occurrence_is_revived_in_its_series(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    third = converted(w, studio)
    w.calendar_user.external_delete(w.calendar_id, third)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert any("has been restored" in warning for warning in report.warnings), report.warnings
    # confirmed again in its series: never an insert of an occurrence's id, which Google may
    # refuse, or take for a new event of its own
    assert {m: n for m, n in calls(w).items() if not m.endswith(".get")} == {
        "calendar.events.patch": 1
    }
    [back] = [e for e in occurrences(w.calendar_user, w.calendar_id, SERIES) if e["id"] == third]
    assert (back["recurringEventId"], back["summary"]) == (SERIES, "Portrait - Ann Smith")
    [session] = carrying(stored(w), "s9")  # one event, and no standalone copy of it
    assert (session["id"], session.get("recurringEventId")) == (third, SERIES)
    assert [e["id"] for e in stored(w) if "recurringEventId" not in e] == [SERIES]
    assert paired(w, "s9") == third
    assert w.items()["s9"].kind is ItemKind.SESSION
    w.google.expire_sync_tokens()
    assert [(r.ok, r.writes) for r in (w.sync(), w.sync())] == [(True, 0), (True, 0)]
    assert [e["id"] for e in carrying(stored(w), "s9")] == [third]


def test_a_converted_occurrence_whose_series_was_deleted_is_made_under_calsyncs_id(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    third = converted(w, studio)
    w.calendar_user.external_delete(w.calendar_id, SERIES)

    report = w.sync()

    assert report.ok, report.summary()
    [session] = carrying(stored(w), "s9")
    assert (session["id"], session.get("recurringEventId")) == (OWN, None)
    assert session["summary"] == "Portrait - Ann Smith"
    assert paired(w, "s9") == OWN
    assert [item.kind for item in w.items().values()] == [ItemKind.SESSION]
    assert third not in {e["id"] for e in stored(w)}
    assert w.sync().writes == 0


def test_a_session_whose_recurring_event_lost_its_first_week_is_restored_beside_the_series(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Calsync's own event made recurring in Google: its first week is the session's event.
    Deleted, the session is restored as an event of its own beside the series (calsync never
    writes to a series its own id holds), whatever the week's id looks like."""
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    own = event_id_for("studio.u7", "s1")
    w.calendar_user.patch(w.calendar_id, own, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]})
    first_week = occurrences(w.calendar_user, w.calendar_id, own)[0]["id"]
    w.sync()
    assert paired(w, "s1") == first_week
    w.calendar_user.external_delete(w.calendar_id, first_week)

    report = w.sync()

    assert report.ok, report.summary()
    [event] = [e for e in carrying(stored(w), "s1") if "recurrence" not in e]
    assert event["id"] not in (own, first_week)
    assert "recurringEventId" not in event
    assert paired(w, "s1") == event["id"]
    assert first_week not in {e["id"] for e in occurrences(w.calendar_user, w.calendar_id, own)}
    assert w.sync().writes == 0


def test_a_session_made_in_the_studio_is_created_with_one_call(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Only a restore of an event Google made may cost a read: a create under calsync's own
    id is one insert, nothing else."""
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert calls(w) == {"calendar.events.insert": 1}


@pytest.fixture
def deleted_occurrence(
    calendar_backend: GoogleCalendarBackend, calendar_user: CalendarUser, studio: StudioBuilders
) -> tuple[str, str, EventFields]:
    """The Google user's weekly Yoga, whose third week calsync made session s9's event, then
    the Google user deleted: the calendar, the week's id, the session's fields."""
    calendar = calendar_backend.list_writable_calendars()[0].id
    weekly_yoga(calendar_user, calendar, studio)
    third = str(occurrences(calendar_user, calendar, SERIES)[2]["id"])
    portrait = EventFields("Portrait - Ann Smith", when=studio.timed(15, hour=9))
    calendar_backend.update_event(calendar, third, portrait, S9, None)
    calendar_user.external_delete(calendar, third)
    return calendar, third, portrait


@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_the_backend_confirms_a_deleted_occurrence_again_with_one_write(
    calendar_backend: GoogleCalendarBackend,
    google: GoogleEmulator,
    deleted_occurrence: tuple[str, str, EventFields],
    batched: bool,
) -> None:
    """No listing told the backend what the id is: it reads the event first (Google says it
    is an occurrence of the series), then patches it back; nothing is inserted."""
    calendar, third, portrait = deleted_occurrence
    google.reset_stats()

    if batched:
        [result] = calendar_backend.write_events(calendar, [CreateEvent(third, portrait, S9)])
        assert result.error is None
        restored = result.item
    else:
        restored = calendar_backend.create_event(calendar, third, portrait, S9)

    assert restored is not None
    assert (restored.id, restored.series_id, restored.marker) == (third, SERIES, S9)
    methods = google.stats()["methods"]
    assert {m: n for m, n in methods.items() if not m.endswith(".get")} == {
        "calendar.events.patch": 1
    }
    with pytest.raises(AlreadyExists):  # live now, with s9's marker: not s10's to take
        calendar_backend.create_event(calendar, third, portrait, Marker("studio.u7", "s10"))


@pytest.mark.parametrize("gone", ["series deleted", "series shortened"])
def test_the_backend_makes_an_occurrence_gone_with_its_series_under_calsyncs_id(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    deleted_occurrence: tuple[str, str, EventFields],
    gone: str,
) -> None:
    """Deleted with its series, or no longer one of the series' occurrences (whose id Google
    answers "not found" for, yet holds against an insert): the event is the session's own."""
    calendar, third, portrait = deleted_occurrence
    if gone == "series deleted":
        calendar_user.external_delete(calendar, SERIES)
    else:
        calendar_user.patch(calendar, SERIES, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]})

    restored = calendar_backend.create_event(calendar, third, portrait, S9)

    assert (restored.id, restored.series_id, restored.fields) == (OWN, None, portrait)
    assert [e["id"] for e in calendar_user.live_events(calendar) if e["id"] != SERIES] == [OWN]

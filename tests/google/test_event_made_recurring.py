"""A single event made recurring in Google ("Repeat weekly": the event keeps its id and becomes
the series' master, listed as its instances): the single event calsync synced is gone. Its
occurrences take its place in the studio, and no write of calsync's ever reaches the series.
On the emulator with the real google-api-python-client."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind, Side
from calsync.backends import CreateEvent, DeleteEvent, EventWrite, UpdateEvent
from calsync.errors import NotFound
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.markers import MARKER_ITEM
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker, TimeRange
from calsync.testing import SimulatedCrash

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import CalendarUser, GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

WEEKLY = {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]}
SESSION = event_id_for("studio.u7", "s1")


def writes(w: GoogleWorld) -> dict[str, int]:
    """The emulator's count of write calls since its stats were last reset."""
    methods: dict[str, int] = w.google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith((".list", ".get", ".instances"))}


def stored(w: GoogleWorld) -> dict[str, dict[str, Any]]:
    """The events Google stores (series masters, edited instances, tombstones), by id."""
    events: dict[str, dict[str, Any]] = w.google.account(w.token).calendar(w.calendar_id).events
    return events


def instances(w: GoogleWorld, series: str) -> list[dict[str, Any]]:
    request = w.calendar_user.events().instances(calendarId=w.calendar_id, eventId=series)
    items: list[dict[str, Any]] = request.execute()["items"]
    return items


def unlinked(w: GoogleWorld) -> set[str | None]:
    return {i.remote_id for i in w.items().values() if i.kind is ItemKind.UNLINKED}


def paired(w: GoogleWorld, host_id: str) -> str:
    return w.store.mappings("studio.u7", Channel.CALENDAR)[host_id].remote_id


def made_in_google(w: GoogleWorld, studio: StudioBuilders) -> tuple[str, str]:
    """A single event the Google user made, synced to the studio: its id and the unlinked
    appointment's."""
    fields = EventFields("Team meeting", when=studio.timed(3))
    event = w.calendar_user.external_create(w.calendar_id, fields)
    w.sync()
    [host_id] = [k for k, i in w.items().items() if i.remote_id == event.id]
    return event.id, host_id


def make_weekly(w: GoogleWorld, event_id: str, **body: Any) -> dict[str, Any]:
    """The Google user makes the event weekly; the series master as it is then."""
    master: dict[str, Any] = w.calendar_user.patch(w.calendar_id, event_id, {**WEEKLY, **body})
    assert master["id"] == event_id
    return master


def series_untouched(w: GoogleWorld, master: dict[str, Any]) -> None:
    now = stored(w)[master["id"]]
    assert (now["status"], now["etag"], now["recurrence"]) == (
        "confirmed",
        master["etag"],
        master["recurrence"],
    )


# -- an unlinked appointment -----------------------------------------------------------------


def test_an_unlinked_appointment_made_recurring_in_google_becomes_its_occurrences(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    event_id, ghost = made_in_google(w, studio)
    master = make_weekly(w, event_id)
    occurrences = {i["id"] for i in instances(w, event_id)}
    w.google.reset_stats()

    first = w.sync()

    assert first.ok, first.summary()
    assert ghost not in w.items()
    assert unlinked(w) == occurrences
    assert (first.count(Side.HOST, "created"), first.count(Side.HOST, "deleted")) == (4, 1)
    assert writes(w) == {}
    series_untouched(w, master)
    items = w.items()

    w.google.expire_sync_tokens()
    full = w.sync()
    quiet = w.sync()

    assert (full.ok, full.writes, quiet.ok, quiet.writes) == (True, 0, True, 0)
    assert w.items() == items
    assert writes(w) == {}
    series_untouched(w, master)


@pytest.mark.parametrize("studio_does", ["edit", "delete"])
def test_the_studio_editing_or_deleting_the_ghost_never_touches_the_series(
    world: MakeWorld, studio: StudioBuilders, studio_does: str
) -> None:
    """The studio acts on the old item before calsync has seen the series."""
    w = world(contacts=False, inbound_calendar=True)
    event_id, ghost = made_in_google(w, studio)
    master = make_weekly(w, event_id)
    if studio_does == "edit":
        w.schedule.edit(studio.user, ghost, title="Team meeting (Ann only)")
    else:
        w.schedule.remove(studio.user, ghost)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert writes(w) == {}
    series_untouched(w, master)
    assert [i["summary"] for i in instances(w, event_id)] == ["Team meeting"] * 4
    assert ghost not in w.items()
    assert unlinked(w) == {i["id"] for i in instances(w, event_id)}
    assert w.sync().writes == 0


@pytest.mark.parametrize("studio_does", ["edit", "delete"])
def test_a_write_to_the_ghost_that_google_refuses_never_reaches_the_series(
    world: MakeWorld, studio: StudioBuilders, studio_does: str
) -> None:
    """No listing shows the series (its occurrences are all beyond the window), so calsync
    writes to the event it knew: Google refuses the stale etag, calsync reads the event again,
    and finds the single event gone."""
    w = world(contacts=False, inbound_calendar=True)
    event_id, ghost = made_in_google(w, studio)
    far = studio.timed(800)  # the window ends 731 days ahead
    moved = {
        key: {"dateTime": moment.isoformat(), "timeZone": far.zone}
        for key, moment in (("start", far.start), ("end", far.end))
    }
    master = make_weekly(w, event_id, **moved)
    assert w.sync().writes == 0  # nothing in the window changed
    assert ghost in w.items()
    if studio_does == "edit":
        w.schedule.edit(studio.user, ghost, title="Team meeting (Ann only)")
    else:
        w.schedule.remove(studio.user, ghost)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert w.google.stats()["statuses"].get("412") == 1
    assert writes(w) == {
        ("calendar.events.patch" if studio_does == "edit" else "calendar.events.delete"): 1
    }
    series_untouched(w, master)
    assert ghost not in w.items()
    assert w.store.mappings("studio.u7", Channel.CALENDAR) == {}
    w.google.expire_sync_tokens()
    assert w.sync().writes == 0
    series_untouched(w, master)


# -- a session -------------------------------------------------------------------------------


def test_a_session_made_recurring_in_google_keeps_its_first_occurrence_and_nothing_more(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    master = make_weekly(w, SESSION)
    first_week, *later_weeks = instances(w, SESSION)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert writes(w) == {}  # nothing restored, nothing duplicated, the series left alone
    series_untouched(w, master)
    assert list(stored(w)) == [SESSION]
    assert paired(w, "s1") == first_week["id"]
    assert w.items()["s1"].kind is ItemKind.SESSION
    assert unlinked(w) == {i["id"] for i in later_weeks}
    assert any(
        "was made recurring in Google" in warning and "item s1" in warning
        for warning in report.warnings
    )
    items = w.items()

    w.google.expire_sync_tokens()
    full = w.sync()
    quiet = w.sync()

    assert (full.ok, full.writes, quiet.ok, quiet.writes) == (True, 0, True, 0)
    assert not any("made recurring" in warning for warning in full.warnings + quiet.warnings)
    assert w.items() == items
    assert writes(w) == {}
    series_untouched(w, master)


def test_the_session_then_writes_to_its_occurrence_only(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    master = make_weekly(w, SESSION)
    first_week, *later_weeks = instances(w, SESSION)
    w.sync()

    w.schedule.edit(studio.user, "s1", when=studio.timed(4, hour=14))
    moved = w.sync()

    assert moved.ok, moved.summary()
    series_untouched(w, master)
    now = {i["id"]: i for i in instances(w, SESSION)}
    assert now[first_week["id"]]["start"]["dateTime"].startswith(
        str(studio.now.date() + timedelta(days=4))
    )
    assert [now[i["id"]]["start"] for i in later_weeks] == [i["start"] for i in later_weeks]
    read_back = w.sync()  # (its own write, listed again: no news)
    assert (read_back.writes, read_back.warnings) == (0, [])

    w.schedule.remove(studio.user, "s1")
    deleted = w.sync()

    assert deleted.ok, deleted.summary()
    series_untouched(w, master)
    assert [i["id"] for i in instances(w, SESSION)] == [i["id"] for i in later_weeks]
    assert unlinked(w) == {i["id"] for i in later_weeks}
    assert w.sync().writes == 0


def test_a_session_edited_before_calsync_saw_the_series_moves_its_occurrence_only(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    master = make_weekly(w, SESSION)
    first_week, *later_weeks = instances(w, SESSION)
    w.schedule.edit(studio.user, "s1", when=studio.timed(3, hour=15))

    report = w.sync()

    assert report.ok, report.summary()
    series_untouched(w, master)
    now = {i["id"]: i for i in instances(w, SESSION)}
    assert now[first_week["id"]]["start"] != first_week["start"]
    assert [now[i["id"]]["start"] for i in later_weeks] == [i["start"] for i in later_weeks]
    assert paired(w, "s1") == first_week["id"]
    assert w.sync().writes == 0


def weekly_then_deleted(
    w: GoogleWorld, studio: StudioBuilders, deleted: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Session s1 synced, made weekly in Google (its first occurrence its event), then the
    Google user deletes its first occurrence or the whole series: the session's week as it
    was, and the later weeks left."""
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    make_weekly(w, SESSION)
    first_week, *later_weeks = instances(w, SESSION)
    w.sync()
    assert paired(w, "s1") == first_week["id"]
    if deleted == "first occurrence":
        w.calendar_user.external_delete(w.calendar_id, first_week["id"])
        return first_week, later_weeks
    w.calendar_user.external_delete(w.calendar_id, SESSION)
    return first_week, []


def series_as_left(w: GoogleWorld, master: dict[str, Any]) -> None:
    """The series (live or deleted) is as the Google user left it: never written to."""
    now = stored(w)[SESSION]
    keys = ("status", "etag", "recurrence", "summary", "extendedProperties")
    assert {k: now.get(k) for k in keys} == {k: master.get(k) for k in keys}


def ours_for(w: GoogleWorld, host_id: str) -> list[dict[str, Any]]:
    """The live single events carrying calsync's marker for ``host_id``."""
    return [
        e
        for e in w.events()
        if not e.get("recurrence")
        and (e.get("extendedProperties") or {}).get("private", {}).get(MARKER_ITEM) == host_id
    ]


BOTH_WAYS = pytest.mark.parametrize("deleted", ["first occurrence", "whole series"])


@BOTH_WAYS
def test_a_session_whose_event_was_made_recurring_then_deleted_is_restored_beside_the_series(
    world: MakeWorld, studio: StudioBuilders, deleted: str
) -> None:
    """The session's id is the series' now (live or deleted), which calsync never writes to:
    the session is restored once, under an id Google chooses, and takes over no other week."""
    w = world(contacts=False, inbound_calendar=True)
    first_week, later_weeks = weekly_then_deleted(w, studio, deleted)
    master = stored(w)[SESSION]  # (as the deletion left it)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    # the restore under the session's id (refused: 409), the series read, the restore anew
    assert writes(w) == {"calendar.events.insert": 2}
    assert w.google.stats()["methods"].get("calendar.events.get") == 1
    assert (report.count(Side.REMOTE, "restored"), report.count(Side.REMOTE, "created")) == (1, 0)
    assert any("has been restored" in warning for warning in report.warnings)
    [event] = ours_for(w, "s1")
    assert event["id"] != SESSION
    assert paired(w, "s1") == event["id"]
    assert [event[k] for k in ("summary", "start", "end")] == [
        first_week[k] for k in ("summary", "start", "end")
    ]
    assert w.items()["s1"].kind is ItemKind.SESSION
    series_as_left(w, master)
    assert instances(w, SESSION) == later_weeks  # the other weeks: the Google user's own
    assert unlinked(w) == {i["id"] for i in later_weeks}
    items = w.items()

    quiet = w.sync()
    w.google.expire_sync_tokens()
    full = w.sync()
    w.clock.advance(days=1)
    next_day = w.sync()

    for run in (quiet, full, next_day):
        assert (run.ok, run.writes, run.errors) == (True, 0, []), run.summary()
    assert writes(w) == {"calendar.events.insert": 2}  # (nothing since)
    assert w.items() == items
    assert ours_for(w, "s1") == [event]
    series_as_left(w, master)


def test_the_event_made_beside_the_series_is_the_sessions_own(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Its pair is any pair's: deleted in Google, it is restored under its own id (Google
    revives it); the session deleted in the studio, it is deleted, and the series stays."""
    w = world(contacts=False, inbound_calendar=True)
    _, later_weeks = weekly_then_deleted(w, studio, "first occurrence")
    w.sync()
    [event] = ours_for(w, "s1")
    master = stored(w)[SESSION]

    w.calendar_user.external_delete(w.calendar_id, event["id"])
    w.google.reset_stats()
    restored = w.sync()

    assert restored.ok, restored.summary()
    assert [e["id"] for e in ours_for(w, "s1")] == [event["id"]]
    assert paired(w, "s1") == event["id"]
    assert w.google.stats()["methods"]["calendar.events.insert"] == 1  # under its id: revived

    w.schedule.remove(studio.user, "s1")
    removed = w.sync()

    assert removed.ok, removed.summary()
    assert ours_for(w, "s1") == []
    assert stored(w)[event["id"]]["status"] == "cancelled"
    series_as_left(w, master)
    assert instances(w, SESSION) == later_weeks
    assert w.sync().writes == 0


class CrashingCalendar(GoogleCalendarBackend):
    """Writes to Google, then "dies" before the engine can record what it wrote."""

    def write_events(self, calendar_id: str, writes: Sequence[EventWrite]) -> Any:
        super().write_events(calendar_id, writes)
        raise SimulatedCrash("process died after the calendar batch")


@BOTH_WAYS
def test_a_crash_after_the_restore_beside_the_series_duplicates_nothing(
    world: MakeWorld, studio: StudioBuilders, deleted: str
) -> None:
    """The event made under Google's id is not calsync's id, but it carries the session's
    marker: the next run (a full one: the create's intent is journaled) adopts it."""
    w = world(contacts=False, inbound_calendar=True)
    weekly_then_deleted(w, studio, deleted)
    master = stored(w)[SESSION]
    crashing: Any = object.__new__(CrashingCalendar)
    crashing.__dict__.update(w.account.calendar.__dict__)

    with pytest.raises(SimulatedCrash):
        w.engine.sync(w.profile, crashing, w.account.contacts)
    [made] = ours_for(w, "s1")
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert (report.count(Side.REMOTE, "created"), report.counts["adopted"]) == (0, 1)
    assert writes(w) == {}
    assert ours_for(w, "s1") == [made]
    assert paired(w, "s1") == made["id"]
    series_as_left(w, master)
    w.google.expire_sync_tokens()
    assert [(r.ok, r.writes) for r in (w.sync(), w.sync())] == [(True, 0), (True, 0)]
    assert ours_for(w, "s1") == [made]


def test_an_unrecorded_restore_beside_the_series_is_no_orphan_calsync_deletes(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """What its id not being calsync's costs: made, unrecorded (a crash), and the session
    deleted in the studio before the next run, the event is not provably calsync's, so it is
    left in place with a warning (never deleted, never taken for the Google user's)."""
    w = world(contacts=False, inbound_calendar=True)
    weekly_then_deleted(w, studio, "first occurrence")
    crashing: Any = object.__new__(CrashingCalendar)
    crashing.__dict__.update(w.account.calendar.__dict__)
    with pytest.raises(SimulatedCrash):
        w.engine.sync(w.profile, crashing, w.account.contacts)
    [made] = ours_for(w, "s1")
    w.schedule.remove(studio.user, "s1")
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert writes(w) == {}
    assert ours_for(w, "s1") == [made]
    assert any(f"left remote item {made['id']} in place" in warning for warning in report.warnings)
    assert made["id"] not in {i.remote_id for i in w.items().values()}
    assert w.store.mappings("studio.u7", Channel.CALENDAR).get("s1") is None


def test_a_failed_restore_beside_the_series_is_not_sent_again_in_the_run(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Without an id of calsync's, a create sent again after an answer lost on the way would
    make a second event: a transient failure is the item's error, and the next run settles
    it (it finds the event by its marker, or makes it)."""
    w = world(contacts=False, inbound_calendar=True)
    weekly_then_deleted(w, studio, "first occurrence")
    # (only the create without an id: its body names none)
    w.google.inject_fault(503, api_method="calendar.events.insert", body=r'^(?![\s\S]*"id":)')
    w.google.reset_stats()

    failed = w.sync()

    assert not failed.ok
    [error] = failed.errors
    assert error.item == "s1"
    assert writes(w) == {"calendar.events.insert": 2}  # the 409, then one try only
    assert ours_for(w, "s1") == []

    report = w.sync()

    assert report.ok, report.summary()
    assert len(ours_for(w, "s1")) == 1
    assert paired(w, "s1") == ours_for(w, "s1")[0]["id"]
    assert w.sync().writes == 0


def test_switching_calendars_never_cleans_up_a_series_made_of_a_session(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """The clean-up deletes calsync's events without an etag: the backend reads the event
    first, and a series is not the event calsync made."""
    w = world(contacts=False, cleanup_old_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    master = make_weekly(w, SESSION)
    series_untouched(w, master)
    old = w.calendar_id
    other = w.account.calendar.create_calendar("Studio 2", "Europe/London")
    w.profile = type(w.profile)(w.profile.id, w.profile.user_id, other.id, w.profile.options)

    report = w.sync()

    assert report.ok, report.summary()
    now = w.google.account(w.token).calendar(old).events[SESSION]
    assert (now["status"], now["etag"]) == ("confirmed", master["etag"])
    assert w.calendar_id == other.id


# -- the backend on its own ------------------------------------------------------------------


@pytest.fixture
def series(
    calendar_backend: GoogleCalendarBackend, calendar_user: CalendarUser, studio: StudioBuilders
) -> tuple[str, dict[str, Any]]:
    """A calendar holding calsync's event for s1, made weekly in Google: (calendar, master)."""
    calendar = calendar_backend.create_calendar("Studio", "Europe/London").id
    fields = EventFields("Wedding", when=studio.timed(3))
    calendar_backend.create_event(calendar, SESSION, fields, Marker("studio.u7", "s1"))
    master: dict[str, Any] = calendar_user.patch(calendar, SESSION, WEEKLY)
    return calendar, master


def test_reading_a_series_by_id_is_reading_a_deleted_event(
    calendar_backend: GoogleCalendarBackend, series: tuple[str, dict[str, Any]]
) -> None:
    calendar, _ = series

    event = calendar_backend.get_event(calendar, SESSION)

    assert event is not None
    assert (event.id, event.deleted, event.fields, event.etag) == (SESSION, True, None, "")


def test_writes_without_an_etag_never_reach_a_series(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    series: tuple[str, dict[str, Any]],
    studio: StudioBuilders,
) -> None:
    calendar, master = series
    changed = EventFields("Changed", when=studio.timed(4))

    with pytest.raises(NotFound):
        calendar_backend.update_event(calendar, SESSION, changed, None, None)
    calendar_backend.delete_event(calendar, SESSION, None)
    results = calendar_backend.write_events(
        calendar, [UpdateEvent(SESSION, changed, None, None), DeleteEvent(SESSION, None)]
    )

    assert isinstance(results[0].error, NotFound)
    assert (results[1].error, results[1].item) == (None, None)
    now = calendar_user.events().get(calendarId=calendar, eventId=SESSION).execute()
    assert (now["status"], now["etag"], now["summary"]) == ("confirmed", master["etag"], "Wedding")


def test_a_create_over_a_series_is_made_under_an_id_google_chooses_live_or_deleted(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    series: tuple[str, dict[str, Any]],
    studio: StudioBuilders,
) -> None:
    """Alone or in a batch: the event is created anew (with the marker), and the series,
    live or deleted, is never written to."""
    calendar, master = series
    fields = EventFields("Wedding", when=studio.timed(3))
    ours = Marker("studio.u7", "s1")

    live = calendar_backend.create_event(calendar, SESSION, fields, ours)
    calendar_user.external_delete(calendar, SESSION)
    deleted_master = calendar_user.events().get(calendarId=calendar, eventId=SESSION).execute()
    [result] = calendar_backend.write_events(calendar, [CreateEvent(SESSION, fields, ours)])

    assert result.error is None
    assert result.item is not None
    made = [live, result.item]
    assert len({event.id for event in made} | {SESSION}) == 3
    for event in made:
        assert (event.fields, event.marker, event.deleted) == (fields, ours, False)
        again = calendar_backend.get_event(calendar, event.id)
        assert again is not None
        assert (again.fields, again.marker) == (fields, ours)
    now = calendar_user.events().get(calendarId=calendar, eventId=SESSION).execute()
    assert (now["status"], now["etag"], now["recurrence"]) == (
        "cancelled",
        deleted_master["etag"],
        master["recurrence"],
    )
    assert MARKER_ITEM in now["extendedProperties"]["private"]


def test_a_listing_gives_the_marker_to_the_first_occurrence_only(
    calendar_backend: GoogleCalendarBackend,
    calendar_user: CalendarUser,
    series: tuple[str, dict[str, Any]],
    studio: StudioBuilders,
) -> None:
    """Whatever order Google lists the occurrences in, only the first one can be taken for
    the session's event."""
    calendar, _ = series
    window = TimeRange(studio.now - timedelta(days=30), studio.now + timedelta(days=731))
    full = calendar_backend.list_events(calendar, window, None)
    calendar_user.patch(calendar, SESSION, {"summary": "Weekly now"})
    changed = calendar_backend.list_events(calendar, window, full.cursor)

    for listing in (full, changed):
        by_id = {e.id: e for e in listing.items}
        assert (by_id[SESSION].deleted, by_id[SESSION].fields) == (True, None)
        occurrences = sorted(
            (e for e in listing.items if e.series_id == SESSION),
            key=lambda e: e.fields.when.bounds()[0] if e.fields and e.fields.when else studio.now,
        )
        assert [e.marker for e in occurrences] == [Marker("studio.u7", "s1"), None, None, None]
    assert not any("made recurring" in warning for warning in full.warnings)
    assert any("made recurring" in warning for warning in changed.warnings)

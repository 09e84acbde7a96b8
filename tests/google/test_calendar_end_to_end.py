"""A studio user's schedule synced with Google Calendar through the engine, on the emulator
with the real google-api-python-client."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from calsync import AllDay, ItemKind, Side
from calsync.google.calendar import GONE_ANSWERS
from calsync.google.translate import MARKER_ITEM, MARKER_PROFILE, event_body
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker, Timed

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def titles(events: list[dict[str, Any]]) -> list[str]:
    return sorted(e.get("summary", "") for e in events)


def unlinked(w: Any) -> dict[str, Any]:
    return {i.remote_id: i for i in w.items().values() if i.kind is ItemKind.UNLINKED}


def test_initial_sync_sends_sessions_and_appointments_and_a_second_run_writes_nothing(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.schedule.add(studio.user, studio.session("s2", day=5, session_type="Portrait"))
    w.schedule.add(studio.user, studio.appointment("a1", "Studio cleaning", day=4))

    first = w.sync()

    assert first.ok, first.summary()
    assert (first.count(Side.REMOTE, "created"), first.initial_sync_completed) == (3, True)
    events = {e["id"]: e for e in w.events()}
    assert set(events) == {event_id_for("studio.u7", h) for h in ("s1", "s2", "a1")}
    s1 = events[event_id_for("studio.u7", "s1")]
    assert s1["summary"] == "Wedding - Ann Smith"
    assert "+44 20 7946 0001" in s1["description"]
    assert s1["extendedProperties"]["private"] == {MARKER_PROFILE: "studio.u7", MARKER_ITEM: "s1"}
    assert s1["start"]["timeZone"] == "Europe/London"
    assert events[event_id_for("studio.u7", "a1")]["start"] == {
        "date": str(studio.now.date() + timedelta(days=4))
    }

    w.google.reset_stats()
    second = w.sync()

    assert (second.ok, second.writes) == (True, 0)
    assert w.google.stats()["methods"] == {"calendar.events.list": 1}


def test_host_edits_and_deletions_go_out_on_an_incremental_run(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.schedule.add(studio.user, studio.appointment("a1", day=4))
    w.sync()

    w.schedule.edit(studio.user, "s1", when=studio.timed(6, hour=14, hours=2))
    w.schedule.remove(studio.user, "a1")
    report = w.sync()

    assert report.ok, report.summary()
    assert (report.count(Side.REMOTE, "updated"), report.count(Side.REMOTE, "deleted")) == (1, 1)
    [event] = w.events()
    assert event["start"]["dateTime"].startswith(str(studio.now.date() + timedelta(days=6)))


def test_google_edits_to_a_sessions_time_come_back_and_text_edits_are_put_back(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    event_id = event_id_for("studio.u7", "s1")
    moved = studio.timed(3, hour=15)

    w.calendar_user.external_update(w.calendar_id, event_id, when=moved, title="Renamed")
    report = w.sync()

    assert report.ok, report.summary()
    assert w.items()["s1"].when == moved
    [event] = w.events()
    assert event["summary"] == "Wedding - Ann Smith"


def test_events_made_in_google_come_back_as_unlinked_appointments_and_follow_edits(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    fields = EventFields("Dentist", "bring forms", "High St", studio.timed(2, hour=9))
    untitled = EventFields(when=AllDay.single(studio.now.date() + timedelta(days=8)))
    dentist = w.calendar_user.external_create(w.calendar_id, fields)
    blank = w.calendar_user.external_create(w.calendar_id, untitled)

    created = w.sync()

    assert created.count(Side.HOST, "created") == 2
    items = unlinked(w)
    assert (items[dentist.id].title, items[dentist.id].location) == ("Dentist", "High St")
    assert (items[blank.id].title, items[blank.id].when) == ("", untitled.when)

    w.calendar_user.external_update(w.calendar_id, dentist.id, title="Dentist (moved)")
    w.calendar_user.external_delete(w.calendar_id, blank.id)
    followed = w.sync()

    assert followed.ok, followed.summary()
    assert (followed.count(Side.HOST, "updated"), followed.count(Side.HOST, "deleted")) == (1, 1)
    assert [i.title for i in unlinked(w).values()] == ["Dentist (moved)"]


def test_a_session_deleted_in_google_is_restored_with_a_warning(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1"))
    w.sync()
    event_id = event_id_for("studio.u7", "s1")

    w.calendar_user.external_delete(w.calendar_id, event_id)
    report = w.sync()

    assert report.count(Side.REMOTE, "restored") == 1
    assert any("restored" in warning for warning in report.warnings)
    assert [e["id"] for e in w.events()] == [event_id]
    assert "s1" in w.items()


def test_converting_an_unlinked_appointment_updates_the_same_event(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    made = w.calendar_user.external_create(
        w.calendar_id, EventFields("Call from Ann", when=studio.timed(5))
    )
    w.sync()
    [item] = unlinked(w).values()

    w.schedule.convert(studio.user, item.id, client=studio.ann, session_type="Portrait")
    report = w.sync()

    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "created") == 0
    [event] = w.events()
    assert (event["id"], event["summary"]) == (made.id, "Portrait - Ann Smith")
    assert event["extendedProperties"]["private"][MARKER_PROFILE] == "studio.u7"
    assert w.sync().writes == 0


def test_a_recurring_event_made_in_google_comes_back_as_its_instances_in_the_window(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    first = studio.timed(1, hour=9)
    body = event_body(EventFields("Yoga", when=first), None, event_id="class00001")
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    master = w.calendar_user.insert_raw(w.calendar_id, body)
    instances = (
        w.calendar_user.events()
        .instances(calendarId=w.calendar_id, eventId=master["id"])
        .execute()["items"]
    )
    w.calendar_user.patch(w.calendar_id, instances[1]["id"], {"summary": "Yoga (long)"})
    w.calendar_user.external_delete(w.calendar_id, instances[2]["id"])

    report = w.sync()

    assert report.ok, report.summary()
    items = unlinked(w)
    assert sorted(i.title for i in items.values()) == ["Yoga", "Yoga", "Yoga (long)"]
    week = timedelta(days=7)
    starts = sorted(i.when.bounds()[0] for i in items.values())
    assert starts == [first.start + n * week for n in (0, 1, 3)]


def test_special_event_types_are_left_out(world: MakeWorld, studio: StudioBuilders) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    for kind in ("outOfOffice", "focusTime", "workingLocation"):
        w.calendar_user.external_create(
            w.calendar_id, EventFields(kind, when=studio.timed(2)), event_type=kind
        )
    w.calendar_user.external_create(w.calendar_id, EventFields("Real", when=studio.timed(3)))

    report = w.sync()

    assert report.ok, report.summary()
    assert [i.title for i in unlinked(w).values()] == ["Real"]


def test_an_expired_sync_token_reconciles_by_absence_without_wiping_the_studio(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1"))
    w.sync()
    gone = w.calendar_user.external_create(w.calendar_id, EventFields("Gone", when=studio.timed(2)))
    w.sync()
    w.calendar_user.external_delete(w.calendar_id, gone.id)
    new = w.calendar_user.external_create(w.calendar_id, EventFields("New", when=studio.timed(4)))
    w.google.expire_sync_tokens()

    report = w.sync()

    assert report.ok, report.summary()
    assert "s1" in w.items()
    assert [i.title for i in unlinked(w).values()] == ["New"]
    assert new.id in unlinked(w)
    assert w.google.stats()["statuses"].get("410") == 1
    assert w.sync().writes == 0


def split_a_series_in_google(w: Any, studio: StudioBuilders) -> tuple[dict[str, Any], Timed]:
    """The user makes session s1 weekly, then edits "this and following" from week 3: Google
    copies the private marker onto the new series."""
    original = event_id_for("studio.u7", "s1")
    # the user makes the session weekly, then edits "this and following" from week 3
    w.calendar_user.patch(w.calendar_id, original, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=6"]})
    start = studio.now.replace(hour=10) + timedelta(days=1)
    until = (start + timedelta(days=13)).strftime("%Y%m%dT%H%M%SZ")
    w.calendar_user.patch(
        w.calendar_id, original, {"recurrence": [f"RRULE:FREQ=WEEKLY;UNTIL={until}"]}
    )
    later = Timed(start + timedelta(days=14), start + timedelta(days=14, hours=1), "Europe/London")
    copy = event_body(EventFields("Wedding - Ann Smith", when=later), Marker("studio.u7", "s1"))
    copy["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=4"]
    for key in ("start", "end"):
        copy[key] = {name: value for name, value in copy[key].items() if value is not None}
    return w.calendar_user.insert_raw(w.calendar_id, copy), later


def test_a_series_split_in_google_loses_the_copied_marker(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=1))
    w.sync()
    split, later = split_a_series_in_google(w, studio)

    report = w.sync()

    assert report.ok, report.summary()
    assert any("split off" in warning for warning in report.warnings)
    stored = w.google.account(w.token).calendar(w.calendar_id).events[split["id"]]
    assert MARKER_PROFILE not in stored.get("extendedProperties", {}).get("private", {})
    local = later.start.astimezone(ZoneInfo("Europe/London"))  # weekly in wall time (DST)
    # the session keeps the original's first week; its second week is Google's own, as the
    # copy's weeks are
    second_week = later.start - timedelta(days=7)
    assert sorted(i.when.bounds()[0] for i in unlinked(w).values()) == [
        second_week,
        *(local + n * timedelta(days=7) for n in range(4)),
    ]
    assert w.items()["s1"].kind is ItemKind.SESSION
    again = w.sync()
    assert (again.ok, again.writes) == (True, 0)


def test_a_deleted_calendar_drops_the_mapping_and_a_new_calendar_starts_over(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1"))
    w.schedule.add(studio.user, studio.appointment("a1"))
    w.sync()
    before = w.items()

    w.calendar_user.delete_calendar(w.calendar_id)
    report = w.sync()

    assert (report.calendar_gone, report.writes) == (True, 0)
    assert report.fatal is not None
    assert w.store.mappings("studio.u7", Channel.CALENDAR) == {}
    assert w.items() == before

    chosen = w.account.calendar.create_calendar("Studio again", "Europe/London")
    w.profile = type(w.profile)(w.profile.id, w.profile.user_id, chosen.id, w.profile.options)
    restarted = w.sync()

    assert restarted.ok, restarted.summary()
    assert restarted.count(Side.REMOTE, "created") == 2
    assert len(w.events()) == 2


@pytest.mark.parametrize("answers", [1, GONE_ANSWERS])
def test_not_found_answers_for_a_calendar_that_is_there_fail_the_run_and_forget_nothing(
    world: MakeWorld, studio: StudioBuilders, answers: int
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1"))
    w.sync()
    # Google's 404 may be propagation noise: the listing and the first asks answer it
    w.google.inject_fault(404, "notFound", api_method="calendar.events.list", count=answers)

    report = w.sync()

    assert not report.calendar_gone
    assert "'not found' for calendar" in (report.fatal or "")
    assert list(w.store.mappings("studio.u7", Channel.CALENDAR)) == ["s1"]
    again = w.sync()
    assert (again.ok, again.writes) == (True, 0)


def test_a_calendar_answering_not_found_every_time_asked_is_gone(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1"))
    w.sync()
    w.google.inject_fault(
        404, "notFound", api_method="calendar.events.list", count=1 + GONE_ANSWERS
    )
    w.google.reset_stats()

    report = w.sync()

    assert report.calendar_gone
    assert w.google.stats()["methods"]["calendar.events.list"] == 1 + GONE_ANSWERS


def test_a_dry_run_over_a_split_series_reports_the_repair_without_writing_it(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=1))
    w.sync()
    split, _ = split_a_series_in_google(w, studio)
    before = w.google.account(w.token)

    report = w.sync(dry_run=True)

    assert w.google.account(w.token) == before
    stored = before.calendar(w.calendar_id).events[split["id"]]
    assert MARKER_PROFILE in stored["extendedProperties"]["private"]
    assert any("a real run makes it its own event" in warning for warning in report.warnings)
    assert report.would["host.created"] == 5  # the copy's 4 weeks and the original's second


def test_no_email_address_reaches_the_log_at_info(
    world: MakeWorld, studio: StudioBuilders, caplog: pytest.LogCaptureFixture
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1"))
    primary = w.google.account(w.token).primary.id  # the user's address
    assert "@" in primary

    with caplog.at_level(logging.INFO, logger="calsync"):
        w.sync()
        w.profile = type(w.profile)(w.profile.id, w.profile.user_id, primary, w.profile.options)
        w.sync()  # a calendar switch
        w.google.expire_sync_tokens()
        w.sync()  # a full listing
        w.account.calendar.create_calendar("Another", "Europe/London")

    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert [m for m in shown if "@" in m] == []
    assert any("calendar switched" in m for m in shown)

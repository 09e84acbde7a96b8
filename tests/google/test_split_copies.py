"""A series split in Google ("this and following") whose copy has edited instances: the copy
loses calsync's marker once, master and exceptions alike, and no later listing (incremental or
full) writes anything; the original series and its edited instances keep the marker. On the
emulator with the real google-api-python-client."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from calsync import ItemKind
from calsync.google.markers import MARKER_ITEM, MARKER_PROFILE, marker_properties
from calsync.ids import event_id_for

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

OURS = {MARKER_PROFILE: "studio.u7", MARKER_ITEM: "s1"}
ORIGINAL = event_id_for("studio.u7", "s1")


def writes(w: GoogleWorld) -> dict[str, int]:
    """The emulator's count of write calls since its stats were last reset."""
    methods: dict[str, int] = w.google.stats()["methods"]
    return {m: n for m, n in methods.items() if not m.endswith((".list", ".get", ".instances"))}


def stored(w: GoogleWorld, event_id: str) -> dict[str, Any]:
    event: dict[str, Any] = w.google.account(w.token).calendar(w.calendar_id).events[event_id]
    return event


def private(w: GoogleWorld, event_id: str) -> dict[str, str]:
    props: dict[str, str] = stored(w, event_id).get("extendedProperties", {}).get("private", {})
    return props


def instances(w: GoogleWorld, series: str, **params: Any) -> list[dict[str, Any]]:
    request = w.calendar_user.events().instances(calendarId=w.calendar_id, eventId=series, **params)
    items: list[dict[str, Any]] = request.execute()["items"]
    return items


def split_weekly_session(w: GoogleWorld, count: int = 4) -> str:
    """The Google user makes session s1 weekly, then edits "this and following" from week 3:
    Google ends the original series and starts a new one (``count`` weeks) copying everything,
    the private marker included. Returns the new series' id."""
    cu, cal = w.calendar_user, w.calendar_id
    cu.patch(cal, ORIGINAL, {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=6"]})
    event = cu.events().get(calendarId=cal, eventId=ORIGINAL).execute()
    start = datetime.fromisoformat(event["start"]["dateTime"])
    end = datetime.fromisoformat(event["end"]["dateTime"])
    until = f"RRULE:FREQ=WEEKLY;UNTIL={start + timedelta(days=13):%Y%m%dT%H%M%SZ}"
    cu.patch(cal, ORIGINAL, {"recurrence": [until]})
    copy = cu.insert_raw(
        cal,
        {
            "summary": event["summary"],
            "extendedProperties": event["extendedProperties"],
            "start": {"dateTime": (start + timedelta(days=14)).isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (end + timedelta(days=14)).isoformat(), "timeZone": "UTC"},
            "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
        },
    )
    copy_id: str = copy["id"]
    return copy_id


def synced_then_split(world: MakeWorld, studio: StudioBuilders) -> tuple[GoogleWorld, str]:
    """A session synced to Google, then split there as a weekly series; the copy's id."""
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    return w, split_weekly_session(w)


def edit(w: GoogleWorld, instance: dict[str, Any], summary: str) -> str:
    """The Google user edits one instance: it becomes an exception with its own properties."""
    w.calendar_user.patch(w.calendar_id, instance["id"], {"summary": summary})
    assert private(w, instance["id"]) == instance["extendedProperties"]["private"]
    instance_id: str = instance["id"]
    return instance_id


def test_a_split_copy_with_an_edited_instance_is_repaired_once_and_every_later_run_is_quiet(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w, copy = synced_then_split(world, studio)
    edited = edit(w, instances(w, copy)[1], "Moved one")
    w.google.reset_stats()

    first = w.sync()

    assert first.ok, first.summary()
    assert writes(w) == {"calendar.events.patch": 2}  # the copy's master and its exception
    assert MARKER_ITEM not in private(w, copy)
    assert MARKER_ITEM not in private(w, edited)
    assert any("split off" in warning for warning in first.warnings)
    items = w.items()
    copied = {i.remote_id for i in items.values() if i.kind is ItemKind.UNLINKED}
    # the copy's weeks are Google's own, and so are the original's but its first (the session)
    theirs = [*instances(w, copy), *instances(w, ORIGINAL)[1:]]
    assert {i["id"] for i in theirs} == copied
    assert items["s1"].kind is ItemKind.SESSION

    for listing in ("incremental", "full", "incremental", "full", "incremental"):
        if listing == "full":
            w.google.expire_sync_tokens()
        w.google.reset_stats()
        report = w.sync()
        assert (listing, report.ok, report.writes, writes(w)) == (listing, True, 0, {})
        assert not any("split off" in warning for warning in report.warnings)
    assert w.items() == items


def test_the_original_series_and_its_edited_instances_keep_the_marker(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w, copy = synced_then_split(world, studio)
    kept = edit(w, instances(w, ORIGINAL)[1], "Wedding - Ann Smith (second week)")
    edit(w, instances(w, copy)[2], "Moved one")
    etags = {event_id: stored(w, event_id)["etag"] for event_id in (ORIGINAL, kept)}

    first = w.sync()
    w.google.expire_sync_tokens()
    w.google.reset_stats()
    full = w.sync()

    assert (first.ok, full.ok, full.writes, writes(w)) == (True, True, 0, {})
    assert private(w, ORIGINAL) == OURS
    assert private(w, kept) == OURS
    assert {event_id: stored(w, event_id)["etag"] for event_id in etags} == etags
    assert w.items()["s1"].kind is ItemKind.SESSION


def test_a_copy_repaired_before_its_edited_instances_were_is_finished_with_one_write(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """An earlier calsync took the marker off the copy's master only: the next full listing
    takes it off the exception left behind, and the master is not written again."""
    w, copy = synced_then_split(world, studio)
    edited = edit(w, instances(w, copy)[1], "Moved one")
    body = {"extendedProperties": marker_properties(None)}
    w.calendar_user.patch(w.calendar_id, copy, body)  # what the earlier repair wrote
    master_etag = stored(w, copy)["etag"]
    w.google.expire_sync_tokens()
    w.google.reset_stats()

    report = w.sync()

    assert (report.ok, writes(w)) == (True, {"calendar.events.patch": 1})
    assert MARKER_ITEM not in private(w, edited)
    assert stored(w, copy)["etag"] == master_etag
    w.google.expire_sync_tokens()
    w.google.reset_stats()
    assert (w.sync().writes, writes(w)) == (0, {})


def test_an_edited_instance_of_the_copy_beyond_the_window_loses_the_marker_too(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """The window moves on: an exception still marked would come into it later."""
    w = world(contacts=False, inbound_calendar=True)
    w.schedule.add(studio.user, studio.session("s1", day=3))
    w.sync()
    copy = split_weekly_session(w, count=120)
    far = studio.now + timedelta(days=740)  # the window ends 731 days ahead
    span = {"timeMin": far.isoformat(), "timeMax": (far + timedelta(days=8)).isoformat()}
    [beyond, *_] = instances(w, copy, **span)
    edited = edit(w, beyond, "Far away")

    report = w.sync()

    assert report.ok, report.summary()
    assert MARKER_ITEM not in private(w, edited)
    w.google.expire_sync_tokens()
    w.google.reset_stats()
    assert (w.sync().writes, writes(w)) == (0, {})

"""Regression tests for the cases that once lost or wrongly touched a user's item.

Each test names the promise it proves; each failed before the fix it came with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
from studio_world import (
    ANN,
    CAL,
    GROUP,
    USER,
    World,
    appointment,
    client,
    make_world,
    session,
    timed,
)

from calsync import (
    BackendError,
    EventFields,
    ItemKind,
    Marker,
    ScheduleItem,
    Side,
    SqliteStateStore,
    Timed,
)
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.testing import MemoryScheduleSource, SimulatedCrash

NS = "studio.u7"
OTHER = "other@group.calendar.google.com"


def switch_to(world: World, calendar_id: str, **options: object) -> None:
    world.profile = attrs.evolve(world.profile, calendar_id=calendar_id)
    if options:
        world.options(**options)


def made_in_google(world: World, title: str = "Dentist", day: int = 5) -> str:
    event = world.calendar.external_create(CAL, EventFields(title, when=timed(day, 15)))
    return event.id


# -- 1. switching calendars ---------------------------------------------------------------


@pytest.fixture
def switching(world: World) -> World:
    world.calendar.add_calendar(OTHER)
    world.options(inbound_calendar=True)
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, appointment("a1"))
    made_in_google(world)
    world.sync()
    return world


def test_switching_calendar_keeps_unlinked_appointments_and_writes_the_schedule_to_the_new_one(
    switching: World,
) -> None:
    world = switching
    unlinked = [i.id for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    old_events = dict(world.events())

    switch_to(world, OTHER)
    report = world.sync()

    assert set(world.items()) == {"s1", "a1", *unlinked}
    assert world.events() == old_events  # the old calendar is left as it is
    new = world.calendar.events(OTHER)
    assert {event_id_for(NS, "s1"), event_id_for(NS, "a1")} <= set(new)
    assert len(new) == 3  # the unlinked appointment is part of the schedule too
    assert not any("restored" in w for w in report.warnings)
    assert any("calendar changed" in w for w in report.warnings)
    assert world.sync().writes == 0


def test_the_run_that_switches_calendar_keeps_the_new_calendars_cursors(switching: World) -> None:
    """The switch starts the channel over: the run reads its cursors again, so it stores
    those it ends with (a host change cursor equal to the old one included) and the next run
    reads both sides from them."""
    world = switching
    world.schedule.change_feed = True
    world.sync()
    world.sync()

    switch_to(world, OTHER)
    world.sync()

    cursors = [world.store.get_sync_cursor(NS, Channel.CALENDAR, side) for side in Side]
    assert None not in cursors
    assert world.sync().writes == 0


def test_switching_back_adopts_the_events_already_there_without_duplicates(
    switching: World,
) -> None:
    world = switching
    before = set(world.events())
    switch_to(world, OTHER)
    world.sync()

    switch_to(world, CAL)
    report = world.sync()

    assert set(world.events()) == before
    assert report.count(Side.REMOTE, "created") == 0
    assert len(world.items()) == 3
    assert world.sync().writes == 0


def test_switching_to_a_calendar_holding_our_events_adopts_them(switching: World) -> None:
    world = switching
    ours = world.events()[event_id_for(NS, "s1")]
    assert ours.fields is not None
    world.calendar.external_create(
        OTHER, ours.fields, event_id=event_id_for(NS, "s1"), marker=Marker(NS, "s1")
    )

    switch_to(world, OTHER)
    report = world.sync()

    assert report.counts["adopted"] == 1
    assert len(world.calendar.events(OTHER)) == 3


def test_cleanup_of_the_old_calendar_removes_only_what_calsync_made(switching: World) -> None:
    world = switching
    made_by_user = {e for e, ev in world.events().items() if ev.marker is None}
    switch_to(world, OTHER, cleanup_old_calendar=True)

    report = world.sync()

    assert set(world.events()) == made_by_user
    assert any("removed 2 of calsync's events" in w for w in report.warnings)
    assert len(world.items()) == 3


def test_a_dry_run_of_a_switch_changes_nothing(switching: World) -> None:
    world = switching
    rows = world.store.mappings(NS, Channel.CALENDAR)
    switch_to(world, OTHER)

    report = world.sync(dry_run=True)

    assert world.store.mappings(NS, Channel.CALENDAR) == rows
    assert world.store.get_paired_calendar(NS) == CAL
    assert world.calendar.events(OTHER) == {}
    assert report.would["remote.created"] == 3


# -- 2. foreign items carrying our marker --------------------------------------------------


def test_a_copy_of_our_event_made_in_google_survives_the_deletion_of_its_host_item(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    ours = world.events()[event_id_for(NS, "s1")]
    assert ours.fields is not None
    copy = world.calendar.external_create(CAL, ours.fields, marker=Marker(NS, "s1"))

    world.schedule.remove(USER, "s1")
    report = world.sync()

    assert report.ok, report.summary()
    assert set(world.events()) == {copy.id}
    # with inbound sync the copy is the Google user's own event: it comes to the studio
    assert [item.remote_id for item in world.items().values()] == [copy.id]
    world.options(inbound_calendar=False)
    assert world.sync().writes == 0
    assert set(world.events()) == {copy.id}


@pytest.mark.parametrize("host_id", ["../../etc/passwd", "x" * 1000, "bad\x00id"])
def test_a_foreign_event_with_a_garbage_marker_is_never_deleted(world: World, host_id: str) -> None:
    world.options(inbound_calendar=True)
    event = world.calendar.external_create(
        CAL, EventFields("Imported", when=timed(2)), marker=Marker(NS, host_id)
    )

    world.sync()
    world.sync()

    assert event.id in world.events()


def test_an_oversize_marker_is_the_users_own_event_and_comes_back_as_unlinked(
    world: World,
) -> None:
    world.options(inbound_calendar=True)
    world.calendar.external_create(
        CAL, EventFields("Imported", when=timed(2)), marker=Marker(NS, "x" * 1000)
    )

    world.sync()

    assert [i.title for i in world.items().values()] == ["Imported"]


# -- 4. one unreadable item never blocks the rest -------------------------------------------


def test_an_unreadable_synced_event_is_an_item_error_and_new_items_still_go_out(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.calendar.external_delete(CAL, event_id_for(NS, "s1"))
    world.calendar.expire_cursors()  # a full re-listing: the absence must be confirmed
    world.calendar.fail_next("get_event", BackendError("500 unreadable"), count=5)
    world.schedule.add(USER, session("s2", day=6))

    report = world.sync()

    assert [e.item for e in report.errors] == ["s1"]
    assert report.fatal is None
    assert event_id_for(NS, "s2") in world.events()
    assert "s1" in world.items()


def test_an_unreadable_host_row_is_reported_and_its_event_kept(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, session("s2", day=6))
    world.sync()
    world.schedule.add_corrupt(USER, world.items()["s1"], "its end is before its start")

    report = world.sync()

    assert event_id_for(NS, "s1") in world.events()
    assert any("s1" in w and "end is before its start" in w for w in report.warnings)
    assert report.writes == 0


@pytest.mark.parametrize(
    ("host_id", "shown"),
    [
        ("s\ud800", "s\\ud800"),  # half of a UTF-16 pair, as Windows text can hold
        ("bad\x00id", "bad\\x00id"),
        ("tab\tid", "tab\\tid"),
        ("x" * 300, "x" * 60 + "\N{HORIZONTAL ELLIPSIS}"),  # longer than a marker holds
    ],
    ids=["lone-surrogate", "nul", "tab", "oversize"],
)
def test_a_host_item_whose_id_calsync_cannot_keep_is_reported_and_the_rest_still_syncs(
    world: World, host_id: str, shown: str
) -> None:
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, session(host_id, day=6))

    report = world.sync()

    assert report.fatal is None
    assert set(world.events()) == {event_id_for(NS, "s1")}
    assert any(f"item {shown} was skipped" in w and "its id" in w for w in report.warnings)
    again = world.sync()
    assert (again.fatal, again.writes) == (None, 0)


def test_an_unlinked_appointment_naming_a_remote_id_calsync_cannot_read_is_reported(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    unlinked = ScheduleItem("u1", ItemKind.UNLINKED, when=timed(6), remote_id="e\ud800")
    world.schedule.add(USER, unlinked)

    report = world.sync()

    assert report.fatal is None
    assert set(world.events()) == {event_id_for(NS, "s1")}
    assert any(
        "item u1 was skipped" in w and "the remote id it names" in w for w in report.warnings
    )


@pytest.mark.parametrize(
    "host_id", ["c\ud800", "c\x00", "c" * 300], ids=["lone-surrogate", "nul", "oversize"]
)
def test_a_client_whose_id_calsync_cannot_keep_is_reported_and_the_rest_still_sync(
    world: World, host_id: str
) -> None:
    world.options(contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.clients.add(USER, client(host_id, "Bo"), groups=[GROUP])

    report = world.sync()

    assert report.fatal is None
    assert [c.marker.host_id for c in world.contacts.contacts().values() if c.marker] == ["c1"]
    assert any("was skipped" in w and "its id" in w for w in report.warnings)


def test_a_deletion_of_an_id_calsync_cannot_keep_from_a_host_change_feed_is_ignored(
    tmp_path: Path,
) -> None:
    with SqliteStateStore(tmp_path / "state.sqlite3") as store:
        world = make_world(store, inbound_calendar=True)
        world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
        world.schedule.add(USER, session("s1"))
        world.schedule.add(USER, session("s\ud800", day=6))
        world.sync()
        world.schedule.remove(USER, "s\ud800")
        world.schedule.add(USER, session("s2", day=7))

        report = world.sync()

        assert report.fatal is None
        assert set(world.events()) == {event_id_for(NS, "s1"), event_id_for(NS, "s2")}


def test_text_with_half_a_utf16_pair_is_sent_with_a_replacement_character_and_stays_quiet(
    world: World,
) -> None:
    broken = attrs.evolve(ANN, name="Zo\udc00e")
    world.schedule.add(USER, session("s1", client=broken, location="Hall \ud83d"))

    report = world.sync()

    event = world.events()[event_id_for(NS, "s1")]
    assert event.fields is not None
    assert event.fields.title == "Wedding - Zo\N{REPLACEMENT CHARACTER}e"
    assert event.fields.location == "Hall \N{REPLACEMENT CHARACTER}"
    assert report.writes == 1
    assert world.sync().writes == 0


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"title": "t" * 1025}, "its title is longer than 1024 characters"),
        ({"description": "d" * 8193}, "its description is longer than 8192 characters"),
    ],
    ids=["title", "description"],
)
def test_an_item_google_would_refuse_is_reported_never_sent_and_its_event_kept(
    world: World, changes: dict[str, object], why: str
) -> None:
    world.schedule.add(USER, appointment("a1", title="Studio cleaning"))
    world.schedule.add(USER, appointment("a2", title="Backdrop delivery", day=6))
    world.sync()
    world.schedule.edit(USER, "a1", **changes)

    report = world.sync()

    event = world.events()[event_id_for(NS, "a1")]
    assert event.fields is not None
    assert event.fields.title == "Studio cleaning"
    assert any(f"item a1 was skipped: it was not sent: {why}" == w for w in report.warnings)
    assert report.writes == 0
    assert set(world.events()) == {event_id_for(NS, "a1"), event_id_for(NS, "a2")}


def test_an_unreadable_row_under_an_id_calsync_cannot_keep_is_reported_by_its_escaped_id(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    world.schedule.add_corrupt(USER, session("bad\x00id", day=6), "its end is before its start")

    report = world.sync()

    assert report.fatal is None
    assert set(world.events()) == {event_id_for(NS, "s1")}
    assert "item bad\\x00id could not be read, so it was skipped: its end is before its start" in (
        report.warnings
    )


# -- 5. a Google edit after a crash --------------------------------------------------------


def test_a_google_edit_made_after_a_crash_before_the_record_is_kept(world: World) -> None:
    world.options(inbound_calendar=True)
    world.schedule.add(USER, session("s1", day=3, hour=10))
    world.calendar.crash_after_next("create_event")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.calendar.clear_faults()
    event_id = event_id_for(NS, "s1")
    world.calendar.external_update(CAL, event_id, when=timed(3, 14))

    world.sync()

    assert world.items()["s1"].when == timed(3, 14)
    assert world.events()[event_id].fields.when == timed(3, 14)  # type: ignore[union-attr]


def test_a_held_orphan_deletion_is_planned_again_until_it_is_confirmed(world: World) -> None:
    # found by the state machine: the remote cursor moved past the orphan while its deletion
    # was held, so no later run saw it again and calsync's event outlived its host item
    world.schedule.add(USER, session("s1", day=3))
    world.schedule.add(USER, session("s2", day=4))
    world.sync()
    world.schedule.add(USER, session("s3", day=5))
    world.calendar.crash_after_next("create_event")
    with pytest.raises(SimulatedCrash):
        world.sync()  # s3's event is made, its pair never recorded
    world.calendar.clear_faults()
    world.schedule.remove(USER, "s3")
    world.schedule.remove(USER, "s1")

    first, second = world.sync(), world.sync()
    world.sync(confirm_deletions=True)

    orphan = (
        f"delete orphaned remote calendar item {event_id_for(NS, 's3')} "
        "(host 'Wedding - Ann Smith' (s3))"
    )
    assert orphan in [held.description for held in first.held]
    assert orphan in [held.description for held in second.held]
    assert set(world.events()) == {event_id_for(NS, "s2")}


# -- 6. the repeated DST hour --------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "naive"),
    [
        ("Europe/Berlin", datetime(2027, 10, 31, 2, 30)),
        ("America/New_York", datetime(2027, 11, 7, 1, 30)),
        ("Australia/Sydney", datetime(2027, 4, 4, 2, 30)),
    ],
)
def test_times_in_the_repeated_hour_compare_as_instants(zone: str, naive: datetime) -> None:
    tz = ZoneInfo(zone)
    second = naive.replace(tzinfo=tz, fold=1)
    same_in_utc = second.astimezone(UTC)

    local = Timed(second, second + timedelta(minutes=30), zone)
    utc = Timed(same_in_utc, same_in_utc + timedelta(minutes=30), zone)

    assert local == utc
    assert hash(local) == hash(utc)


def test_a_session_in_the_repeated_hour_syncs_once_and_then_stays_quiet(world: World) -> None:
    start = datetime(2027, 10, 31, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1)
    item = ScheduleItem(
        "s1",
        ItemKind.APPOINTMENT,
        when=Timed(start, start + timedelta(minutes=30), "Europe/Berlin"),
        title="Night shoot",
    )
    world.schedule.add(USER, item)
    world.sync()

    assert world.sync().writes == 0


# -- 7. a dry run writes nothing -----------------------------------------------------------


def test_a_dry_run_writes_nothing_anywhere_and_counts_what_it_would_do(world: World) -> None:
    world.options(contacts=True, client_group=GROUP, inbound_calendar=True)
    for i in range(3):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.clients.add(USER, client("c1"), groups=[GROUP])
    made_in_google(world)
    store_before = _store_state(world)
    events_before = world.calendar.events(CAL, include_deleted=True)
    groups_before = world.contacts.groups()
    items_before = world.items()

    report = world.sync(dry_run=True)

    assert _store_state(world) == store_before
    assert world.calendar.events(CAL, include_deleted=True) == events_before
    assert world.contacts.groups() == groups_before
    assert world.items() == items_before
    assert (report.would["remote.created"], report.would["host.created"]) == (4, 1)
    assert "would be 4 created" in report.summary()


def _store_state(world: World) -> tuple[object, ...]:
    store = world.store
    per_channel = [
        (
            store.mappings(NS, channel),
            store.pending(NS, channel),
            [store.get_sync_cursor(NS, channel, side) for side in Side],
            store.get_config_digest(NS, channel),
        )
        for channel in Channel
    ]
    return (*per_channel, store.get_remote_group(NS), store.get_paired_calendar(NS))


# -- 8. only ordinary events become studio items -------------------------------------------


@pytest.mark.parametrize("event_type", ["outOfOffice", "focusTime", "workingLocation"])
def test_special_event_types_never_become_studio_items_whatever_the_backend_lists(
    world: World, event_type: str
) -> None:
    world.options(inbound_calendar=True)
    world.calendar.skip_event_types = frozenset()
    world.calendar.external_create(CAL, EventFields("Away", when=timed(2)), event_type=event_type)

    world.sync()

    assert world.items() == {}


def test_a_contact_carrying_our_marker_that_calsync_did_not_create_is_never_deleted(
    world: World,
) -> None:
    world.options(contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    [ours] = world.contacts.contacts().values()
    assert ours.fields is not None
    copy = world.contacts.external_create(ours.fields, groups=[GROUP], marker=Marker(NS, "c1"))

    world.clients.remove_from_group(USER, GROUP, "c1")
    report = world.sync()

    assert set(world.contacts.contacts()) == {copy.id}
    assert any(copy.id in w and "did not create it" in w for w in report.warnings)


@pytest.mark.parametrize("feed", [False, True], ids=["full listing", "change feed"])
def test_a_conversion_whose_event_was_deleted_in_google_restores_it_for_the_session(
    world: World, feed: bool
) -> None:
    world.schedule.change_feed = feed
    world.options(inbound_calendar=True)
    event_id = made_in_google(world)
    world.sync()
    [unlinked] = world.items()
    world.calendar.external_delete(CAL, event_id)
    session_item = world.schedule.convert(USER, unlinked, client=ANN, session_type="Portrait")

    world.sync()

    mapping = world.store.mappings(NS, Channel.CALENDAR)
    assert list(mapping) == [session_item.id]
    restored = world.events()[mapping[session_item.id].remote_id]
    assert restored.marker == Marker(NS, session_item.id)
    assert world.sync().writes == 0

"""The engine end to end on the in-memory fakes: every promise, named for what it proves."""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from read_log import ReadLog
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
    CalendarGone,
    DeletionRules,
    EventFields,
    ItemKind,
    Marker,
    MemoryStateStore,
    RemoteDeletion,
    RemoteEvent,
    Side,
    StateStore,
    SyncEngine,
    SyncWindow,
    Timed,
    TransientError,
    google_wins,
    host_wins,
    newest_wins,
)
from calsync.engine.actions import Action, CreateRemote
from calsync.engine.calendar import CalendarSync
from calsync.engine.executor import Executor
from calsync.engine.records import RemoteRecord
from calsync.engine.report import PLANNED_SHOWN
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.state import RemoteGroup
from calsync.testing import SimulatedCrash


def seed(world: World, sessions: int = 3, appointments: int = 2) -> None:
    for i in range(sessions):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    for i in range(appointments):
        world.schedule.add(USER, appointment(f"a{i}", day=3 + i))


def test_initial_sync_puts_every_item_in_the_calendar_under_deterministic_ids(world: World) -> None:
    seed(world)

    report = world.sync()

    events = world.events()
    assert report.count(Side.REMOTE, "created") == 5
    assert set(events) == {event_id_for("studio.u7", f"s{i}") for i in range(3)} | {
        event_id_for("studio.u7", f"a{i}") for i in range(2)
    }
    assert all(e.marker is not None and e.marker.namespace == "studio.u7" for e in events.values())
    assert report.initial_sync_completed
    assert report.ok


def test_the_stock_session_template_shows_the_client_name_and_phone(world: World) -> None:
    world.schedule.add(USER, session("s1"))

    world.sync()

    (event,) = world.events().values()
    assert event.fields is not None
    assert event.fields.title == "Wedding - Ann Smith"
    assert ANN.phone in event.fields.description


def test_a_second_run_with_nothing_changed_writes_nothing(world: World) -> None:
    seed(world)
    world.sync()
    world.calendar.calls.clear()

    report = world.sync()

    assert report.writes == 0
    assert report.counts == {}
    assert world.calendar.calls["write_events"] == 0
    assert world.calendar.calls["list_events"] == 1


def test_a_host_edit_updates_the_same_event(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.schedule.edit(USER, "s1", when=timed(5, 14))

    report = world.sync()

    (event,) = world.events().values()
    assert report.count(Side.REMOTE, "updated") == 1
    assert event.fields is not None
    assert event.fields.when == timed(5, 14)


def test_a_google_time_change_to_a_session_comes_back_to_the_host(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_update(CAL, event_id, when=timed(6, 9))

    report = world.sync()

    assert report.count(Side.HOST, "updated") == 1
    assert world.items()["s1"].when == timed(6, 9)
    assert world.sync().writes == 0


def test_a_google_title_edit_to_a_session_is_put_back(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_update(CAL, event_id, title="oops")

    world.sync()

    assert world.events()[event_id].fields.title == "Wedding - Ann Smith"  # type: ignore[union-attr]
    assert world.items()["s1"].title == ""


def test_a_google_made_event_comes_back_as_an_unlinked_appointment(world: World) -> None:
    made = world.calendar.external_create(CAL, EventFields("Coffee with Ben", when=timed(2, 11)))

    report = world.sync()

    (item,) = world.items().values()
    assert report.count(Side.HOST, "created") == 1
    assert (item.kind, item.title, item.remote_id) == (
        ItemKind.UNLINKED,
        "Coffee with Ben",
        made.id,
    )
    assert world.sync().writes == 0


def test_google_made_events_stay_out_of_the_host_when_inbound_is_off() -> None:
    world = make_world(MemoryStateStore(), inbound_calendar=False)
    world.calendar.external_create(CAL, EventFields("Private", when=timed(2)))

    world.sync()

    assert world.items() == {}


def test_converting_an_unlinked_appointment_keeps_the_same_event(world: World) -> None:
    made = world.calendar.external_create(CAL, EventFields("Call Ann", when=timed(2, 11)))
    world.sync()
    (unlinked_id,) = world.items()
    world.schedule.convert(USER, unlinked_id, client=ANN, session_type="Portrait")

    report = world.sync()

    events = world.events()
    assert list(events) == [made.id]
    event = events[made.id]
    assert event.fields is not None
    assert event.fields.title == "Portrait - Ann Smith"
    (session_id,) = world.items()
    assert event.marker == Marker("studio.u7", session_id)
    assert report.count(Side.REMOTE, "created") == 0
    assert report.count(Side.REMOTE, "deleted") == 0
    assert world.sync().writes == 0


@pytest.mark.parametrize("inbound", [True, False], ids=["inbound", "outbound only"])
def test_a_copy_the_google_user_made_of_our_event_comes_in_as_their_own_event(
    store: StateStore, inbound: bool
) -> None:
    """Duplicating an event in Google copies its private properties, calsync's marker
    included: the copy is the Google user's new event, not the session's."""
    world = make_world(store, inbound_calendar=inbound)
    world.schedule.add(USER, session("s1"))
    world.sync()
    ours = event_id_for("studio.u7", "s1")
    original = world.events()[ours]
    assert original.fields is not None
    follow_up = attrs.evolve(original.fields, title="Follow-up", when=timed(9))
    copy = world.calendar.external_create(CAL, follow_up, marker=original.marker)

    report = world.sync()

    assert report.ok, report.summary()
    assert set(world.events()) == {ours, copy.id}  # Google: nothing touched
    assert world.events()[ours] == original
    titles = sorted(item.title or item.id for item in world.items().values())
    assert titles == (["Follow-up", "s1"] if inbound else ["s1"])
    assert world.sync().writes == 0

    world.schedule.remove(USER, "s1")
    gone = world.sync()

    assert gone.count(Side.REMOTE, "deleted") == 1
    assert set(world.events()) == {copy.id}  # the copy is never the session's orphan
    assert len(world.items()) == (1 if inbound else 0)


@pytest.mark.parametrize("host_feed", [False, True], ids=["host lists in full", "host feed"])
def test_a_copy_of_an_event_deleted_in_google_restores_the_session_not_a_new_appointment(
    store: StateStore, host_feed: bool
) -> None:
    """The Google user duplicated the session's event, then deleted the original: the copy is
    listed before the original's tombstone. It is the session's event now (adopted, as a
    restore would be), never also a new unlinked appointment."""
    world = make_world(store, inbound_calendar=True)
    world.schedule.change_feed = host_feed
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.sync()
    ours = event_id_for("studio.u7", "s1")
    original = world.events()[ours]
    assert original.fields is not None
    copy = world.calendar.external_create(CAL, original.fields, marker=original.marker)
    world.calendar.external_delete(CAL, ours)

    report = world.sync()

    assert report.ok, report.summary()
    assert list(world.items()) == ["s1"]
    assert set(world.events()) == {copy.id}
    rows = world.store.mappings(world.profile.id, Channel.CALENDAR)
    assert {host_id: row.remote_id for host_id, row in rows.items()} == {"s1": copy.id}
    assert world.sync().writes == 0


def test_a_copy_the_google_user_changed_is_not_taken_over_by_the_sessions_restore(
    store: StateStore,
) -> None:
    """The Google user duplicated the session's event, made the copy their own (another day,
    another title) and deleted the original. The copy is not the session's event: the session
    is restored, and the copy comes in as the user's. Before, the restore took the copy over
    and rewrote it into the session."""
    world = make_world(store, inbound_calendar=True)
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.sync()
    ours = event_id_for("studio.u7", "s1")
    original = world.events()[ours]
    assert original.fields is not None
    dinner = attrs.evolve(original.fields, title="Dinner with the couple", when=timed(10, 15))
    copy = world.calendar.external_create(CAL, dinner, marker=original.marker)
    world.calendar.external_delete(CAL, ours)

    report = world.sync()

    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "restored") == 1
    assert world.events()[copy.id].fields == dinner  # the user's event, untouched
    assert world.events()[ours].fields == original.fields
    assert sorted(item.title or item.id for item in world.items().values()) == [
        "Dinner with the couple",
        "s1",
    ]
    assert world.sync().writes == 0


@pytest.mark.parametrize("inbound", [True, False], ids=["inbound", "outbound only"])
def test_a_copy_of_a_session_the_studio_deleted_meanwhile_is_the_users_event(
    store: StateStore, inbound: bool
) -> None:
    """The Google user duplicated the session's event; the studio deleted the session before
    the next run. The session's event goes; the copy is the user's own (with inbound sync it
    comes in; without, it is left in Google and named). Before, it was left for ever."""
    world = make_world(store, inbound_calendar=inbound)
    world.schedule.add(USER, session("s1"))
    world.sync()
    ours = event_id_for("studio.u7", "s1")
    original = world.events()[ours]
    assert original.fields is not None
    copy = world.calendar.external_create(CAL, original.fields, marker=original.marker)
    world.schedule.remove(USER, "s1")

    report = world.sync()

    assert report.ok, report.summary()
    assert set(world.events()) == {copy.id}
    assert report.count(Side.HOST, "created") == (1 if inbound else 0)
    assert [item.kind for item in world.items().values()] == (
        [ItemKind.UNLINKED] if inbound else []
    )
    assert any("left remote item" in w for w in report.warnings) is not inbound
    assert world.sync().writes == 0


def test_a_converted_item_that_takes_over_a_copy_of_its_deleted_event_leaves_no_stale_pair(
    world: World,
) -> None:
    """Found by the state machine: the unlinked appointment's event was deleted in Google, a
    copy of it (with calsync's marker) was left, and the studio converted the appointment. The
    session takes the copy over; the appointment's old pair went with it, where before it
    stayed in the state for ever (an id the host no longer has, an event Google deleted)."""
    other = world.calendar.add_calendar("other@group.calendar.google.com")
    world.calendar.external_create(CAL, EventFields("Lunch", when=timed(2, 12)))
    world.sync()
    (unlinked_id,) = world.items()
    world.profile = attrs.evolve(world.profile, calendar_id=other)
    world.sync()  # the new calendar gets an event of calsync's, marked for the appointment
    ours = event_id_for("studio.u7", unlinked_id)
    original = world.calendar.events(other)[ours]
    assert original.fields is not None
    copy = world.calendar.external_create(
        other, original.fields, event_id="copy1", marker=original.marker
    )
    world.calendar.external_delete(other, ours)
    session_id = world.schedule.convert(USER, unlinked_id, client=ANN, session_type="Portrait").id

    report = world.sync()

    assert report.ok, report.summary()
    assert set(world.calendar.events(other)) == {copy.id}
    assert world.calendar.events(other)[copy.id].marker == Marker("studio.u7", session_id)
    rows = world.store.mappings(world.profile.id, Channel.CALENDAR)
    assert {host_id: row.remote_id for host_id, row in rows.items()} == {session_id: copy.id}
    assert world.sync().writes == 0


@pytest.mark.parametrize("host_feed", [False, True], ids=["host lists in full", "host feed"])
def test_reading_back_our_own_writes_builds_no_remote_record(
    world: World, monkeypatch: pytest.MonkeyPatch, host_feed: bool
) -> None:
    world.schedule.change_feed = host_feed
    seed(world)
    world.sync()
    built: list[str] = []
    real = CalendarSync.remote_record

    def counted(self: CalendarSync, item: RemoteEvent) -> RemoteRecord[EventFields]:
        built.append(item.id)
        return real(self, item)

    monkeypatch.setattr(CalendarSync, "remote_record", counted)

    echo = world.sync()  # lists the 5 events the initial sync wrote, at their recorded etags

    assert echo.writes == 0
    assert built == []
    world.calendar.external_update(CAL, event_id_for("studio.u7", "s0"), location="Hall")
    assert world.sync().count(Side.REMOTE, "updated") == 1  # a changed etag is still read
    assert built == [event_id_for("studio.u7", "s0")]


def test_each_batch_of_creates_is_let_go_before_the_next_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an initial sync plans an action per item: done batches must not stay in memory
    for i in range(6):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    done: list[weakref.ref[object]] = []
    alive_at_each_batch: list[int] = []
    real = Executor._remote_batch

    def watched(
        self: Executor[Any, Any, Any],
        batch: Sequence[Action[Any]],
        upcoming: Sequence[Action[Any]] | None,
        journaled: bool,
    ) -> bool:
        gc.collect()
        alive_at_each_batch.append(sum(ref() is not None for ref in done))
        done.extend(weakref.ref(action) for action in batch)
        creates = [action for action in batch if isinstance(action, CreateRemote)]
        done.extend(weakref.ref(self.snapshot.host[action.host_id]) for action in creates)
        return real(self, batch, upcoming, journaled)

    monkeypatch.setattr(Executor, "_remote_batch", watched)
    engine = SyncEngine(world.store, world.schedule, world.clients, clock=world.clock, batch_size=2)

    report = engine.sync(world.profile, *world.backends())

    assert report.count(Side.REMOTE, "created") == 6
    assert alive_at_each_batch == [0, 0, 0]  # the actions and host records of done batches


def test_a_tombstone_that_kept_the_recorded_etag_is_still_a_deletion(world: World) -> None:
    # Google gives a deleted event a new etag; a backend that does not must not make the
    # deletion look like an unchanged event
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.sync()
    (event,) = world.events().values()
    world.calendar._events(CAL)[event.id] = attrs.evolve(event, deleted=True, fields=None)
    world.calendar._log.record(CAL, event.id)

    report = world.sync()

    assert report.count(Side.REMOTE, "restored") == 1
    assert not world.calendar.events(CAL)[event.id].deleted


def test_a_session_deleted_in_google_is_restored_and_the_user_warned(world: World) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_delete(CAL, event_id)

    report = world.sync()

    assert report.count(Side.REMOTE, "restored") == 1
    assert any("deleted in Google" in w for w in report.warnings)
    assert list(world.events()) == [event_id]
    assert "s1" in world.items()


def test_a_session_deleted_in_google_can_delete_the_host_item_when_configured(world: World) -> None:
    world.options(deletion_rules=DeletionRules(session=RemoteDeletion.DELETE_HOST))
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_delete(CAL, event_id)

    world.sync()

    assert world.items() == {}


def test_an_unlinked_appointment_deleted_in_google_is_deleted_in_the_host(world: World) -> None:
    made = world.calendar.external_create(CAL, EventFields("Lunch", when=timed(2)))
    world.sync()
    world.calendar.external_delete(CAL, made.id)

    report = world.sync()

    assert report.count(Side.HOST, "deleted") == 1
    assert world.items() == {}


def test_a_host_deletion_deletes_the_event(world: World) -> None:
    seed(world)
    world.sync()
    world.schedule.remove(USER, "s0")

    report = world.sync()

    assert report.count(Side.REMOTE, "deleted") == 1
    assert event_id_for("studio.u7", "s0") not in world.events()
    assert len(world.events()) == 4


def test_a_mass_deletion_is_held_until_the_host_confirms(world: World) -> None:
    seed(world, sessions=10, appointments=0)
    world.sync()
    for i in range(8):
        world.schedule.remove(USER, f"s{i}")

    held = world.sync()
    again = world.sync()

    assert len(held.held) == 8
    assert len(again.held) == 8
    assert len(world.events()) == 10
    confirmed = world.sync(confirm_deletions=True)
    assert confirmed.count(Side.REMOTE, "deleted") == 8
    assert len(world.events()) == 2


@pytest.mark.parametrize(("removed", "held"), [(6, 0), (8, 8)], ids=["6 of 30", "8 of 30"])
def test_over_change_feeds_deletions_are_measured_against_every_pair(
    world: World, removed: int, held: int
) -> None:
    """A run over change feeds reads only the pairs that changed: the mass-deletion limit
    (more than 5 items and more than a fifth) still counts all of them."""
    world.schedule.change_feed = True
    seed(world, sessions=30, appointments=0)
    world.sync()
    world.sync()
    for i in range(removed):
        world.schedule.remove(USER, f"s{i}")

    report = world.sync()

    assert len(report.held) == held
    assert report.count(Side.REMOTE, "deleted") == removed - held


def test_an_item_leaving_the_window_is_forgotten_not_deleted(world: World) -> None:
    world.schedule.add(USER, session("s1", day=1))
    world.sync()

    world.clock.advance(days=40)
    report = world.sync()

    assert report.count(Side.REMOTE, "deleted") == 0
    assert report.counts["forgotten"] == 1
    assert len(world.events()) == 1
    assert "s1" in world.items()


def test_a_google_event_the_window_reaches_as_days_pass_comes_to_the_studio(
    world: World,
) -> None:
    """Google's sync token lists only what changed: an event made beyond the window (or a
    series' later instances) comes into it as days pass, unchanged. The first run of each day
    lists in full."""
    ahead = SyncWindow().days_ahead
    world.calendar.external_create(CAL, EventFields("Far ahead", when=timed(ahead + 3)))
    world.sync()
    assert world.sync().writes == 0
    assert world.items() == {}

    world.clock.advance(days=5)
    report = world.sync()

    assert report.count(Side.HOST, "created") == 1, report.summary()
    assert [item.title for item in world.items().values()] == ["Far ahead"]
    assert world.sync().writes == 0


def test_a_host_item_the_window_reaches_as_days_pass_goes_to_google_over_a_change_feed(
    world: World,
) -> None:
    """A host change feed lists only what changed, too."""
    world.schedule.change_feed = True
    ahead = SyncWindow().days_ahead
    world.schedule.add(USER, session("s1", day=ahead + 3))
    world.sync()
    assert world.sync().writes == 0
    assert world.events() == {}

    world.clock.advance(days=5)
    report = world.sync()

    assert report.count(Side.REMOTE, "created") == 1, report.summary()
    assert world.sync().writes == 0


def test_a_google_edit_to_an_event_that_comes_back_into_the_window_reaches_the_studio(
    world: World,
) -> None:
    """The appointment left the window and its pair was forgotten; the Google user then moved
    it into the window and edited it. The host's ``create_unlinked`` answers with the
    appointment it already has (idempotent per origin): its old content is not what was
    written, and Google's edit must not be undone by it."""
    made = world.calendar.external_create(CAL, EventFields("Dentist", "old", when=timed(1)))
    world.sync()
    (unlinked_id,) = world.items()
    days = SyncWindow().days_back + 5
    world.clock.advance(days=days)
    assert world.sync().counts["forgotten"] == 1

    world.calendar.external_update(CAL, made.id, description="new", when=timed(days + 2))
    back = world.sync()
    world.sync()

    # the appointment the host already had was updated, not created
    assert (back.count(Side.HOST, "created"), back.count(Side.HOST, "updated")) == (0, 1)

    event = world.events()[made.id].fields
    assert event is not None
    assert (event.description, event.when) == ("new", timed(days + 2))
    item = world.items()[unlinked_id]
    assert (item.description, item.when) == ("new", timed(days + 2))
    assert list(world.items()) == [unlinked_id]
    assert world.sync().writes == 0


@pytest.mark.parametrize("policy", ["host_wins", "newest_wins"])
def test_a_session_adopted_again_after_its_pair_was_forgotten_reports_what_differs(
    store: StateStore, policy: str
) -> None:
    """The session left the window and its pair was forgotten; the Google user then moved
    its event into the window. Adopted again without a base, the two times are a conflict
    for the policy, reported (before: the studio's time won unseen, undoing the move)."""
    chosen = {"host_wins": host_wins, "newest_wins": newest_wins}[policy]
    world = make_world(store, inbound_calendar=True, conflict_policy=chosen)
    world.schedule.add(USER, session("s1", day=1))
    world.sync()
    days = SyncWindow().days_back + 5
    world.clock.advance(days=days)
    assert world.sync().counts["forgotten"] == 1
    ours = event_id_for("studio.u7", "s1")
    world.clock.advance(hours=1)  # the Google edit is the newer one
    world.calendar.external_update(CAL, ours, when=timed(days + 2))

    report = world.sync()

    assert report.ok, report.summary()
    assert [(c.item, c.field) for c in report.conflicts] == [("s1", "when")]
    kept = timed(1) if policy == "host_wins" else timed(days + 2)
    assert world.items()["s1"].when == kept
    event = world.events()[ours].fields
    assert event is not None
    assert event.when == kept
    assert world.sync().writes == 0


def test_held_deletions_do_not_make_every_run_of_a_new_day_list_in_full(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held mass deletion keeps a side's cursor where it was, for as long as the studio
    takes to confirm it: the first run of a day lists in full, the others of that day read
    the change feeds, as any run does."""
    world.schedule.change_feed = True
    seed(world, sessions=10, appointments=0)
    world.sync()
    for number in range(10):
        world.schedule.remove(USER, f"s{number}")
    assert len(world.sync().held) == 10
    listings: list[str] = []
    real = world.schedule.list_items

    def listed(*args: Any, **kwargs: Any) -> Any:
        listings.append("full")
        return real(*args, **kwargs)

    monkeypatch.setattr(world.schedule, "list_items", listed)
    world.clock.advance(days=1)

    for _ in range(3):
        assert len(world.sync().held) == 10

    assert listings == ["full"]


def test_adopting_an_event_shown_in_another_zone_is_no_conflict(store: StateStore) -> None:
    """Without a base (re-setup), the same instants shown in another zone (the calendar's
    zone changed) are no one's edit: nothing is reported, and neither side is written."""
    world = make_world(store, inbound_calendar=True)
    world.schedule.add(USER, appointment("a1", when=timed(3)))
    world.sync()
    ours = event_id_for("studio.u7", "a1")
    start, end = timed(3).bounds()
    world.calendar.external_update(CAL, ours, when=Timed(start, end, "Europe/Paris"))
    world.store.forget_channel(world.profile.id, Channel.CALENDAR)  # the state was lost

    report = world.sync()

    assert report.ok, report.summary()
    assert (report.conflicts, report.writes) == ([], 0)  # neither side is written
    assert world.items()["a1"].when == timed(3)
    assert world.events()[ours].fields.when.zone == "Europe/Paris"  # type: ignore[union-attr]
    assert world.sync().writes == 0


def test_a_failed_google_listing_deletes_nothing_and_is_reported(world: World) -> None:
    seed(world)
    world.sync()
    world.calendar.fail_next("list_events", TransientError("503 backend error"))

    report = world.sync()

    assert report.fatal is not None
    assert "nothing was changed" in report.fatal
    assert len(world.events()) == 5
    assert len(world.items()) == 5


def test_an_expired_sync_token_lists_in_full_and_finds_deletions_by_direct_reads(
    world: World,
) -> None:
    made = world.calendar.external_create(CAL, EventFields("Lunch", when=timed(2)))
    world.sync()
    world.calendar.external_delete(CAL, made.id)
    world.calendar.expire_cursors()

    report = world.sync()

    assert report.count(Side.HOST, "deleted") == 1
    assert world.items() == {}


def test_a_crash_after_a_remote_create_before_the_state_commit_makes_no_duplicate(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    world.calendar.crash_after_next("create_event")
    with pytest.raises(SimulatedCrash):
        world.sync()

    report = world.sync()  # a fresh engine over the same store

    assert len(world.events()) == 1
    assert len(world.calendar.events(CAL, include_deleted=True)) == 1
    assert report.ok
    assert world.sync().writes == 0


def test_one_failing_host_write_is_reported_and_the_rest_still_sync(world: World) -> None:
    a = world.calendar.external_create(CAL, EventFields("One", when=timed(2)))
    b = world.calendar.external_create(CAL, EventFields("Two", when=timed(3)))
    world.schedule.fail_next("create_unlinked", RuntimeError("database locked"))

    report = world.sync()

    assert len(report.errors) == 1
    assert "database locked" in report.errors[0].message
    assert len(world.items()) == 1
    retry = world.sync()
    assert retry.ok
    assert {i.remote_id for i in world.items().values()} == {a.id, b.id}


def test_a_dry_run_plans_but_writes_nothing(world: World, caplog: pytest.LogCaptureFixture) -> None:
    seed(world)

    with caplog.at_level(logging.INFO, logger="calsync.engine.sync"):
        report = world.sync(dry_run=True)

    assert (
        caplog.messages[-1]
        == "profile studio.u7 dry run: 5 actions planned, 0 held, nothing written"
    )
    assert len(report.planned) == report.planned_total == 5
    assert world.events() == {}
    assert world.store.mappings("studio.u7", Channel.CALENDAR) == {}
    assert not report.initial_sync_completed


def test_a_large_plan_describes_its_first_actions_and_counts_them_all(world: World) -> None:
    for i in range(PLANNED_SHOWN + 7):
        world.schedule.add(USER, session(f"s{i}", day=2 + i % 300))

    report = world.sync(dry_run=True)

    assert report.planned_total == PLANNED_SHOWN + 7
    assert len(report.planned) == PLANNED_SHOWN
    assert report.to_dict()["planned_total"] == PLANNED_SHOWN + 7
    assert report.would["remote.created"] == PLANNED_SHOWN + 7


def test_a_deleted_calendar_drops_the_mapping_and_leaves_the_host_alone(world: World) -> None:
    seed(world)
    world.sync()
    world.calendar.delete_calendar(CAL)

    report = world.sync()

    assert report.calendar_gone
    assert len(world.items()) == 5
    new_calendar = world.calendar.add_calendar("fresh@group.calendar.google.com")
    world.profile = attrs.evolve(world.profile, calendar_id=new_calendar)
    world.sync()
    assert len(world.calendar.events(new_calendar)) == 5


def test_re_setup_after_losing_state_adopts_our_events_instead_of_duplicating(
    world: World,
) -> None:
    seed(world)
    world.sync()
    world.store = MemoryStateStore()
    world.options(initial_sync_pending=True)

    report = world.sync()

    assert len(world.events()) == 5
    assert report.counts["adopted"] == 5
    assert report.writes == 0


def test_both_sides_changing_a_time_is_a_reported_conflict_that_the_host_wins(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.schedule.edit(USER, "s1", when=timed(5, 9))
    world.calendar.external_update(CAL, event_id, when=timed(5, 15))

    report = world.sync()

    (conflict,) = report.conflicts
    assert (conflict.field, conflict.winner) == ("when", Side.HOST)
    assert world.events()[event_id].fields.when == timed(5, 9)  # type: ignore[union-attr]


def test_a_studio_edit_after_a_google_edit_came_back_is_an_edit_not_a_conflict(
    world: World,
) -> None:
    """The pair is recorded as the Google edit left it, so the studio's next edit of the
    same field is the only change: under google_wins it would otherwise be lost."""
    world.options(conflict_policy=google_wins)
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.calendar.external_update(CAL, event_id, when=timed(5, 15))
    assert world.sync().count(Side.HOST, "updated") == 1
    world.schedule.edit(USER, "s1", when=timed(6, 9))

    report = world.sync()

    assert report.conflicts == []
    assert world.events()[event_id].fields.when == timed(6, 9)  # type: ignore[union-attr]
    assert world.items()["s1"].when == timed(6, 9)


def test_the_google_wins_policy_brings_googles_time_to_the_host(world: World) -> None:
    world.options(conflict_policy=google_wins)
    world.schedule.add(USER, session("s1"))
    world.sync()
    (event_id,) = world.events()
    world.schedule.edit(USER, "s1", when=timed(5, 9))
    world.calendar.external_update(CAL, event_id, when=timed(5, 15))

    world.sync()

    assert world.items()["s1"].when == timed(5, 15)


def test_changing_the_template_re_renders_every_event(world: World) -> None:
    from calsync import ItemTemplate, TemplateSet

    seed(world, sessions=2, appointments=0)
    world.sync()
    world.options(
        templates=TemplateSet(session=ItemTemplate(title="{client.name} ({session_type})"))
    )

    report = world.sync()

    assert report.count(Side.REMOTE, "updated") == 2
    assert {e.fields.title for e in world.events().values()} == {"Ann Smith (Wedding)"}  # type: ignore[union-attr]


def test_another_users_event_on_a_shared_calendar_is_not_imported(world: World) -> None:
    world.calendar.external_create(
        CAL, EventFields("Ben's shoot", when=timed(2)), marker=Marker("studio.u8", "s1")
    )

    world.sync()

    assert world.items() == {}


def test_out_of_office_and_other_special_events_are_skipped(world: World) -> None:
    world.calendar.external_create(CAL, EventFields("OOO", when=timed(2)), event_type="outOfOffice")

    world.sync()

    assert world.items() == {}


# -- contacts ------------------------------------------------------------------------------


def contacts_world(**options: object) -> World:
    values: dict[str, object] = {"contacts": True, "client_group": GROUP}
    values.update(options)
    world = make_world(MemoryStateStore(), **values)
    return world


def test_the_client_sync_group_goes_to_a_google_group_of_the_same_name() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.clients.add(USER, client("c2", "Ben", "Jones"), groups=[GROUP])
    world.clients.add(USER, client("c3", "Not", "Synced"))

    report = world.sync()

    assert report.count(Side.REMOTE, "created") == 2
    assert GROUP in world.contacts.groups()
    names = {c.fields.given_name for c in world.contacts.contacts().values()}  # type: ignore[union-attr]
    assert names == {"Ann", "Ben"}
    assert world.sync().writes == 0


def test_an_empty_client_group_is_fine() -> None:
    world = contacts_world()

    report = world.sync()

    assert report.ok
    assert world.contacts.contacts() == {}


def test_removing_a_client_from_the_group_deletes_the_contact_calsync_made() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()

    world.clients.remove_from_group_by_user(USER, GROUP, "c1")
    report = world.sync()

    assert report.count(Side.REMOTE, "deleted") == 1
    assert world.contacts.contacts() == {}
    assert "c1" in world.clients.contacts(USER)


def test_a_crash_after_a_contact_create_makes_no_duplicate() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.contacts.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()

    report = world.sync()

    assert report.ok
    assert len(world.contacts.contacts()) == 1
    assert world.sync().writes == 0


def test_a_contact_made_just_before_its_client_left_the_group_leaves_the_group_too() -> None:
    # found by the contacts state machine: the unrecorded contact stayed in the group, and the
    # client's return to the group made a second one there
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.contacts.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")

    left = world.sync()

    assert world.contacts.contacts(GROUP) == {}
    assert len(world.contacts.contacts()) == 1  # unlabelled, kept
    assert any("taken out of the sync group" in warning for warning in left.warnings)

    world.clients.add_to_group(USER, GROUP, "c1")
    world.sync()

    assert [c.marker.host_id for c in world.contacts.contacts(GROUP).values() if c.marker] == ["c1"]


def test_after_a_crash_calsyncs_own_contact_is_adopted_not_a_users_copy() -> None:
    """Found by the contacts state machine: the user copied a synced contact (marker and all)
    and deleted the original; the run restoring it crashed after the create. The next run
    found two contacts naming the client, adopted the copy, and left calsync's own in the
    group beside it (a duplicate). The create's journaled token now tells them apart."""
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    [original] = world.contacts.contacts().values()
    assert original.fields is not None
    copy = world.contacts.external_create(
        original.fields, groups=[GROUP], marker=Marker("studio.u7", "c1")
    )
    world.sync()  # the copy is listed and left alone: the client is paired with the original
    world.contacts.external_delete(original.id)
    world.contacts.crash_after_next("create_contact")  # the restore is made, then the crash
    with pytest.raises(SimulatedCrash):
        world.sync()
    [made] = [c for c in world.contacts.contacts() if c not in (original.id, copy.id)]

    report = world.sync()

    assert report.ok, report.summary()
    rows = world.store.mappings(world.profile.id, Channel.CONTACTS)
    assert {host_id: row.remote_id for host_id, row in rows.items()} == {"c1": made}
    assert set(world.contacts.contacts(GROUP)) == {made, copy.id}  # the copy is the user's
    assert world.contacts.contacts()[copy.id].marker == Marker("studio.u7", "c1")
    assert world.sync().writes == 0


@pytest.mark.parametrize("delete", [True, False], ids=["deleted (default)", "kept if asked"])
def test_an_unrecorded_contact_of_a_deleted_client_goes_as_its_pair_would(delete: bool) -> None:
    """Before, calsync could not tell it from a user's copy and left it in the group."""
    world = contacts_world(deletion_rules=DeletionRules(delete_removed_contacts=delete))
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.contacts.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.clients.remove(USER, "c1")

    report = world.sync()

    assert world.contacts.contacts(GROUP) == {}
    assert len(world.contacts.contacts()) == (0 if delete else 1)  # kept: out of the group
    said = "is to be deleted" if delete else "taken out of the sync group"
    assert any(said in warning for warning in report.warnings)


def test_a_sync_group_deleted_in_google_is_made_again_with_its_contacts_back_in_it() -> None:
    world = contacts_world()
    for number in (1, 2):
        world.clients.add(USER, client(f"c{number}"), groups=[GROUP])
    world.sync()
    contacts = set(world.contacts.contacts())
    old_group = world.contacts.groups()[GROUP]
    world.contacts.delete_group(GROUP)  # the Google user deletes the group; its contacts stay

    report = world.sync()

    assert report.ok, report.summary()
    new_group = world.contacts.groups()[GROUP]
    assert new_group != old_group
    assert set(world.contacts.contacts(GROUP)) == contacts  # the same contacts, back in it
    assert world.store.get_remote_group(world.profile.id) == RemoteGroup(GROUP, new_group)
    assert world.sync().writes == 0


def test_a_contact_edit_in_google_comes_back_when_inbound_contacts_is_on() -> None:
    world = contacts_world(inbound_contacts=True)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    world.contacts.external_update(contact_id, family_name="Smith-Jones")

    report = world.sync()

    assert report.count(Side.HOST, "updated") == 1
    assert world.clients.contacts(USER)["c1"].fields.family_name == "Smith-Jones"


def test_a_contact_deleted_in_google_is_restored() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    (contact_id,) = world.contacts.contacts()
    world.contacts.external_delete(contact_id)

    report = world.sync()

    assert report.count(Side.REMOTE, "restored") == 1
    assert len(world.contacts.contacts()) == 1


def test_a_new_contact_in_the_google_group_becomes_a_client_with_inbound_contacts() -> None:
    from calsync import ContactFields

    world = contacts_world(inbound_contacts=True)
    world.sync()
    world.contacts.external_create(ContactFields(given_name="Dora"), groups=[GROUP])

    report = world.sync()

    assert report.count(Side.HOST, "created") == 1
    assert [c.fields.given_name for c in world.clients.contacts(USER).values()] == ["Dora"]
    assert world.clients.members(USER, GROUP) == list(world.clients.contacts(USER))


def test_an_unrelated_client_is_never_sent() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c9", "Private", "Person"))

    world.sync()

    assert world.contacts.contacts() == {}


def test_a_calendar_failure_does_not_stop_contact_sync() -> None:
    world = contacts_world()
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.calendar.fail_next("list_events", CalendarGone("gone", status=404))

    report = world.sync()

    assert report.calendar_gone
    assert len(world.contacts.contacts()) == 1


def test_sessions_need_a_client() -> None:
    with pytest.raises(ValueError, match="not linked to a client"):
        session("s1", client=None)


def test_a_failed_batch_is_reported_per_item_and_retried_next_run(world: World) -> None:
    seed(world)
    world.calendar.fail_next("write_events", TransientError("batch endpoint unavailable"))

    report = world.sync()

    assert len(report.errors) == 5
    assert report.fatal is None
    assert world.events() == {}
    assert world.sync().count(Side.REMOTE, "created") == 5


def test_progress_is_reported_while_actions_are_applied(world: World) -> None:
    seed(world)
    seen: list[tuple[str, str, int, int]] = []
    engine = world.engine
    engine.progress = lambda *args: seen.append(args)
    engine.batch_size = 2

    engine.sync(world.profile, world.calendar)

    assert seen[-1] == ("studio.u7", "calendar", 5, 5)
    assert [done for *_, done, _ in seen] == [2, 4, 5]


def test_with_change_feeds_on_both_sides_a_run_reads_only_the_rows_of_what_changed() -> None:
    store = ReadLog()
    world = make_world(store)
    world.schedule.change_feed = True
    for n in range(30):
        world.schedule.add(USER, appointment(f"a{n}", day=n % 20 + 1))
    world.sync()  # the first sync lists everything
    world.sync()
    store.forget_reads()

    world.schedule.edit(USER, "a7", title="Moved")
    report = world.sync()
    edit_reads, edit_found = store.reads, store.whole_reads
    store.forget_reads()
    echo = world.sync()  # Google's feed lists the update back

    assert (report.count(Side.REMOTE, "updated"), echo.writes) == (1, 0)
    assert len(edit_reads) == len(store.reads) == 1  # never every row or head
    assert edit_found == store.whole_reads == [{"a7"}]  # the row of what changed, no other


def test_a_full_listing_reads_whole_only_the_rows_of_the_pairs_it_acts_on() -> None:
    store = ReadLog()
    world = make_world(store)
    for n in range(30):
        world.schedule.add(USER, appointment(f"a{n}", day=n % 20 + 1))
    world.sync()
    world.sync()  # reads the initial writes back
    store.forget_reads()

    quiet = world.sync()
    world.schedule.edit(USER, "a7", title="Moved")
    world.calendar.external_update(CAL, event_id_for(world.profile.id, "a9"), location="Hall")
    changed = world.sync()

    assert quiet.writes == 0
    assert changed.ok
    assert changed.count(Side.REMOTE, "updated") >= 1
    assert "rows" not in store.reads  # never every base
    # the row the Google change leads to, then the one of the host change: each once
    assert store.whole_reads == [{"a9"}, {"a7"}]


def test_a_full_host_listing_reads_every_rows_revision_and_a_head_only_for_a_full_remote_one() -> (
    None
):
    store = ReadLog()
    world = make_world(store)
    for n in range(30):
        world.schedule.add(USER, appointment(f"a{n}", day=n % 20 + 1))
    world.sync()
    world.sync()  # reads the initial writes back (a full listing of Google: every head)
    store.forget_reads()

    quiet = world.sync()
    quiet_reads = store.reads
    store.forget_reads()
    world.schedule.edit(USER, "a7", title="Moved")
    edited = world.sync()
    edited_reads = store.reads
    store.forget_reads()
    world.calendar.expire_cursors()
    relisted = world.sync()

    assert (quiet.writes, edited.writes, relisted.writes) == (0, 1, 0)
    assert quiet_reads == ["revisions"]  # nothing else
    assert edited_reads == ["revisions", "rows of ['a7'] []"]  # and the row that changed
    assert store.reads == ["revisions", "heads"]  # Google listed in full: matched by head

"""A hypothesis state machine over the whole engine (the calendar channel; the contacts channel
has its own machine in ``test_contacts_state_machine.py``).

Random host and Google edits, creates, deletes and conversions; random conflict policies;
failing writes and reads; crashes between a remote write and its state commit (the process is
gone: the next run is a fresh engine over the same store), followed by edits on either side;
calendar switches back and forth; Google copies of our events carrying our marker and events
with garbage markers; times in the repeated and skipped hours of DST changes in several zones.
After every clean sync the invariants hold: both sides agree under the mapping, no remote
duplicates, nothing deleted that no one deleted (studio items, and Google events calsync did
not make), held deletions never executed, and a re-run writes nothing.

The default run uses a modest number of examples; ``pytest -m stateful
--hypothesis-profile=thorough`` runs at least 2,000.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from heads_store import HeadsStore
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)
from machines import machine_settings
from studio_world import ANN, CAL, USER, World, appointment, make_world, session, timed

from calsync import (
    EventFields,
    ItemKind,
    Marker,
    MemoryStateStore,
    Timed,
    TransientError,
    google_wins,
    host_wins,
    merge_fields,
    newest_wins,
)
from calsync.engine import channel
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.testing import SimulatedCrash

NS = "studio.u7"
POLICIES = {
    "host_wins": host_wins,
    "google_wins": google_wins,
    "newest_wins": newest_wins | host_wins,
    "merge": merge_fields(when=google_wins, fallback=host_wins),
}
TITLES = st.sampled_from(["Lunch", "Call", "Review", "Edit proofs", ""])
REMOTE_WRITES = ["create_event", "update_event", "delete_event"]
OTHER_CAL = "other@group.calendar.google.com"
#: wall-clock starts in the repeated (fold) and skipped (gap) hours of DST changes
DST_STARTS = [
    (datetime(2027, 10, 31, 2, 30), "Europe/Berlin", 1),
    (datetime(2027, 10, 31, 2, 30), "Europe/Berlin", 0),
    (datetime(2027, 3, 28, 2, 30), "Europe/Berlin", 0),
    (datetime(2027, 11, 7, 1, 30), "America/New_York", 1),
    (datetime(2027, 3, 14, 2, 30), "America/New_York", 0),
    (datetime(2027, 4, 4, 2, 30), "Australia/Sydney", 1),
]
HOST_WRITES = ["create_unlinked", "update_item", "delete_item"]


class EngineMachine(RuleBasedStateMachine):
    host_items = Bundle("host_items")

    def __init__(self) -> None:
        super().__init__()
        self.world: World = make_world(HeadsStore(), inbound_calendar=True)
        self.counter = 0
        #: host items the host user deleted or converted (allowed to be gone)
        self.host_gone_by_user: set[str] = set()
        #: remote events the Google user deleted (their unlinked items may go)
        self.remote_deleted_by_user: set[str] = set()
        #: host items the host user made
        self.host_made: set[str] = set()
        #: events the Google user made: calsync deletes one only after it was synced
        self.google_made: set[tuple[str, str]] = set()
        #: (calendar, event) pairs ever in the mapping
        self.ever_mapped: set[tuple[str, str]] = set()
        #: copies of our events made in Google, carrying our marker
        self.copies: set[str] = set()
        #: events the Google user made outside the sync window (never synced while there)
        self.outside: set[str] = set()
        self.world.calendar.add_calendar(OTHER_CAL)
        self.long_feed = channel.LONG_FEED  # (set back at the teardown)

    def teardown(self) -> None:
        channel.LONG_FEED = self.long_feed

    @initialize(
        policy=st.sampled_from(sorted(POLICIES)),
        batch=st.sampled_from([1, 3, 50]),
        feed=st.booleans(),
        long_feed=st.sampled_from([1, channel.LONG_FEED]),
    )
    def choose_policy(self, policy: str, batch: int, feed: bool, long_feed: int) -> None:
        self.world.options(conflict_policy=POLICIES[policy])
        self.batch = batch
        self.world.schedule.change_feed = feed  # a host with a change feed, or without
        # how many items a feed names before every row's head is read: from one on, the
        # runs over change feeds that name more than a quarter of the pairs take that path
        self.long_feed, channel.LONG_FEED = channel.LONG_FEED, long_feed

    # -- the host user -------------------------------------------------------------------

    @rule(
        target=host_items,
        day=st.integers(1, 20),
        hour=st.integers(8, 18),
        is_session=st.booleans(),
    )
    def host_creates(self, day: int, hour: int, is_session: bool) -> str:
        self.counter += 1
        item_id = f"h{self.counter}"
        self.host_made.add(item_id)
        item = session(item_id, day, hour) if is_session else appointment(item_id, day=day)
        self.world.schedule.add(USER, item)
        return item_id

    @rule(item_id=host_items, day=st.integers(1, 20), hour=st.integers(8, 18), title=TITLES)
    def host_edits(self, item_id: str, day: int, hour: int, title: str) -> None:
        item = self.world.items().get(item_id)
        if item is None:
            return
        self.world.schedule.edit(USER, item_id, when=timed(day, hour), title=title)

    @rule(target=host_items, start=st.sampled_from(DST_STARTS), minutes=st.sampled_from([30, 90]))
    def host_creates_in_a_dst_change(self, start: tuple[datetime, str, int], minutes: int) -> str:
        naive, zone, fold = start
        begin = naive.replace(tzinfo=ZoneInfo(zone), fold=fold)
        self.counter += 1
        item_id = f"h{self.counter}"
        self.host_made.add(item_id)
        end = begin.astimezone(UTC) + timedelta(minutes=minutes)  # elapsed, not wall time
        when = Timed(begin, end, zone)
        self.world.schedule.add(USER, appointment(item_id, day=1, when=when))
        return item_id

    @rule(item_id=consumes(host_items))
    def host_deletes(self, item_id: str) -> None:
        if item_id in self.world.items():
            self.world.schedule.remove(USER, item_id)
            self.host_gone_by_user.add(item_id)

    @rule(target=host_items)
    def host_converts_an_unlinked_appointment(self) -> str:
        unlinked = [i for i in self.world.items().values() if i.kind is ItemKind.UNLINKED]
        if not unlinked:
            return "none"
        old = unlinked[0]
        converted = self.world.schedule.convert(USER, old.id, client=ANN, session_type="Portrait")
        self.host_gone_by_user.add(old.id)
        return converted.id

    # -- the Google user -----------------------------------------------------------------

    @property
    def cal(self) -> str:
        calendar_id = self.world.profile.calendar_id
        assert calendar_id is not None
        return calendar_id

    def events(self) -> dict[str, Any]:
        return self.world.calendar.events(self.cal)

    @rule(day=st.integers(1, 20), hour=st.integers(8, 18), title=TITLES, garbage=st.booleans())
    def google_creates(self, day: int, hour: int, title: str, garbage: bool) -> None:
        self.counter += 1  # deterministic ids keep hypothesis's replays identical
        event = EventFields(title, when=timed(day, hour))
        # an event another tool stamped with a mangled marker is still the user's own
        marker = Marker(NS, "x" * 300) if garbage else None
        event_id = f"gmade{self.counter:05d}"
        self.world.calendar.external_create(self.cal, event, event_id=event_id, marker=marker)
        self.google_made.add((self.cal, event_id))

    @rule(day=st.sampled_from([-200, -45, 760, 1200]), title=TITLES)
    def google_creates_outside_the_window(self, day: int, title: str) -> None:
        """Google's sync-token listings are not windowed: such an event is in the next
        incremental listing, and must stay out of the studio as a full listing leaves it."""
        self.counter += 1
        event_id = f"gfar{self.counter:05d}"
        event = EventFields(title, when=timed(day, 10))
        self.world.calendar.external_create(self.cal, event, event_id=event_id)
        self.google_made.add((self.cal, event_id))
        self.outside.add(event_id)

    @rule(data=st.data())
    def google_copies_one_of_ours_with_its_marker(self, data: st.DataObject) -> None:
        ours = {i: e for i, e in self.events().items() if e.marker is not None and e.fields}
        if ours:
            original = ours[data.draw(st.sampled_from(sorted(ours)))]
            self.counter += 1
            copy_id = f"gcopy{self.counter:05d}"
            self.world.calendar.external_create(
                self.cal, original.fields, event_id=copy_id, marker=original.marker
            )
            self.copies.add(copy_id)
            self.google_made.add((self.cal, copy_id))

    @rule(data=st.data(), day=st.integers(1, 20), hour=st.integers(8, 18), title=TITLES)
    def google_edits(self, data: st.DataObject, day: int, hour: int, title: str) -> None:
        events = sorted(self.events())
        if events:
            event_id = data.draw(st.sampled_from(events))
            self.world.calendar.external_update(
                self.cal, event_id, when=timed(day, hour), title=title
            )

    @rule(data=st.data())
    def google_deletes(self, data: st.DataObject) -> None:
        events = sorted(self.events())
        if events:
            event_id = data.draw(st.sampled_from(events))
            self.world.calendar.external_delete(self.cal, event_id)
            self.remote_deleted_by_user.add(event_id)

    @rule()
    def user_switches_calendar(self) -> None:
        target = OTHER_CAL if self.cal == CAL else CAL
        self.world.profile = attrs.evolve(self.world.profile, calendar_id=target)

    @rule()
    def google_expires_sync_tokens(self) -> None:
        self.world.calendar.expire_cursors()

    # -- failures ------------------------------------------------------------------------

    @rule(
        method=st.sampled_from([*REMOTE_WRITES, "list_events", "get_event"]),
        count=st.integers(1, 3),
    )
    def google_fails_next_calls(self, method: str, count: int) -> None:
        self.world.calendar.fail_next(method, TransientError("503 backend error"), count)

    @rule(method=st.sampled_from(HOST_WRITES), count=st.integers(1, 2))
    def host_fails_next_writes(self, method: str, count: int) -> None:
        self.world.schedule.fail_next(method, RuntimeError("host database is locked"), count)

    @rule(method=st.sampled_from(REMOTE_WRITES + HOST_WRITES))
    def process_dies_during_a_sync(self, method: str) -> None:
        fake: Any = self.world.calendar if method in REMOTE_WRITES else self.world.schedule
        fake.crash_after_next(method)
        # a crash means the process is gone: the next run is a fresh engine on the same store
        with contextlib.suppress(SimulatedCrash):
            self.sync_once()
        fake.clear_faults()

    # -- syncing -------------------------------------------------------------------------

    def sync_once(self, **kw: Any) -> Any:
        engine = self.world.engine
        engine.batch_size = self.batch
        try:
            report = engine.sync(self.world.profile, self.world.calendar, None, **kw)
        finally:  # a run that crashed may have recorded pairs too (an adopted copy, say)
            rows = self.world.store.mappings(NS, Channel.CALENDAR).values()
            self.ever_mapped.update((self.cal, row.remote_id) for row in rows)
        if report.initial_sync_completed:
            self.world.options(initial_sync_pending=False)
        return report

    @rule()
    def sync(self) -> None:
        before_host, before_remote = set(self.world.items()), set(self.events())
        report = self.sync_once()
        self.check_held_deletions_not_executed(report, before_host, before_remote)

    @rule()
    def clean_sync_converges(self) -> None:
        self.world.calendar.clear_faults()
        self.world.schedule.clear_faults()
        report = self.sync_once()
        if report.held:
            before_host, before_remote = set(self.world.items()), set(self.events())
            self.check_held_deletions_not_executed(self.sync_once(), before_host, before_remote)
            self.sync_once(confirm_deletions=True)
        settle = self.sync_once()
        assert settle.ok, settle.summary()
        rerun = self.sync_once()
        assert rerun.writes == 0, rerun.summary() + "\n" + "\n".join(rerun.planned)
        self.check_agreement()

    # -- invariants ----------------------------------------------------------------------

    def check_held_deletions_not_executed(
        self, report: Any, before_host: set[str], before_remote: set[str]
    ) -> None:
        for held in report.held:
            if held.side.value == "remote":
                row_remote = event_id_for(NS, held.item)
                assert row_remote not in before_remote or row_remote in self.events()
            else:
                assert held.item not in before_host or held.item in self.world.items()

    def check_agreement(self) -> None:
        world = self.world
        items = world.items()
        events = self.events()
        mapping = world.store.mappings(NS, Channel.CALENDAR)
        templates = world.profile.options.templates
        # both sides agree under the mapping, and the mapping is a bijection of live items
        assert set(mapping) == set(items), (sorted(mapping), sorted(items))
        # every live event is mapped, but those calsync may not delete: copies of ours, and
        # events carrying our marker for a host item that is gone, which calsync cannot prove
        # it made (e.g. a Google event converted into a session, found again after a switch)
        mapped = {row.remote_id for row in mapping.values()}
        window = world.profile.options.window.resolve(world.clock())
        left_alone = {
            event_id
            for event_id, event in events.items()
            if event_id not in mapped
            and (
                event_id in self.copies
                or (  # the user's, outside the window (an edit may bring it in)
                    event_id in self.outside
                    and event.fields is not None
                    and event.fields.when is not None
                    and not window.overlaps(event.fields.when)
                )
                or (
                    event.marker is not None
                    and event.marker.namespace == NS
                    and event.marker.host_id not in items
                    and event_id != event_id_for(NS, event.marker.host_id)
                )
            )
        }
        assert mapped == set(events) - left_alone
        for host_id, row in mapping.items():
            event = events[row.remote_id]
            assert event.fields == templates.render(items[host_id]), host_id
        # no duplicates: one live event per host item carrying our marker
        markers = [
            e.marker
            for e in events.values()
            if e.marker is not None and e.id not in self.copies and e.marker.is_well_formed()
        ]
        owners = [marker.host_id for marker in markers if marker.namespace == NS]
        assert len(owners) == len(set(owners))

    @invariant()
    def nothing_deleted_that_no_one_deleted(self) -> None:
        items = self.world.items()
        for item_id in self.host_ids_ever_made():
            if item_id in items or item_id in self.host_gone_by_user:
                continue
            raise AssertionError(f"host item {item_id} vanished without anyone deleting it")

    @invariant()
    def no_google_event_calsync_did_not_make_is_deleted_unless_it_was_synced(self) -> None:
        for calendar_id, event_id in self.google_made:
            if event_id in self.remote_deleted_by_user:
                continue
            if (calendar_id, event_id) in self.ever_mapped:
                continue  # a synced pair: deleting it follows the studio's deletion
            alive = self.world.calendar.events(calendar_id)
            assert event_id in alive, f"{event_id} in {calendar_id} vanished"

    def host_ids_ever_made(self) -> set[str]:
        return self.host_made


EngineMachine.TestCase.settings = machine_settings(50)


@pytest.mark.stateful
class TestEngineStateMachine(EngineMachine.TestCase):  # type: ignore[misc,valid-type]
    """The engine keeps its promises under random edits, policies, failures and crashes."""


def test_the_machine_world_starts_empty() -> None:
    world = make_world(MemoryStateStore(), inbound_calendar=True)

    assert (world.items(), world.events()) == ({}, {})
    assert attrs.has(type(world))

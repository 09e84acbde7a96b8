"""A hypothesis state machine over the whole engine.

Random host and Google edits, creates, deletes and conversions; random conflict policies;
failing writes; and crashes between a remote write and its state commit (the process is gone:
the next run is a fresh engine over the same store). After every clean sync the invariants
hold: both sides agree under the mapping, no remote duplicates, nothing deleted that no one
deleted, held deletions never executed, and a re-run writes nothing.

The default run uses a modest number of examples; ``pytest -m stateful
--hypothesis-profile=thorough`` runs at least 2,000.
"""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)
from studio_world import ANN, CAL, USER, World, appointment, make_world, session, timed

from calsync import (
    EventFields,
    ItemKind,
    MemoryStateStore,
    TransientError,
    google_wins,
    host_wins,
    merge_fields,
    newest_wins,
)
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
HOST_WRITES = ["create_unlinked", "update_item", "delete_item"]


class EngineMachine(RuleBasedStateMachine):
    host_items = Bundle("host_items")

    def __init__(self) -> None:
        super().__init__()
        self.world: World = make_world(MemoryStateStore(), inbound_calendar=True)
        self.counter = 0
        #: host items the host user deleted or converted (allowed to be gone)
        self.host_gone_by_user: set[str] = set()
        #: remote events the Google user deleted (their unlinked items may go)
        self.remote_deleted_by_user: set[str] = set()
        #: host items the host user made
        self.host_made: set[str] = set()

    @initialize(policy=st.sampled_from(sorted(POLICIES)), batch=st.sampled_from([1, 3, 50]))
    def choose_policy(self, policy: str, batch: int) -> None:
        self.world.options(conflict_policy=POLICIES[policy])
        self.batch = batch

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

    @rule(day=st.integers(1, 20), hour=st.integers(8, 18), title=TITLES)
    def google_creates(self, day: int, hour: int, title: str) -> None:
        self.counter += 1  # deterministic ids keep hypothesis's replays identical
        event = EventFields(title, when=timed(day, hour))
        self.world.calendar.external_create(CAL, event, event_id=f"gmade{self.counter:05d}")

    @rule(data=st.data(), day=st.integers(1, 20), hour=st.integers(8, 18), title=TITLES)
    def google_edits(self, data: st.DataObject, day: int, hour: int, title: str) -> None:
        events = sorted(self.world.events())
        if events:
            event_id = data.draw(st.sampled_from(events))
            self.world.calendar.external_update(CAL, event_id, when=timed(day, hour), title=title)

    @rule(data=st.data())
    def google_deletes(self, data: st.DataObject) -> None:
        events = sorted(self.world.events())
        if events:
            event_id = data.draw(st.sampled_from(events))
            self.world.calendar.external_delete(CAL, event_id)
            self.remote_deleted_by_user.add(event_id)

    @rule()
    def google_expires_sync_tokens(self) -> None:
        self.world.calendar.expire_cursors()

    # -- failures ------------------------------------------------------------------------

    @rule(method=st.sampled_from([*REMOTE_WRITES, "list_events"]), count=st.integers(1, 3))
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
        report = engine.sync(self.world.profile, self.world.calendar, None, **kw)
        if report.initial_sync_completed:
            self.world.options(initial_sync_pending=False)
        return report

    @rule()
    def sync(self) -> None:
        before_host, before_remote = set(self.world.items()), set(self.world.events())
        report = self.sync_once()
        self.check_held_deletions_not_executed(report, before_host, before_remote)

    @rule()
    def clean_sync_converges(self) -> None:
        self.world.calendar.clear_faults()
        self.world.schedule.clear_faults()
        report = self.sync_once()
        if report.held:
            before_host, before_remote = set(self.world.items()), set(self.world.events())
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
                assert row_remote not in before_remote or row_remote in self.world.events()
            else:
                assert held.item not in before_host or held.item in self.world.items()

    def check_agreement(self) -> None:
        world = self.world
        items = world.items()
        events = world.events()
        mapping = world.store.mappings(NS, Channel.CALENDAR)
        templates = world.profile.options.templates
        # both sides agree under the mapping, and the mapping is a bijection of live items
        assert set(mapping) == set(items), (sorted(mapping), sorted(items))
        assert {row.remote_id for row in mapping.values()} == set(events)
        for host_id, row in mapping.items():
            event = events[row.remote_id]
            assert event.fields == templates.render(items[host_id]), host_id
        # no duplicates: one live event per host item carrying our marker
        markers = [e.marker for e in events.values() if e.marker is not None]
        owners = [marker.host_id for marker in markers if marker.namespace == NS]
        assert len(owners) == len(set(owners))

    @invariant()
    def nothing_deleted_that_no_one_deleted(self) -> None:
        items = self.world.items()
        for item_id in self.host_ids_ever_made():
            if item_id in items or item_id in self.host_gone_by_user:
                continue
            raise AssertionError(f"host item {item_id} vanished without anyone deleting it")

    def host_ids_ever_made(self) -> set[str]:
        return self.host_made


# The loaded profile decides: ``thorough`` (2,000 examples) when asked for, else a modest run.
_profile = settings.default
assert _profile is not None
EngineMachine.TestCase.settings = settings(
    _profile,
    max_examples=_profile.max_examples if _profile.max_examples >= 1000 else 50,
    stateful_step_count=max(_profile.stateful_step_count, 30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.stateful
class TestEngineStateMachine(EngineMachine.TestCase):  # type: ignore[misc,valid-type]
    """The engine keeps its promises under random edits, policies, failures and crashes."""


def test_the_machine_world_starts_empty() -> None:
    world = make_world(MemoryStateStore(), inbound_calendar=True)

    assert (world.items(), world.events()) == ({}, {})
    assert attrs.has(type(world))

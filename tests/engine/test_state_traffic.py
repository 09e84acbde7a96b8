"""What a run writes to the state store: each batch of creates journaled and recorded with one
write each (one statement, one round trip to a database server), each chunk of links, adoptions
and host writes recorded with one write, a pair that cannot be recorded failing alone, and
nothing at all when nothing changed."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from read_log import ReadLog as RowReads
from studio_world import CAL, USER, World, client, make_world, session, timed

from calsync import EventFields, MemoryStateStore, Side, StateError, SyncEngine
from calsync.backends import CreateEvent, EventWrite
from calsync.engine.channel import LONG_FEED
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.state import MappingRow
from calsync.state.base import PendingCreate


class WriteLog(MemoryStateStore):
    """A memory store that notes the writes a run asks for (a bulk write as one), and refuses
    the row of the host id ``refuse``."""

    def __init__(self, refuse: str | None = None) -> None:
        super().__init__()
        self.refuse = refuse
        self.writes: list[tuple[str, int]] = []
        self._in_bulk = False

    def _note(self, write: str, count: int) -> None:
        if not self._in_bulk:
            self.writes.append((write, count))

    def put_mapping(self, row: MappingRow) -> None:
        if row.host_id == self.refuse:
            raise StateError(f"the row of {row.host_id} is refused")
        self._note("put_mapping", 1)
        super().put_mapping(row)

    def set_cursor(self, profile_id: str, name: str, value: str | None) -> None:
        self._note(f"set_cursor {name}", 1)
        super().set_cursor(profile_id, name, value)

    def delete_mapping(self, profile_id: str, channel: Channel, host_id: str) -> None:
        self._note("delete_mapping", 1)
        super().delete_mapping(profile_id, channel, host_id)

    def add_pending(self, pending: PendingCreate) -> None:
        self._note("add_pending", 1)
        super().add_pending(pending)

    def remove_pending(self, profile_id: str, channel: Channel, host_id: str) -> None:
        self._note("remove_pending", 1)
        super().remove_pending(profile_id, channel, host_id)

    def put_mappings(self, rows: Sequence[MappingRow]) -> None:
        with self._bulk("put_mappings", len(rows)):
            super().put_mappings(rows)

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        with self._bulk("add_pendings", len(intents)):
            super().add_pendings(intents)

    def remove_pendings(self, profile_id: str, channel: Channel, host_ids: Collection[str]) -> None:
        with self._bulk("remove_pendings", len(host_ids)):
            super().remove_pendings(profile_id, channel, host_ids)

    @contextmanager
    def _bulk(self, write: str, count: int) -> Iterator[None]:
        """One write of many rows (the one-row writes it makes are not noted)."""
        self._note(write, count)
        self._in_bulk = True
        try:
            yield
        finally:
            self._in_bulk = False


def in_batches_of_two(store: MemoryStateStore, sessions: int) -> tuple[World, SyncEngine]:
    """A studio user with ``sessions`` sessions, and an engine that writes two at a time."""
    world = make_world(store)
    for i in range(sessions):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    return world, SyncEngine(store, world.schedule, None, clock=world.clock, batch_size=2)


def test_each_batch_of_creates_is_journaled_and_recorded_with_one_write_each() -> None:
    store = WriteLog()
    world, engine = in_batches_of_two(store, 5)

    report = engine.sync(world.profile, world.calendar)

    assert report.count(Side.REMOTE, "created") == 5
    per_batch = [("add_pendings", 2), ("put_mappings", 2), ("remove_pendings", 2)]
    last = [("add_pendings", 1), ("put_mappings", 1), ("remove_pendings", 1)]
    creates = [w for w in store.writes if not w[0].startswith("set_cursor")]
    assert creates == per_batch * 2 + last
    assert len(store.mappings(world.profile.id, Channel.CALENDAR)) == 5
    assert store.pending(world.profile.id, Channel.CALENDAR) == {}


class CommitLog(WriteLog):
    """A write log that also groups the writes by the outermost transaction (one commit, one
    round trip to a database server) they were made in."""

    def __init__(self) -> None:
        super().__init__()
        self.commits: list[list[tuple[str, int]]] = []
        self._depth = 0

    def _note(self, write: str, count: int) -> None:
        super()._note(write, count)
        if self._depth == 0 and not self._in_bulk:  # a write on its own is its own commit
            self.commits.append([(write, count)])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._depth += 1
        start = len(self.writes)
        try:
            with super().transaction():
                yield
        finally:
            self._depth -= 1
            if self._depth == 0 and len(self.writes) > start:
                self.commits.append(self.writes[start:])


def test_a_batchs_results_and_the_next_batchs_intents_are_one_commit() -> None:
    store = CommitLog()
    world, engine = in_batches_of_two(store, 5)

    report = engine.sync(world.profile, world.calendar)

    assert report.count(Side.REMOTE, "created") == 5
    recorded = [("put_mappings", 2), ("remove_pendings", 2)]
    creates = [c for c in store.commits if not c[0][0].startswith("set_cursor")]
    assert creates == [
        [("add_pendings", 2)],  # the first batch's intents, before it is sent
        [*recorded, ("add_pendings", 2)],  # its results, with the second batch's intents
        [*recorded, ("add_pendings", 1)],
        [("put_mappings", 1), ("remove_pendings", 1)],
    ]


def test_no_batch_is_sent_before_the_intents_of_its_creates_are_stored() -> None:
    store = MemoryStateStore()
    world, engine = in_batches_of_two(store, 5)
    unjournaled: list[str] = []
    real = world.calendar.write_events

    def write_events(calendar_id: str, writes: Sequence[EventWrite]) -> Any:
        stored = store.pending(world.profile.id, Channel.CALENDAR)
        unjournaled.extend(w.fields.title for w in writes if isinstance(w, CreateEvent)
                           and w.marker.host_id not in stored)  # fmt: skip
        return real(calendar_id, writes)

    world.calendar.write_events = write_events  # type: ignore[method-assign]

    assert engine.sync(world.profile, world.calendar).count(Side.REMOTE, "created") == 5
    assert unjournaled == []


class RefusingIntents(MemoryStateStore):
    """Refuses the first bulk write of intents made inside another transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        if self._undo is not None and len(self._undo) > 0 and not self.refused:
            self.refused += 1
            raise StateError("the intents cannot be written now")
        super().add_pendings(intents)


def test_intents_that_cannot_be_journaled_with_the_results_are_journaled_on_their_own() -> None:
    store = RefusingIntents()
    world, engine = in_batches_of_two(store, 4)

    report = engine.sync(world.profile, world.calendar)

    assert store.refused == 1
    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "created") == 4
    assert set(store.mappings(world.profile.id, Channel.CALENDAR)) == {f"s{i}" for i in range(4)}
    assert store.pending(world.profile.id, Channel.CALENDAR) == {}


def test_a_created_item_whose_pair_cannot_be_recorded_fails_alone_and_is_adopted_later() -> None:
    store = WriteLog(refuse="s2")
    world = make_world(store)
    for i in range(4):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))

    report = world.sync()

    assert [error.item for error in report.errors] == ["s2"]
    assert report.count(Side.REMOTE, "created") == 3
    assert set(store.mappings(world.profile.id, Channel.CALENDAR)) == {"s0", "s1", "s3"}
    assert set(store.pending(world.profile.id, Channel.CALENDAR)) == {"s2"}  # the proof
    assert len(world.events()) == 4  # s2's event was made: the next run adopts it

    store.refuse = None
    again = world.sync()

    assert again.ok
    assert again.count(Side.REMOTE, "created") == 0
    assert len(world.events()) == 4
    assert set(store.mappings(world.profile.id, Channel.CALENDAR)) == {f"s{i}" for i in range(4)}


def test_each_chunk_of_adopted_pairs_is_recorded_with_one_write() -> None:
    first = MemoryStateStore()
    world = make_world(first)
    for i in range(5):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.sync()
    store = WriteLog()  # the state is lost: a re-setup adopts the five events by their marker
    world.store = store
    world.options(initial_sync_pending=True)

    report = world.sync()

    assert report.counts["adopted"] == 5
    pairs = [w for w in store.writes if not w[0].startswith("set_cursor")]
    assert pairs == [("put_mappings", 5), ("remove_pendings", 5)]
    assert store.mappings(world.profile.id, Channel.CALENDAR).keys() == {f"s{i}" for i in range(5)}


def test_an_adopted_pair_that_cannot_be_recorded_fails_alone() -> None:
    world = make_world(MemoryStateStore())
    for i in range(4):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.sync()
    store = WriteLog(refuse="s2")
    world.store = store
    world.options(initial_sync_pending=True)

    report = world.sync()

    assert [error.item for error in report.errors] == ["s2"]
    assert report.counts["adopted"] == 3
    assert set(store.mappings(world.profile.id, Channel.CALENDAR)) == {"s0", "s1", "s3"}
    store.refuse = None
    assert world.sync().counts["adopted"] == 1
    assert len(world.events()) == 4


def test_host_items_made_from_google_events_are_recorded_with_one_write() -> None:
    store = WriteLog()
    world = make_world(store, inbound_calendar=True)
    world.sync()
    for i in range(3):
        world.calendar.external_create(CAL, EventFields(f"Call {i}", when=timed(2 + i)))
    store.writes = []

    report = world.sync()

    assert report.count(Side.HOST, "created") == 3
    pairs = [w for w in store.writes if not w[0].startswith("set_cursor")]
    assert pairs == [("put_mappings", 3), ("remove_pendings", 3)]
    assert len(store.mappings(world.profile.id, Channel.CALENDAR)) == 3


def test_a_host_deletion_amid_adoptions_is_recorded_with_them() -> None:
    """The rows of a chunk are put together where nothing else is written between them: a
    deleted pair's row is deleted in its place among them."""
    world = make_world(MemoryStateStore(), inbound_calendar=True)
    for i in range(4):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.sync()
    made = world.calendar.external_create(CAL, EventFields("Call", when=timed(9)))
    world.sync()
    [unlinked] = [i for i, item in world.items().items() if item.remote_id == made.id]
    store = WriteLog()
    for row in world.store.mappings(world.profile.id, Channel.CALENDAR).values():
        if row.host_id != unlinked:  # the sessions' pairs are lost and will be adopted
            continue
        store.put_mapping(row)
    world.store = store
    world.calendar.external_delete(CAL, made.id)
    store.writes = []

    report = world.sync()

    assert report.counts["adopted"] == 4
    assert report.count(Side.HOST, "deleted") == 1
    pairs = [w for w in store.writes if not w[0].startswith("set_cursor")]
    assert ("delete_mapping", 1) in pairs
    assert sum(n for write, n in pairs if write == "put_mappings") == 4
    assert set(store.mappings(world.profile.id, Channel.CALENDAR)) == {f"s{i}" for i in range(4)}
    assert unlinked not in world.items()


def test_a_quiet_run_writes_nothing_to_the_state_store() -> None:
    store = WriteLog()
    world = make_world(store, contacts=True, client_group="Clients")
    for i in range(5):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.clients.add(USER, client("c1"), groups=["Clients"])
    world.sync()
    world.sync()  # reads the initial writes back
    store.writes = []

    quiet = world.sync()

    assert quiet.ok
    assert quiet.writes == 0
    assert store.writes == []  # no cursor, digest or row written again unchanged


def test_a_run_that_moves_a_cursor_writes_that_cursor() -> None:
    store = WriteLog()
    world = make_world(store)
    world.schedule.add(USER, session("s1", day=2))
    world.sync()
    world.sync()
    store.writes = []

    world.calendar.external_update(CAL, event_id_for(world.profile.id, "s1"), location="Hall")
    world.sync()

    assert ("set_cursor remote:calendar", 1) in store.writes


class ReadLog(WriteLog):
    """Also notes the cursor reads, and counts the counts of pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.cursor_reads: list[str] = []
        self.counted = 0

    def count_mappings(self, profile_id: str, channel: Channel) -> int:
        self.counted += 1
        return super().count_mappings(profile_id, channel)

    def get_cursor(self, profile_id: str, name: str) -> str | None:
        if not self._in_bulk:
            self.cursor_reads.append(name)
        return super().get_cursor(profile_id, name)

    def get_cursors(self, profile_id: str, names: Collection[str]) -> dict[str, str]:
        self.cursor_reads.append(",".join(sorted(names)))
        self._in_bulk = True  # the one-by-one reads of the default are not noted
        try:
            return super().get_cursors(profile_id, names)
        finally:
            self._in_bulk = False


def test_a_quiet_run_reads_each_channels_cursors_and_digest_in_one_read() -> None:
    store = ReadLog()
    world = make_world(store, contacts=True, client_group="Clients")
    world.schedule.add(USER, session("s1", day=2))
    world.clients.add(USER, client("c1"), groups=["Clients"])
    world.sync()
    world.sync()
    store.cursor_reads = []

    world.sync()

    assert store.cursor_reads == [  # and where the pairs live, and what the last run held
        "calendar:paired,config:calendar,held:calendar,host-reached:calendar,host:calendar,"
        "remote:calendar,window:calendar",
        "config:contacts,group:contacts,held:contacts,host-reached:contacts,host:contacts,"
        "remote:contacts",
    ]


def test_a_quiet_run_over_change_feeds_does_not_count_the_pairs() -> None:
    """The count of pairs is what a mass deletion is measured against: a run that deletes
    nothing does not ask for it."""
    store = ReadLog()
    world = make_world(store)
    world.schedule.change_feed = True
    for i in range(3):
        world.schedule.add(USER, session(f"s{i}", day=2 + i))
    world.sync()
    world.sync()
    store.counted = 0

    assert world.sync().writes == 0
    assert store.counted == 0

    world.schedule.remove(USER, "s1")
    assert world.sync().count(Side.REMOTE, "deleted") == 1
    assert store.counted == 1


def test_the_run_after_an_initial_sync_over_change_feeds_reads_every_head_not_each_id() -> None:
    """Google's feed then names every event just made: gathering their ids to read their
    rows costs more time and memory than reading every row's head, as a full listing does."""
    store = RowReads()
    world = make_world(store)
    world.schedule.change_feed = True
    for i in range(LONG_FEED):
        world.schedule.add(USER, session(f"s{i}", day=2 + i % 200))
    assert world.sync().count(Side.REMOTE, "created") == LONG_FEED
    store.forget_reads()

    assert world.sync().writes == 0  # (each of Google's listed events is calsync's own)

    assert store.reads == ["heads"]
    world.schedule.edit(USER, "s7", location="Town hall")
    store.forget_reads()
    assert world.sync().count(Side.REMOTE, "updated") == 1
    assert store.reads == ["rows of ['s7'] []"]  # a short feed: the rows of what it names

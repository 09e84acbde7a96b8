"""The in-memory host adapters: they pass the source contracts, and their hooks work."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from calsync.errors import InvalidHostItem, SourceError
from calsync.model import (
    ClientInfo,
    Contact,
    ContactFields,
    EventFields,
    ItemKind,
    ScheduleItem,
    Timed,
    TimeRange,
)
from calsync.sources import ContactUpdate, ItemUpdate
from calsync.testing import SimulatedCrash
from calsync.testing.contracts.sources import (
    ContactHarness,
    ContactSourceContract,
    ScheduleHarness,
    ScheduleSourceContract,
)
from calsync.testing.host import MemoryContactSource, MemoryScheduleSource

USER = "alice"
T0 = datetime(2030, 5, 1, 9, tzinfo=UTC)
WINDOW = TimeRange(T0 - timedelta(days=30), T0 + timedelta(days=30))
CLIENT = ClientInfo("k1", "Ann Archer", "+44 20 7946 0000")


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def when(hour: int = 9) -> Timed:
    start = T0.replace(hour=hour)
    return Timed(start, start + timedelta(hours=1), "Europe/London")


def appointment(item_id: str = "a1", title: str = "Cleaning") -> ScheduleItem:
    return ScheduleItem(item_id, ItemKind.APPOINTMENT, when(), title=title)


def event(title: str = "Coffee") -> EventFields:
    return EventFields(title=title, when=when(11))


class TestMemoryScheduleSourceContract(ScheduleSourceContract):
    @pytest.fixture(params=[False, True], ids=["no-feed", "feed"])
    def schedule_harness(self, request: pytest.FixtureRequest) -> ScheduleHarness:
        source = MemoryScheduleSource(change_feed=request.param)
        return ScheduleHarness(source, source)


class TestMemoryContactSourceContract(ContactSourceContract):
    @pytest.fixture(params=[False, True], ids=["no-feed", "feed"])
    def contact_harness(self, request: pytest.FixtureRequest) -> ContactHarness:
        source = MemoryContactSource(change_feed=request.param)
        return ContactHarness(source, source)


# -- schedule: stamping and hooks ----------------------------------------------------------


def test_every_change_gives_an_item_a_new_revision_and_the_clock_time() -> None:
    clock = Clock()
    source = MemoryScheduleSource(now=clock)
    added = source.add(USER, appointment())
    clock.now += timedelta(minutes=5)

    edited = source.edit(USER, "a1", title="Deep cleaning")
    touched = source.edit(USER, "a1")

    assert len({added.revision, edited.revision, touched.revision}) == 3
    assert (added.updated, edited.updated) == (T0, T0 + timedelta(minutes=5))
    assert edited.title == "Deep cleaning"
    assert source.items(USER) == {"a1": touched}


def test_adding_an_item_under_a_taken_id_is_refused() -> None:
    source = MemoryScheduleSource()
    source.add(USER, appointment())

    with pytest.raises(ValueError, match="taken"):
        source.add(USER, appointment())


def test_calsync_updates_bump_the_revision_too() -> None:
    source = MemoryScheduleSource()
    item = source.create_unlinked(USER, event(), "evt1")

    updated = source.update_item(USER, item.id, ItemUpdate(event("Tea"), frozenset({"title"})))

    assert updated.revision != item.revision
    assert updated.title == "Tea"


def test_update_with_an_unknown_field_name_is_a_programming_error() -> None:
    source = MemoryScheduleSource()
    item = source.create_unlinked(USER, event(), "evt1")

    with pytest.raises(ValueError, match="unknown fields"):
        source.update_item(USER, item.id, ItemUpdate(event(), frozenset({"colour"})))


def test_an_update_removing_the_time_is_refused_as_an_invalid_host_item() -> None:
    source = MemoryScheduleSource()
    item = source.create_unlinked(USER, event(), "evt1")

    with pytest.raises(InvalidHostItem):
        source.update_item(USER, item.id, ItemUpdate(EventFields(), frozenset({"when"})))


def test_unlinked_ids_never_collide_with_items_the_host_added() -> None:
    source = MemoryScheduleSource()
    source.add(USER, appointment("u1"))

    created = source.create_unlinked(USER, event(), "evt1")

    assert created.id != "u1"
    assert set(source.items(USER)) == {"u1", created.id}


def test_a_deleted_items_id_is_never_given_to_a_new_one() -> None:
    # calsync may still hold a pair for the deleted item (its Google delete failed): a new
    # item under the same id would take that pair over and strand calsync's event
    source = MemoryScheduleSource()
    source.add(USER, appointment("u1"))
    source.remove(USER, "u1")

    created = source.create_unlinked(USER, event(), "evt1")

    assert created.id != "u1"


def test_a_deleted_clients_id_is_never_given_to_a_new_one() -> None:
    source = MemoryContactSource()
    source.add(USER, contact("c1"), [GROUP])
    source.remove(USER, "c1")

    created = source.create_contact(USER, GROUP, ContactFields(given_name="Bo"), "people/9")

    assert created.id != "c1"


def test_convert_makes_a_session_that_replaces_the_unlinked_one_and_keeps_its_event() -> None:
    source = MemoryScheduleSource()
    unlinked = source.create_unlinked(USER, event("Shoot?"), "evt1")

    session = source.convert(USER, unlinked.id, client=CLIENT, session_type="Wedding", new_id="s9")

    expected = ScheduleItem(
        "s9",
        ItemKind.SESSION,
        unlinked.when,
        title="Shoot?",
        client=CLIENT,
        session_type="Wedding",
        remote_id="evt1",
        replaces=unlinked.id,
        revision=session.revision,
        updated=session.updated,
    )
    assert session == expected
    assert source.items(USER) == {"s9": session}
    assert source.get_item(USER, unlinked.id) == session


def test_the_old_id_of_a_converted_item_whose_session_was_removed_is_gone() -> None:
    source = MemoryScheduleSource()
    unlinked = source.create_unlinked(USER, event(), "evt1")
    session = source.convert(USER, unlinked.id, client=CLIENT, session_type="Wedding")

    source.remove(USER, session.id)

    assert source.get_item(USER, unlinked.id) is None
    assert source.get_items(USER, [unlinked.id, session.id]) == {}


def test_only_unlinked_appointments_can_be_converted() -> None:
    source = MemoryScheduleSource()
    source.add(USER, appointment())

    with pytest.raises(ValueError, match="not unlinked"):
        source.convert(USER, "a1", client=CLIENT, session_type="Wedding")
    with pytest.raises(KeyError):
        source.convert(USER, "missing", client=CLIENT, session_type="Wedding")


def test_the_change_feed_reports_a_conversion_as_the_old_id_deleted() -> None:
    source = MemoryScheduleSource(change_feed=True)
    unlinked = source.create_unlinked(USER, event(), "evt1")
    cursor = source.change_cursor(USER)
    assert cursor is not None

    session = source.convert(USER, unlinked.id, client=CLIENT, session_type="Wedding")
    changes = source.changes_since(USER, cursor)

    assert ([i.id for i in changes.changed], changes.deleted) == ([session.id], (unlinked.id,))


def test_expired_change_cursors_are_unknown() -> None:
    source = MemoryScheduleSource(change_feed=True)
    cursor = source.change_cursor(USER)
    assert cursor is not None
    source.expire_cursors()

    with pytest.raises(LookupError):
        source.changes_since(USER, cursor)
    fresh = source.change_cursor(USER)
    assert fresh is not None
    assert source.changes_since(USER, fresh).changed == ()


def test_a_cursor_of_one_user_is_unknown_for_another() -> None:
    source = MemoryScheduleSource(change_feed=True)
    cursor = source.change_cursor(USER)
    assert cursor is not None

    with pytest.raises(LookupError):
        source.changes_since("bob", cursor)


def test_without_a_feed_there_is_no_cursor() -> None:
    source = MemoryScheduleSource()

    assert source.change_cursor(USER) is None


# -- schedule: faults ------------------------------------------------------------------------


def test_fail_next_makes_the_next_calls_raise_and_then_lets_them_through() -> None:
    source = MemoryScheduleSource()
    source.fail_next("list_items", SourceError("database locked"), count=2)

    for _ in range(2):
        with pytest.raises(SourceError, match="database locked"):
            source.list_items(USER, WINDOW)

    assert source.list_items(USER, WINDOW) == []
    assert source.calls["list_items"] == 3


def test_a_failed_create_unlinked_creates_nothing() -> None:
    source = MemoryScheduleSource()
    source.fail_next("create_unlinked", InvalidHostItem("no room"))

    with pytest.raises(InvalidHostItem):
        source.create_unlinked(USER, event(), "evt1")

    assert source.items(USER) == {}


def test_crash_after_next_creates_the_item_and_then_crashes() -> None:
    source = MemoryScheduleSource()
    source.crash_after_next("create_unlinked")

    with pytest.raises(SimulatedCrash):
        source.create_unlinked(USER, event(), "evt1")

    [item] = source.items(USER).values()
    assert source.create_unlinked(USER, event(), "evt1") == item


def test_calls_counts_contract_calls_and_not_hooks() -> None:
    source = MemoryScheduleSource()
    source.add(USER, appointment())

    source.get_items(USER, ["a1", "a2"])
    source.items(USER)

    assert dict(source.calls) == {"get_items": 1, "get_item": 2}


def test_fail_next_of_an_unknown_method_is_refused() -> None:
    source = MemoryScheduleSource()

    with pytest.raises(ValueError, match="not a contract method"):
        source.fail_next("list_itmes", SourceError("typo"))


def test_concurrent_creates_from_distinct_origins_make_distinct_items() -> None:
    source = MemoryScheduleSource()

    def create(n: int) -> None:
        for k in range(20):
            source.create_unlinked(USER, event(), f"evt{n}x{k}")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(source.items(USER)) == 160


# -- contacts --------------------------------------------------------------------------------

GROUP = "Wedding clients"


def contact(contact_id: str = "k1", given: str = "Ann") -> Contact:
    return Contact(contact_id, ContactFields(given_name=given, family_name="Archer"))


def test_editing_a_client_changes_its_fields_revision_and_time() -> None:
    clock = Clock()
    source = MemoryContactSource(now=clock)
    added = source.add(USER, contact(), groups=[GROUP])
    clock.now += timedelta(hours=1)

    edited = source.edit(USER, "k1", given_name="Anne")

    assert edited.fields == ContactFields(given_name="Anne", family_name="Archer")
    assert edited.revision != added.revision
    assert edited.updated == T0 + timedelta(hours=1)
    assert source.list_group(USER, GROUP) == [edited]


def test_removing_a_client_takes_it_out_of_every_group() -> None:
    source = MemoryContactSource()
    source.add(USER, contact(), groups=[GROUP, "VIP"])

    source.remove(USER, "k1")

    assert (source.members(USER, GROUP), source.members(USER, "VIP")) == ([], [])
    assert source.contacts(USER) == {}


def test_staff_can_move_clients_in_and_out_of_groups() -> None:
    source = MemoryContactSource()
    source.add(USER, contact())

    source.add_to_group(USER, GROUP, "k1")
    joined = source.members(USER, GROUP)
    source.remove_from_group_by_user(USER, GROUP, "k1")

    assert (joined, source.members(USER, GROUP)) == (["k1"], [])
    assert "k1" in source.contacts(USER)


def test_create_contact_returns_the_existing_client_even_after_it_left_the_group() -> None:
    source = MemoryContactSource()
    made = source.create_contact(USER, GROUP, ContactFields(given_name="Bea"), "people/c7")
    source.remove_from_group_by_user(USER, GROUP, made.id)

    again = source.create_contact(USER, GROUP, ContactFields(given_name="Bea"), "people/c7")

    assert again == made
    assert source.members(USER, GROUP) == []


def test_update_contact_of_a_missing_client_raises_key_error() -> None:
    source = MemoryContactSource()
    update = ContactUpdate(ContactFields(given_name="X"), frozenset({"given_name"}))

    with pytest.raises(KeyError):
        source.update_contact(USER, "nobody", update)


def test_the_contact_feed_reports_edits_of_members_only() -> None:
    source = MemoryContactSource(change_feed=True)
    source.add(USER, contact("k1"), groups=[GROUP])
    source.add(USER, contact("k2", "Bob"))
    cursor = source.change_cursor(USER, GROUP)
    assert cursor is not None

    source.edit(USER, "k1", notes="VIP")
    source.edit(USER, "k2", notes="VIP")
    changes = source.changes_since(USER, GROUP, cursor)

    assert ([c.id for c in changes.changed], changes.deleted) == (["k1"], ())


def test_contact_faults_and_call_counts() -> None:
    source = MemoryContactSource()
    source.fail_next("list_group", SourceError("offline"))

    with pytest.raises(SourceError):
        source.list_group(USER, GROUP)
    source.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        source.create_contact(USER, GROUP, ContactFields(given_name="Bea"), "people/c7")

    assert [c.remote_id for c in source.list_group(USER, GROUP) if isinstance(c, Contact)] == [
        "people/c7"
    ]
    assert dict(source.calls) == {"list_group": 2, "create_contact": 1}


def test_a_corrupt_row_can_be_repaired_or_removed_by_staff() -> None:
    source = MemoryScheduleSource(change_feed=True)
    kept, dropped = appointment("a1"), appointment("a2", "Dropped")
    source.add_corrupt(USER, kept, "its time zone 'Mars/Base' is unknown")
    source.add_corrupt(USER, dropped, "its end is before its start")
    cursor = source.change_cursor(USER)
    assert cursor is not None

    repaired = source.repair(USER, kept)
    source.remove(USER, "a2")

    assert source.get_item(USER, "a1") == repaired
    assert source.get_item(USER, "a2") is None
    changes = source.changes_since(USER, cursor)
    assert ([i.id for i in changes.changed], changes.deleted) == (["a1"], ("a2",))

"""Contract suites for the host adapters: :class:`ScheduleSourceContract` and
:class:`ContactSourceContract`.

A host tests its own adapter by subclassing a suite and overriding one fixture that returns a
*harness*: the adapter, a small driver that does what staff do in the host (add, remove,
convert), and the user ids (and group names) to test with::

    class TestStudioSchedule(ScheduleSourceContract):
        @pytest.fixture
        def schedule_harness(self, studio_db):
            adapter = StudioScheduleSource(studio_db)
            return ScheduleHarness(adapter, StudioDriver(studio_db), "user-7", "user-8")

The driver may store items under ids of its own choosing: the suites always use the items the
driver returns. Items are dated in 2031; every test gets a fresh harness. Change-feed tests are
skipped when the adapter offers no feed (``change_cursor`` returns ``None``).

Unreadable rows: to prove that a corrupt row comes back as
:class:`~calsync.sources.Unreadable` (and never breaks or thins the listing), the schedule
driver also implements :class:`CorruptRowDriver`: it stores an item with one :class:`Defect`
in its row, the way a bug or a hand edit of the host's database would. A host whose storage
cannot hold such a row at all says why in ``ScheduleHarness(no_corrupt_rows="...")``, and those
tests are skipped with that reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs
import pytest
from attrs import frozen

from calsync.model import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    EventFields,
    ItemKind,
    Phone,
    ScheduleItem,
    Timed,
    TimeRange,
)
from calsync.sources import ContactSource, ContactUpdate, ItemUpdate, ScheduleSource, Unreadable

__all__ = [
    "ContactHarness",
    "ContactHostDriver",
    "ContactSourceContract",
    "CorruptClientDriver",
    "CorruptRowDriver",
    "Defect",
    "ScheduleHarness",
    "ScheduleHostDriver",
    "ScheduleSourceContract",
]


class ScheduleHostDriver(Protocol):
    """What the schedule suite needs the host's staff to do (the memory source does it)."""

    def add(self, user_id: str, item: ScheduleItem) -> ScheduleItem:
        """Add ``item`` to the user's schedule; return it as stored (its id may differ)."""
        ...

    def remove(self, user_id: str, item_id: str) -> None:
        """Delete the item."""
        ...

    def convert(
        self,
        user_id: str,
        unlinked_id: str,
        *,
        client: ClientInfo,
        session_type: str,
        new_id: str | None = None,
    ) -> ScheduleItem:
        """Convert an unlinked appointment into a session linked to ``client``; return the
        session (``new_id`` is a wish the host may ignore)."""
        ...


class Defect(enum.Enum):
    """What is wrong with a corrupt schedule row (the value says it in words)."""

    UNKNOWN_ZONE = "a time zone the tz database does not know"
    END_BEFORE_START = "an end before its start"
    EMPTY_ALL_DAY = "an all-day span that ends where it starts"
    TIMED_WITHOUT_ZONE = "a time of day without a time zone"
    UNREADABLE_START = "a start that is not a date or a time"


@runtime_checkable
class CorruptRowDriver(Protocol):
    """What the schedule suite needs to plant a corrupt row in the host."""

    def add_corrupt(self, user_id: str, item: ScheduleItem, defect: Defect) -> str:
        """Store ``item`` (an appointment, on the user's schedule, at its time) with
        ``defect`` in its row, bypassing the host's own checks; return the row's item id.
        When the id is already on the schedule, that row becomes corrupt instead."""
        ...


@runtime_checkable
class CorruptClientDriver(Protocol):
    """What the contact suite needs to plant a corrupt client row in the host."""

    def add_corrupt(self, user_id: str, contact: Contact, groups: Iterable[str] = ()) -> str:
        """Store a client like ``contact``, in ``groups``, whose row cannot be read (damaged
        by a bug or a hand edit, bypassing the host's own checks); return its id."""
        ...


class ContactHostDriver(Protocol):
    """What the contact suite needs the host's staff to do (the memory source does it)."""

    def add(self, user_id: str, contact: Contact, groups: Iterable[str] = ()) -> Contact:
        """Add a client, in ``groups``; return it as stored (its id may differ)."""
        ...

    def remove(self, user_id: str, contact_id: str) -> None:
        """Delete the client."""
        ...


@frozen
class ScheduleHarness:
    """What :class:`ScheduleSourceContract` tests: an adapter, its driver, two users."""

    source: ScheduleSource
    driver: ScheduleHostDriver
    user_id: str = "contract-user-1"
    other_user_id: str = "contract-user-2"
    #: why the host cannot hold a corrupt row at all ("" when its driver can plant one)
    no_corrupt_rows: str = ""


@frozen
class ContactHarness:
    """What :class:`ContactSourceContract` tests: an adapter, its driver, users and groups."""

    source: ContactSource
    driver: ContactHostDriver
    user_id: str = "contract-user-1"
    other_user_id: str = "contract-user-2"
    group: str = "calsync contract group"
    other_group: str = "calsync contract other group"
    #: why the host cannot hold a corrupt client row at all ("" when its driver can plant one)
    no_corrupt_rows: str = ""


#: The window the schedule suite lists: March 2031 (UTC).
WINDOW = TimeRange(datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))
CLIENT = ClientInfo("contract-client-1", "Ann Archer", "+44 20 7946 0000", "ann@example.com")


def timed(day: int, hour: int = 10, month: int = 3, hours: int = 1) -> Timed:
    """A timed span in Europe/London on ``day`` of ``month`` 2031."""
    start = datetime(2031, month, day, hour, tzinfo=UTC)
    return Timed(start, start + timedelta(hours=hours), "Europe/London")


def appointment(when: Timed | AllDay, title: str = "Studio cleaning") -> ScheduleItem:
    return ScheduleItem(
        id=f"contract-{title.lower().replace(' ', '-')}",
        kind=ItemKind.APPOINTMENT,
        when=when,
        title=title,
        description="Bring the ladder",
        location="Studio 2",
    )


def remote_event(title: str = "Coffee with Bea", day: int = 12) -> EventFields:
    return EventFields(title=title, description="From Google", location="Cafe", when=timed(day))


class ScheduleSourceContract:
    """Every behaviour calsync relies on from a :class:`~calsync.sources.ScheduleSource`."""

    @pytest.fixture
    def schedule_harness(self) -> ScheduleHarness:
        """Override: return the adapter under test with its driver."""
        raise NotImplementedError("override the schedule_harness fixture")

    def _add(self, h: ScheduleHarness, item: ScheduleItem, user_id: str | None = None) -> str:
        return h.driver.add(user_id or h.user_id, item).id

    def _unlinked(self, h: ScheduleHarness, origin: str = "origin1") -> ScheduleItem:
        return h.source.create_unlinked(h.user_id, remote_event(), origin)

    # -- reading -------------------------------------------------------------------------

    def test_listing_returns_the_items_touching_the_window_and_no_others(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        inside = {
            self._add(h, appointment(timed(10), "Inside")),
            self._add(h, appointment(AllDay.single(date(2031, 3, 31)), "Last day")),
            self._add(h, appointment(timed(28, 22, month=2, hours=4), "Straddling start")),
        }
        outside = {
            self._add(h, appointment(timed(27, month=2), "Before")),
            self._add(h, appointment(AllDay.single(date(2031, 4, 1)), "After")),
        }

        listed = {item.id for item in h.source.list_items(h.user_id, WINDOW)}

        assert inside == inside & listed
        assert set() == outside & listed

    def test_get_item_finds_an_item_wherever_it_lies_in_time(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        item_id = self._add(h, appointment(timed(1, month=9), "Far away"))

        found = h.source.get_item(h.user_id, item_id)

        assert isinstance(found, ScheduleItem)
        assert (item_id, "Far away") == (found.id, found.title)

    def test_get_item_of_a_removed_item_is_none(self, schedule_harness: ScheduleHarness) -> None:
        h = schedule_harness
        item_id = self._add(h, appointment(timed(10)))
        h.driver.remove(h.user_id, item_id)

        assert h.source.get_item(h.user_id, item_id) is None

    def test_get_items_returns_the_items_that_still_exist_by_id(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        kept = self._add(h, appointment(timed(10), "Kept"))
        removed = self._add(h, appointment(timed(11), "Removed"))
        h.driver.remove(h.user_id, removed)

        found = h.source.get_items(h.user_id, [kept, removed, "contract-never-existed"])

        assert [kept] == list(found)
        kept_item = found[kept]
        assert isinstance(kept_item, ScheduleItem)
        assert kept_item.title == "Kept"

    def test_users_do_not_see_each_others_items(self, schedule_harness: ScheduleHarness) -> None:
        h = schedule_harness
        item_id = self._add(h, appointment(timed(10)), user_id=h.user_id)

        listed = {item.id for item in h.source.list_items(h.other_user_id, WINDOW)}

        assert item_id not in listed
        assert h.source.get_item(h.other_user_id, item_id) is None

    # -- unlinked appointments -----------------------------------------------------------

    def test_create_unlinked_makes_an_unlinked_appointment_carrying_its_origin(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        fields = remote_event()

        item = h.source.create_unlinked(h.user_id, fields, "origin1")

        assert (item.kind, item.remote_id) == (ItemKind.UNLINKED, "origin1")
        expected = (fields.title, fields.description, fields.location, fields.when)
        assert expected == (item.title, item.description, item.location, item.when)
        assert item == h.source.get_item(h.user_id, item.id)
        assert item.id in {i.id for i in h.source.list_items(h.user_id, WINDOW)}

    def test_create_unlinked_is_idempotent_per_origin(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        first = self._unlinked(h, "origin1")

        again = self._unlinked(h, "origin1")

        assert first.id == again.id
        listed = [
            i
            for i in h.source.list_items(h.user_id, WINDOW)
            if isinstance(i, ScheduleItem) and i.remote_id == "origin1"
        ]
        assert [first.id] == [i.id for i in listed]

    def test_create_unlinked_from_another_origin_makes_another_item(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness

        first, second = self._unlinked(h, "origin1"), self._unlinked(h, "origin2")

        assert first.id != second.id
        assert second.remote_id == "origin2"

    # -- updates and deletions -----------------------------------------------------------

    def test_update_item_applies_only_the_changed_fields(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        item = self._unlinked(h)
        edit = EventFields(title="Moved coffee", description="ignored", when=timed(20, 15))

        updated = h.source.update_item(
            h.user_id, item.id, ItemUpdate(edit, frozenset({"title", "when"}))
        )

        expected = ("Moved coffee", item.description, item.location, timed(20, 15))
        assert expected == (updated.title, updated.description, updated.location, updated.when)
        assert updated == h.source.get_item(h.user_id, item.id)

    def test_update_item_gives_a_new_revision_or_none(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        item = self._unlinked(h)

        updated = h.source.update_item(
            h.user_id, item.id, ItemUpdate(EventFields(title="Renamed"), frozenset({"title"}))
        )

        assert updated.revision is None or updated.revision != item.revision

    def test_update_item_of_a_missing_item_raises_key_error(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        update = ItemUpdate(EventFields(title="Nobody"), frozenset({"title"}))

        with pytest.raises(KeyError):
            h.source.update_item(h.user_id, "contract-never-existed", update)

    def test_delete_item_deletes_and_deleting_again_is_no_error(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        item = self._unlinked(h)

        h.source.delete_item(h.user_id, item.id)
        h.source.delete_item(h.user_id, item.id)
        h.source.delete_item(h.user_id, "contract-never-existed")

        assert h.source.get_item(h.user_id, item.id) is None
        assert item.id not in {i.id for i in h.source.list_items(h.user_id, WINDOW)}

    # -- conversion ----------------------------------------------------------------------

    def test_a_converted_item_is_found_through_its_old_id_as_its_successor(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        unlinked = self._unlinked(h)

        session = h.driver.convert(h.user_id, unlinked.id, client=CLIENT, session_type="Portrait")

        assert (ItemKind.SESSION, unlinked.id) == (session.kind, session.replaces)
        assert session.id != unlinked.id
        found = h.source.get_item(h.user_id, unlinked.id)
        assert found is None or found == session
        listed = {i.id for i in h.source.list_items(h.user_id, WINDOW)}
        assert (session.id in listed, unlinked.id in listed) == (True, False)

    # -- unreadable rows -----------------------------------------------------------------

    def _corrupt(self, h: ScheduleHarness, defect: Defect, title: str = "Broken") -> str:
        if h.no_corrupt_rows:
            pytest.skip(h.no_corrupt_rows)
        if not isinstance(h.driver, CorruptRowDriver):
            pytest.fail(
                "the schedule driver has no add_corrupt: implement CorruptRowDriver, or say "
                "why the host cannot hold a corrupt row in ScheduleHarness(no_corrupt_rows=...)"
            )
        return h.driver.add_corrupt(h.user_id, appointment(timed(14), title), defect)

    @pytest.mark.parametrize("defect", list(Defect), ids=lambda d: d.name.lower())
    def test_a_corrupt_row_is_listed_as_unreadable_with_its_id_and_the_rest_intact(
        self, schedule_harness: ScheduleHarness, defect: Defect
    ) -> None:
        h = schedule_harness
        before = self._add(h, appointment(timed(10), "Before"))
        after = self._add(h, appointment(timed(20), "After"))
        broken = self._corrupt(h, defect)

        listed = list(h.source.list_items(h.user_id, WINDOW))

        unreadable = [i for i in listed if isinstance(i, Unreadable)]
        assert [broken] == [i.id for i in unreadable]
        assert unreadable[0].reason.strip()
        readable = {i.id: i for i in listed if isinstance(i, ScheduleItem)}
        assert {before, after} == set(readable) & {before, after, broken}
        assert (readable[before].title, readable[after].title) == ("Before", "After")

    @pytest.mark.parametrize("defect", list(Defect), ids=lambda d: d.name.lower())
    def test_get_item_of_a_corrupt_row_is_unreadable_with_its_id_and_a_reason(
        self, schedule_harness: ScheduleHarness, defect: Defect
    ) -> None:
        h = schedule_harness
        broken = self._corrupt(h, defect)

        found = h.source.get_item(h.user_id, broken)
        many = h.source.get_items(h.user_id, [broken])

        assert isinstance(found, Unreadable)
        assert (broken, True) == (found.id, bool(found.reason.strip()))
        assert [broken] == list(many)
        assert isinstance(many[broken], Unreadable)

    def test_a_row_that_becomes_corrupt_reads_as_unreadable_under_its_old_id(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        item = h.driver.add(h.user_id, appointment(timed(14), "Synced"))
        if h.no_corrupt_rows:
            pytest.skip(h.no_corrupt_rows)
        if not isinstance(h.driver, CorruptRowDriver):
            pytest.fail("the schedule driver has no add_corrupt (see CorruptRowDriver)")

        broken = h.driver.add_corrupt(h.user_id, item, Defect.END_BEFORE_START)

        assert broken == item.id
        found = h.source.get_item(h.user_id, item.id)
        assert isinstance(found, Unreadable)
        listed = [i for i in h.source.list_items(h.user_id, WINDOW) if i.id == item.id]
        assert [Unreadable] == [type(i) for i in listed]

    def test_the_change_feed_reports_a_corrupt_row_as_unreadable(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        cursor = self._cursor(h)
        broken = self._corrupt(h, Defect.UNKNOWN_ZONE)

        changes = h.source.changes_since(h.user_id, cursor)

        reported = [i for i in changes.changed if i.id == broken]
        assert [Unreadable] == [type(i) for i in reported]
        assert broken not in changes.deleted

    # -- change feed ---------------------------------------------------------------------

    def _cursor(self, h: ScheduleHarness) -> str:
        cursor = h.source.change_cursor(h.user_id)
        if cursor is None:
            pytest.skip("the adapter offers no change feed")
        return cursor

    def test_the_change_feed_reports_added_and_removed_items(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        doomed = self._add(h, appointment(timed(11), "Doomed"))
        cursor = self._cursor(h)
        added = self._add(h, appointment(timed(10), "Added"))
        h.driver.remove(h.user_id, doomed)

        changes = h.source.changes_since(h.user_id, cursor)

        assert added in {item.id for item in changes.changed}
        assert doomed in changes.deleted
        assert doomed not in {item.id for item in changes.changed}

    def test_the_change_feed_moves_on_to_the_cursor_it_returns(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        cursor = self._cursor(h)
        first = self._add(h, appointment(timed(10), "First"))
        cursor = h.source.changes_since(h.user_id, cursor).cursor
        second = self._add(h, appointment(timed(11), "Second"))

        changes = h.source.changes_since(h.user_id, cursor)

        assert {second} == {i.id for i in changes.changed} & {first, second}

    def test_the_change_feed_reports_a_conversion_by_its_successor(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        unlinked = self._unlinked(h)
        cursor = self._cursor(h)

        session = h.driver.convert(h.user_id, unlinked.id, client=CLIENT, session_type="Portrait")

        changed = {item.id: item for item in h.source.changes_since(h.user_id, cursor).changed}
        converted = changed[session.id]
        assert isinstance(converted, ScheduleItem)
        assert unlinked.id == converted.replaces

    def test_the_change_feed_refuses_an_unknown_cursor(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        h = schedule_harness
        self._cursor(h)

        with pytest.raises(LookupError):
            h.source.changes_since(h.user_id, "calsync-contract-unknown-cursor")


def client(contact_id: str, given: str = "Ann", family: str = "Archer") -> Contact:
    fields = ContactFields(
        given_name=given,
        family_name=family,
        phones=[Phone("+44 20 7946 0000")],
        notes="Prefers mornings",
    )
    return Contact(contact_id, fields)


class ContactSourceContract:
    """Every behaviour calsync relies on from a :class:`~calsync.sources.ContactSource`."""

    @pytest.fixture
    def contact_harness(self) -> ContactHarness:
        """Override: return the adapter under test with its driver."""
        raise NotImplementedError("override the contact_harness fixture")

    def _add(
        self, h: ContactHarness, contact: Contact, groups: Sequence[str], user: str = ""
    ) -> str:
        return h.driver.add(user or h.user_id, contact, groups).id

    def _members(self, h: ContactHarness, group: str, user: str = "") -> set[str]:
        return {contact.id for contact in h.source.list_group(user or h.user_id, group)}

    def _created(self, h: ContactHarness, origin: str = "people/c1") -> Contact:
        fields = ContactFields(given_name="Bea", family_name="Baker", notes="From Google")
        return h.source.create_contact(h.user_id, h.group, fields, origin)

    # -- reading -------------------------------------------------------------------------

    def test_list_group_returns_the_members_only(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        member = self._add(h, client("contract-ann"), [h.group])
        other = self._add(h, client("contract-bob", "Bob"), [h.other_group])

        assert ({member}, {other}) == (
            self._members(h, h.group) & {member, other},
            self._members(h, h.other_group) & {member, other},
        )

    def test_a_group_without_members_lists_nothing(self, contact_harness: ContactHarness) -> None:
        h = contact_harness

        assert list(h.source.list_group(h.user_id, "calsync contract empty group")) == []

    def test_get_contact_of_a_removed_client_is_none(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])
        h.driver.remove(h.user_id, contact_id)

        assert h.source.get_contact(h.user_id, contact_id) is None
        assert contact_id not in self._members(h, h.group)

    def test_users_do_not_see_each_others_clients(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])

        assert contact_id not in self._members(h, h.group, user=h.other_user_id)
        assert h.source.get_contact(h.other_user_id, contact_id) is None

    # -- writes --------------------------------------------------------------------------

    def test_create_contact_makes_a_client_in_the_group_carrying_its_origin(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness

        contact = self._created(h, "people/c1")

        assert contact.remote_id == "people/c1"
        assert (contact.fields.given_name, contact.fields.family_name) == ("Bea", "Baker")
        assert contact == h.source.get_contact(h.user_id, contact.id)
        assert contact.id in self._members(h, h.group)

    def test_create_contact_is_idempotent_per_origin(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        first = self._created(h, "people/c1")

        again = self._created(h, "people/c1")
        other = self._created(h, "people/c2")

        assert first.id == again.id
        assert first.id != other.id
        listed = [
            c
            for c in h.source.list_group(h.user_id, h.group)
            if isinstance(c, Contact) and c.remote_id == "people/c1"
        ]
        assert [first.id] == [c.id for c in listed]

    def test_update_contact_applies_only_the_changed_fields(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])
        before = h.source.get_contact(h.user_id, contact_id)
        assert isinstance(before, Contact)
        edit = ContactFields(given_name="Anne", family_name="ignored", notes="Call after 5")

        updated = h.source.update_contact(
            h.user_id, contact_id, ContactUpdate(edit, frozenset({"given_name", "notes"}))
        )

        expected = attrs.evolve(before.fields, given_name="Anne", notes="Call after 5")
        assert expected == updated.fields
        assert updated.revision is None or updated.revision != before.revision
        assert updated == h.source.get_contact(h.user_id, contact_id)

    def test_remove_from_group_keeps_the_client(self, contact_harness: ContactHarness) -> None:
        h = contact_harness
        contact_id = self._add(h, client("contract-ann"), [h.group])

        h.source.remove_from_group(h.user_id, h.group, contact_id)
        h.source.remove_from_group(h.user_id, h.group, contact_id)

        assert contact_id not in self._members(h, h.group)
        assert h.source.get_contact(h.user_id, contact_id) is not None

    def _corrupt(self, h: ContactHarness, groups: Sequence[str]) -> str:
        if h.no_corrupt_rows:
            pytest.skip(h.no_corrupt_rows)
        if not isinstance(h.driver, CorruptClientDriver):
            pytest.fail(
                "the contact driver has no add_corrupt: implement CorruptClientDriver, or say "
                "why the host cannot hold a corrupt row in ContactHarness(no_corrupt_rows=...)"
            )
        return h.driver.add_corrupt(h.user_id, client("contract-broken", "Broken"), groups)

    def test_a_corrupt_client_row_is_listed_as_unreadable_with_its_id_and_the_rest_intact(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        member = self._add(h, client("contract-ann"), [h.group])
        broken = self._corrupt(h, [h.group])

        listed = list(h.source.list_group(h.user_id, h.group))

        unreadable = [c for c in listed if isinstance(c, Unreadable)]
        assert [broken] == [c.id for c in unreadable]
        assert unreadable[0].reason.strip()
        assert member in {c.id for c in listed if isinstance(c, Contact)}

    def test_get_contact_of_a_corrupt_client_row_is_unreadable_with_its_id_and_a_reason(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        broken = self._corrupt(h, [h.group])

        found = h.source.get_contact(h.user_id, broken)

        assert isinstance(found, Unreadable)
        assert (broken, True) == (found.id, bool(found.reason.strip()))

    def test_the_change_feed_reports_a_corrupt_client_as_unreadable(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        cursor = self._cursor(h)
        broken = self._corrupt(h, [h.group])

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert [Unreadable] == [type(c) for c in changes.changed if c.id == broken]
        assert broken not in changes.deleted

    # -- change feed ---------------------------------------------------------------------

    def _cursor(self, h: ContactHarness) -> str:
        cursor = h.source.change_cursor(h.user_id, h.group)
        if cursor is None:
            pytest.skip("the adapter offers no change feed")
        return cursor

    def test_the_change_feed_reports_joiners_and_leavers(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        leaving = self._add(h, client("contract-ann"), [h.group])
        doomed = self._add(h, client("contract-cy", "Cy"), [h.group])
        cursor = self._cursor(h)
        joining = self._add(h, client("contract-bob", "Bob"), [h.group])
        h.source.remove_from_group(h.user_id, h.group, leaving)
        h.driver.remove(h.user_id, doomed)

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert joining in {c.id for c in changes.changed}
        assert {leaving, doomed} == {leaving, doomed} & set(changes.deleted)
        assert set() == {leaving, doomed} & {c.id for c in changes.changed}

    def test_the_change_feed_moves_on_to_the_cursor_it_returns(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        cursor = self._cursor(h)
        first = self._add(h, client("contract-ann"), [h.group])
        cursor = h.source.changes_since(h.user_id, h.group, cursor).cursor
        second = self._add(h, client("contract-bob", "Bob"), [h.group])

        changes = h.source.changes_since(h.user_id, h.group, cursor)

        assert {second} == {c.id for c in changes.changed} & {first, second}

    def test_the_change_feed_refuses_an_unknown_cursor(
        self, contact_harness: ContactHarness
    ) -> None:
        h = contact_harness
        self._cursor(h)

        with pytest.raises(LookupError):
            h.source.changes_since(h.user_id, h.group, "calsync-contract-unknown-cursor")

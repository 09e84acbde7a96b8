"""Contract suites for the remote side: :class:`CalendarBackendContract` and
:class:`ContactsBackendContract`.

They are written against :mod:`calsync.backends` alone, so any backend passes them: the
in-memory ones, and the Google backend pointed at the emulator. A subclass overrides one
fixture returning a *harness*: the backend, a *driver* that plays the Google user (the in-memory
backends are their own drivers; the emulator has one too), and the calendar or group to use::

    class TestGoogleCalendar(CalendarBackendContract):
        @pytest.fixture
        def calendar_harness(self, emulator):
            backend = GoogleCalendarBackend(emulator.credentials(), ...)
            return CalendarHarness(backend, emulator.driver(), emulator.add_calendar())

Events are dated in 2031 and use fresh random ids, so a remote that outlives a test is fine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pytest
from attrs import frozen

from calsync.backends import (
    CalendarBackend,
    ContactsBackend,
    CreateContact,
    CreateEvent,
    DeleteContact,
    DeleteEvent,
    RemoteContact,
    RemoteEvent,
    UpdateContact,
    UpdateEvent,
)
from calsync.errors import AlreadyExists, CalendarGone, NotFound, PreconditionFailed
from calsync.model import (
    AllDay,
    ContactFields,
    Email,
    EventFields,
    Marker,
    Phone,
    PostalAddress,
    Timed,
    TimeRange,
)

__all__ = [
    "CalendarBackendContract",
    "CalendarDriver",
    "CalendarHarness",
    "ContactsBackendContract",
    "ContactsDriver",
    "ContactsHarness",
]


class CalendarDriver(Protocol):
    """What the calendar suite needs the Google user (or Google itself) to do."""

    def external_create(
        self,
        calendar_id: str,
        fields: EventFields,
        *,
        event_id: str | None = None,
        event_type: str = "default",
        marker: Marker | None = None,
    ) -> RemoteEvent:
        """Make an event as the Google user would (a server-chosen id unless given)."""
        ...

    def external_update(self, calendar_id: str, event_id: str, **field_changes: Any) -> RemoteEvent:
        """Edit :class:`~calsync.model.EventFields` attributes of an event."""
        ...

    def external_delete(self, calendar_id: str, event_id: str) -> None:
        """Delete an event."""
        ...

    def expire_cursors(self) -> None:
        """Make every sync token handed out so far expired."""
        ...

    def delete_calendar(self, calendar_id: str) -> None:
        """Delete the calendar."""
        ...


class ContactsDriver(Protocol):
    """What the contacts suite needs the Google user (or Google itself) to do."""

    def external_create(
        self, fields: ContactFields, groups: Iterable[str] = (), marker: Marker | None = None
    ) -> RemoteContact:
        """Make a contact in ``groups`` (group ids) as the Google user would."""
        ...

    def external_update(self, contact_id: str, **field_changes: Any) -> RemoteContact:
        """Edit :class:`~calsync.model.ContactFields` attributes of a contact."""
        ...

    def external_delete(self, contact_id: str) -> None:
        """Delete a contact."""
        ...

    def external_remove_from_group(self, contact_id: str, group: str) -> None:
        """Take a contact out of a group (a group id)."""
        ...

    def expire_cursors(self) -> None:
        """Make every sync token handed out so far expired."""
        ...


@frozen
class CalendarHarness:
    """What :class:`CalendarBackendContract` tests: a backend, its driver, a calendar."""

    backend: CalendarBackend
    driver: CalendarDriver
    calendar_id: str


@frozen
class ContactsHarness:
    """What :class:`ContactsBackendContract` tests: a backend, its driver, a group name."""

    backend: ContactsBackend
    driver: ContactsDriver
    group_name: str = "calsync contract group"


#: The window the calendar suite lists: March 2031 (UTC).
WINDOW = TimeRange(datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))
MARKER = Marker("contract.profile", "host-1")


def new_event_id() -> str:
    """A fresh client-chosen event id (base32hex)."""
    return f"cs{uuid.uuid4().hex}"


def event_fields(title: str = "Wedding - Ann", day: int = 10, month: int = 3) -> EventFields:
    start = datetime(2031, month, day, 9, tzinfo=UTC)
    return EventFields(
        title=title,
        description="Call Ann on +44 20 7946 0000",
        location="St Mary's",
        when=Timed(start, start + timedelta(hours=2), "Europe/London"),
    )


def _ids(events: Iterable[RemoteEvent | RemoteContact]) -> set[str]:
    return {event.id for event in events}


class CalendarBackendContract:
    """Every behaviour calsync relies on from a :class:`~calsync.backends.CalendarBackend`."""

    @pytest.fixture
    def calendar_harness(self) -> CalendarHarness:
        """Override: return the backend under test, its driver and a calendar id."""
        raise NotImplementedError("override the calendar_harness fixture")

    def _create(
        self, h: CalendarHarness, fields: EventFields | None = None, marker: Marker = MARKER
    ) -> RemoteEvent:
        return h.backend.create_event(
            h.calendar_id, new_event_id(), fields or event_fields(), marker
        )

    # -- listing -------------------------------------------------------------------------

    def test_a_full_listing_holds_the_live_events_of_the_window(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        ours = self._create(h)
        theirs = h.driver.external_create(h.calendar_id, event_fields("Dentist", day=20))
        later = self._create(h, event_fields("Next year", month=9))
        deleted = self._create(h, event_fields("Cancelled"))
        h.backend.delete_event(h.calendar_id, deleted.id, None)

        listing = h.backend.list_events(h.calendar_id, WINDOW, None)

        listed = _ids(listing.items)
        assert {ours.id, theirs.id} <= listed
        assert set() == {later.id, deleted.id} & listed
        assert (listing.complete, listing.restarted) == (True, None)
        assert listing.cursor is not None

    def test_an_incremental_listing_holds_changes_and_tombstones_only(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        unchanged, edited, doomed = (self._create(h, event_fields(t)) for t in "ABC")
        cursor = h.backend.list_events(h.calendar_id, WINDOW, None).cursor
        h.backend.update_event(h.calendar_id, edited.id, event_fields("B2"), None, edited.etag)
        h.driver.external_delete(h.calendar_id, doomed.id)
        added = h.driver.external_create(h.calendar_id, event_fields("D"))

        listing = h.backend.list_events(h.calendar_id, WINDOW, cursor)

        by_id = {event.id: event for event in listing.items}
        assert listing.complete is False
        assert {edited.id, doomed.id, added.id} <= set(by_id)
        assert unchanged.id not in by_id
        assert by_id[doomed.id].deleted
        assert (by_id[edited.id].fields or EventFields()).title == "B2"

    def test_an_incremental_listing_moves_on_to_the_cursor_it_returns(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        cursor = h.backend.list_events(h.calendar_id, WINDOW, None).cursor
        first = self._create(h)
        after_first = h.backend.list_events(h.calendar_id, WINDOW, cursor)
        second = self._create(h)

        listing = h.backend.list_events(h.calendar_id, WINDOW, after_first.cursor)

        assert {second.id} == _ids(listing.items) & {first.id, second.id}
        quiet = h.backend.list_events(h.calendar_id, WINDOW, listing.cursor)
        assert _ids(quiet.items) == set()

    def test_an_expired_cursor_gives_a_full_listing_that_says_so(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event = self._create(h)
        cursor = h.backend.list_events(h.calendar_id, WINDOW, None).cursor
        h.driver.expire_cursors()

        listing = h.backend.list_events(h.calendar_id, WINDOW, cursor)

        assert listing.complete is True
        assert listing.restarted
        assert event.id in _ids(listing.items)
        assert listing.cursor is not None

    # -- reading one event ---------------------------------------------------------------

    def test_get_event_returns_the_event_as_created(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        all_day = EventFields(title="Studio closed", when=AllDay.single(date(2031, 3, 17)))
        timed, whole_day = self._create(h), self._create(h, all_day)

        for created in (timed, whole_day):
            got = h.backend.get_event(h.calendar_id, created.id)
            assert got is not None
            assert (got.fields, got.marker, got.etag, got.deleted) == (
                created.fields,
                MARKER,
                created.etag,
                False,
            )
        assert whole_day.fields == all_day

    def test_get_event_of_a_deleted_event_is_a_tombstone(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event = self._create(h)
        h.backend.delete_event(h.calendar_id, event.id, event.etag)

        got = h.backend.get_event(h.calendar_id, event.id)

        assert got is not None
        assert (got.id, got.deleted) == (event.id, True)

    def test_get_event_of_an_unknown_id_is_none(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness

        assert h.backend.get_event(h.calendar_id, new_event_id()) is None

    # -- creating ------------------------------------------------------------------------

    def test_create_twice_with_the_same_id_makes_one_event(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event_id = new_event_id()
        h.backend.create_event(h.calendar_id, event_id, event_fields("First try"), MARKER)

        again = h.backend.create_event(h.calendar_id, event_id, event_fields("Retry"), MARKER)

        assert (again.id, again.fields, again.deleted) == (event_id, event_fields("Retry"), False)
        listed = h.backend.list_events(h.calendar_id, WINDOW, None).items
        assert [event_id] == [e.id for e in listed if e.id == event_id]

    def test_create_over_a_deleted_event_of_ours_revives_it(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event = self._create(h)
        h.driver.external_delete(h.calendar_id, event.id)

        revived = h.backend.create_event(h.calendar_id, event.id, event_fields("Back"), MARKER)

        got = h.backend.get_event(h.calendar_id, event.id)
        assert got is not None
        assert (got.deleted, got.fields, got.etag) == (False, event_fields("Back"), revived.etag)
        assert event.id in _ids(h.backend.list_events(h.calendar_id, WINDOW, None).items)

    def test_create_with_an_id_taken_by_an_event_not_ours_is_refused(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        theirs = h.driver.external_create(h.calendar_id, event_fields(), event_id=new_event_id())
        other_profile = Marker("another.profile", "host-1")
        others = self._create(h, marker=other_profile)

        for taken in (theirs, others):
            with pytest.raises(AlreadyExists):
                h.backend.create_event(h.calendar_id, taken.id, event_fields("Mine"), MARKER)
            got = h.backend.get_event(h.calendar_id, taken.id)
            assert got is not None
            assert got.fields == taken.fields

    # -- updating and deleting -----------------------------------------------------------

    def test_update_replaces_the_fields_and_gives_a_new_etag(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event = self._create(h)

        updated = h.backend.update_event(
            h.calendar_id, event.id, event_fields("Moved", day=11), None, event.etag
        )

        assert (updated.fields, updated.marker) == (event_fields("Moved", day=11), MARKER)
        assert updated.etag != event.etag
        assert h.backend.get_event(h.calendar_id, event.id) == updated

    def test_update_sets_the_marker_when_given(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness
        theirs = h.driver.external_create(h.calendar_id, event_fields())

        adopted = h.backend.update_event(h.calendar_id, theirs.id, event_fields(), MARKER, None)

        assert adopted.marker == MARKER

    def test_update_with_a_stale_etag_is_refused(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness
        event = self._create(h)
        h.driver.external_update(h.calendar_id, event.id, title="Edited in Google")

        with pytest.raises(PreconditionFailed):
            h.backend.update_event(h.calendar_id, event.id, event_fields("Mine"), None, event.etag)
        got = h.backend.get_event(h.calendar_id, event.id)
        assert got is not None
        assert (got.fields or EventFields()).title == "Edited in Google"

    def test_update_of_an_unknown_event_is_not_found(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness

        with pytest.raises(NotFound):
            h.backend.update_event(h.calendar_id, new_event_id(), event_fields(), MARKER, None)

    def test_delete_is_idempotent(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness
        event = self._create(h)

        h.backend.delete_event(h.calendar_id, event.id, event.etag)
        h.backend.delete_event(h.calendar_id, event.id, None)
        h.backend.delete_event(h.calendar_id, new_event_id(), None)

        assert event.id not in _ids(h.backend.list_events(h.calendar_id, WINDOW, None).items)

    def test_delete_with_a_stale_etag_is_refused(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness
        event = self._create(h)
        h.driver.external_update(h.calendar_id, event.id, location="Town hall")

        with pytest.raises(PreconditionFailed):
            h.backend.delete_event(h.calendar_id, event.id, event.etag)
        assert event.id in _ids(h.backend.list_events(h.calendar_id, WINDOW, None).items)

    # -- batches and the calendar itself -------------------------------------------------

    def test_write_events_returns_one_result_per_write_in_order(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        stale = self._create(h)
        h.driver.external_update(h.calendar_id, stale.id, title="Edited in Google")
        theirs = h.driver.external_create(h.calendar_id, event_fields(), event_id=new_event_id())
        created_id = new_event_id()

        results = h.backend.write_events(
            h.calendar_id,
            [
                CreateEvent(created_id, event_fields("New"), MARKER),
                UpdateEvent(stale.id, event_fields("Mine"), None, stale.etag),
                DeleteEvent(new_event_id(), None),
                CreateEvent(theirs.id, event_fields("Mine"), MARKER),
            ],
        )

        assert [type(r.error) for r in results] == [
            type(None),
            PreconditionFailed,
            type(None),
            AlreadyExists,
        ]
        created = results[0].item
        assert created is not None
        assert (created.id, created.fields) == (created_id, event_fields("New"))
        assert (results[2].item, results[1].item, results[3].item) == (None, None, None)

    def test_a_deleted_calendar_is_gone_for_every_call(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        event = self._create(h)
        h.driver.delete_calendar(h.calendar_id)
        backend, cal = h.backend, h.calendar_id

        with pytest.raises(CalendarGone):
            backend.list_events(cal, WINDOW, None)
        with pytest.raises(CalendarGone):
            backend.get_event(cal, event.id)
        with pytest.raises(CalendarGone):
            backend.create_event(cal, new_event_id(), event_fields(), MARKER)
        with pytest.raises(CalendarGone):
            backend.update_event(cal, event.id, event_fields(), None, None)
        with pytest.raises(CalendarGone):
            backend.delete_event(cal, event.id, None)
        [result] = backend.write_events(cal, [DeleteEvent(event.id, None)])
        assert isinstance(result.error, CalendarGone)


def contact_fields(given: str = "Ann", notes: str = "Prefers mornings") -> ContactFields:
    return ContactFields(
        given_name=given,
        family_name="Archer",
        organization="Archer & Co",
        phones=[Phone("+44 20 7946 0000"), Phone("+44 20 7946 0001", "work")],
        emails=[Email("ann@example.com")],
        addresses=[PostalAddress("1 High St", "London", postal_code="N1 1AA", country="GB")],
        notes=notes,
    )


class ContactsBackendContract:
    """Every behaviour calsync relies on from a :class:`~calsync.backends.ContactsBackend`."""

    @pytest.fixture
    def contacts_harness(self) -> ContactsHarness:
        """Override: return the backend under test, its driver and a group name."""
        raise NotImplementedError("override the contacts_harness fixture")

    @pytest.fixture
    def group_id(self, contacts_harness: ContactsHarness) -> str:
        return contacts_harness.backend.ensure_group(contacts_harness.group_name)

    def _create(
        self, h: ContactsHarness, group_id: str, fields: ContactFields | None = None
    ) -> RemoteContact:
        return h.backend.create_contact(group_id, fields or contact_fields(), MARKER)

    # -- groups and listing --------------------------------------------------------------

    def test_ensure_group_finds_the_group_it_made(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness

        again = h.backend.ensure_group(h.group_name)
        other = h.backend.ensure_group(f"{h.group_name} {uuid.uuid4().hex[:6]}")

        assert again == group_id
        assert other != group_id

    def test_a_full_listing_holds_the_live_members_of_the_group(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        ours = self._create(h, group_id)
        theirs = h.driver.external_create(contact_fields("Bea"), groups=[group_id])
        outsider = h.driver.external_create(contact_fields("Cy"))
        deleted = self._create(h, group_id, contact_fields("Dee"))
        h.backend.delete_contact(deleted.id)

        listing = h.backend.list_contacts(group_id, None)

        listed = {c.id: c for c in listing.items}
        assert {ours.id, theirs.id} <= set(listed)
        assert set() == {outsider.id, deleted.id} & set(listed)
        assert all(c.in_group and not c.deleted for c in listing.items)
        assert (listing.complete, listing.restarted) == (True, None)
        assert listing.cursor is not None

    def test_a_new_group_lists_empty(self, contacts_harness: ContactsHarness) -> None:
        h = contacts_harness
        empty = h.backend.ensure_group(f"calsync contract empty {uuid.uuid4().hex[:6]}")

        listing = h.backend.list_contacts(empty, None)

        assert (list(listing.items), listing.complete) == ([], True)

    def test_an_incremental_listing_holds_changes_leavers_and_tombstones(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        unchanged, edited, leaving, doomed = (
            self._create(h, group_id, contact_fields(name)) for name in ("Ann", "Bea", "Cy", "Dee")
        )
        cursor = h.backend.list_contacts(group_id, None).cursor
        h.driver.external_update(edited.id, notes="Now vegetarian")
        h.driver.external_remove_from_group(leaving.id, group_id)
        h.driver.external_delete(doomed.id)

        listing = h.backend.list_contacts(group_id, cursor)

        by_id = {c.id: c for c in listing.items}
        assert listing.complete is False
        assert {edited.id, leaving.id, doomed.id} <= set(by_id)
        assert unchanged.id not in by_id
        assert (by_id[edited.id].fields or ContactFields()).notes == "Now vegetarian"
        assert (by_id[leaving.id].in_group, by_id[leaving.id].deleted) == (False, False)
        assert by_id[doomed.id].deleted

    def test_an_expired_cursor_gives_a_full_listing_that_says_so(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        member = self._create(h, group_id)
        cursor = h.backend.list_contacts(group_id, None).cursor
        h.driver.expire_cursors()

        listing = h.backend.list_contacts(group_id, cursor)

        assert (listing.complete, bool(listing.restarted)) == (True, True)
        assert member.id in _ids(listing.items)

    # -- single contacts -----------------------------------------------------------------

    def test_get_contact_returns_the_contact_as_created(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        got = h.backend.get_contact(created.id)

        assert got is not None
        assert (got.fields, got.marker, got.etag) == (contact_fields(), MARKER, created.etag)
        assert (got.deleted, got.in_group) == (False, True)

    def test_get_contact_of_a_deleted_contact_is_none_or_a_tombstone(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.backend.delete_contact(created.id)
        h.backend.delete_contact(created.id)

        got = h.backend.get_contact(created.id)

        assert got is None or got.deleted

    def test_update_replaces_the_fields_and_gives_a_new_etag(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        updated = h.backend.update_contact(
            group_id, created.id, contact_fields("Anne"), None, created.etag
        )

        assert (updated.fields, updated.marker) == (contact_fields("Anne"), MARKER)
        assert updated.etag != created.etag
        assert h.backend.get_contact(created.id) == updated

    def test_update_puts_a_contact_that_left_the_group_back(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.backend.remove_from_group(created.id, group_id)
        current = h.backend.get_contact(created.id)
        assert current is not None

        h.backend.update_contact(group_id, created.id, contact_fields(), MARKER, current.etag)

        assert created.id in _ids(h.backend.list_contacts(group_id, None).items)

    def test_update_with_a_stale_etag_is_refused(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.driver.external_update(created.id, notes="Edited in Google")

        with pytest.raises(PreconditionFailed):
            h.backend.update_contact(group_id, created.id, contact_fields(), None, created.etag)

    def test_update_of_a_deleted_contact_is_not_found(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)
        h.driver.external_delete(created.id)

        with pytest.raises(NotFound):
            h.backend.update_contact(group_id, created.id, contact_fields(), None, created.etag)

    def test_remove_from_group_keeps_the_contact(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        created = self._create(h, group_id)

        h.backend.remove_from_group(created.id, group_id)

        got = h.backend.get_contact(created.id)
        assert got is not None
        assert (got.deleted, got.in_group, got.fields) == (False, False, contact_fields())
        assert created.id not in _ids(h.backend.list_contacts(group_id, None).items)

    def test_write_contacts_returns_one_result_per_write_in_order(
        self, contacts_harness: ContactsHarness, group_id: str
    ) -> None:
        h = contacts_harness
        stale = self._create(h, group_id)
        h.driver.external_update(stale.id, notes="Edited in Google")
        gone = self._create(h, group_id)
        h.backend.delete_contact(gone.id)

        results = h.backend.write_contacts(
            group_id,
            [
                CreateContact(contact_fields("New"), MARKER),
                UpdateContact(stale.id, contact_fields(), None, stale.etag),
                DeleteContact(gone.id),
                UpdateContact(gone.id, contact_fields(), None, gone.etag),
            ],
        )

        assert [type(r.error) for r in results] == [
            type(None),
            PreconditionFailed,
            type(None),
            NotFound,
        ]
        created = results[0].item
        assert created is not None
        assert (created.fields, created.marker) == (contact_fields("New"), MARKER)

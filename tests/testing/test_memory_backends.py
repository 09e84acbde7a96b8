"""The in-memory backends: they pass the backend contracts, keep Google's rules, and their
test hooks (faults, crashes, call counts, external edits) work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync.backends import CreateEvent, DeleteEvent, EventWrite
from calsync.errors import (
    AlreadyExists,
    CalendarGone,
    InvalidRequest,
    NotFound,
    RateLimited,
    TransientError,
)
from calsync.model import ContactFields, EventFields, Marker, Timed, TimeRange
from calsync.testing import MemoryCalendarBackend, MemoryContactsBackend, SimulatedCrash
from calsync.testing.contracts.backends import (
    CalendarBackendContract,
    CalendarHarness,
    ContactsBackendContract,
    ContactsHarness,
)

CAL = "primary"
T0 = datetime(2030, 5, 1, 9, tzinfo=UTC)
WINDOW = TimeRange(T0 - timedelta(days=30), T0 + timedelta(days=30))
MARKER = Marker("studio.alice", "s1")
EVENT_ID = "evt00001"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def fields(title: str = "Wedding", days: int = 0) -> EventFields:
    start = T0 + timedelta(days=days)
    return EventFields(title=title, when=Timed(start, start + timedelta(hours=1), "Europe/Paris"))


class TestMemoryCalendarBackendContract(CalendarBackendContract):
    @pytest.fixture
    def calendar_harness(self) -> CalendarHarness:
        backend = MemoryCalendarBackend(calendars=[CAL])
        return CalendarHarness(backend, backend, CAL)


class TestMemoryContactsBackendContract(ContactsBackendContract):
    @pytest.fixture
    def contacts_harness(self) -> ContactsHarness:
        backend = MemoryContactsBackend()
        return ContactsHarness(backend, backend)


@pytest.fixture
def calendar() -> MemoryCalendarBackend:
    return MemoryCalendarBackend(calendars=[CAL])


# -- calendar: Google's rules ----------------------------------------------------------------


@pytest.mark.parametrize("event_id", ["abc", "has_underscore", "UPPERCASE1", "wxyz12345"])
def test_event_ids_outside_base32hex_are_invalid_requests(
    calendar: MemoryCalendarBackend, event_id: str
) -> None:
    with pytest.raises(InvalidRequest):
        calendar.create_event(CAL, event_id, fields(), MARKER)


def test_an_event_without_a_time_is_an_invalid_request(calendar: MemoryCalendarBackend) -> None:
    with pytest.raises(InvalidRequest):
        calendar.create_event(CAL, EVENT_ID, EventFields(title="When?"), MARKER)


def test_a_deleted_event_keeps_its_id_and_cannot_be_updated(
    calendar: MemoryCalendarBackend,
) -> None:
    event = calendar.create_event(CAL, EVENT_ID, fields(), MARKER)
    calendar.delete_event(CAL, EVENT_ID, None)

    with pytest.raises(NotFound):
        calendar.update_event(CAL, EVENT_ID, fields(), None, None)
    with pytest.raises(AlreadyExists):
        calendar.external_create(CAL, fields(), event_id=EVENT_ID)
    calendar.delete_event(CAL, EVENT_ID, event.etag)  # a stale etag on a tombstone is fine
    assert list(calendar.events(CAL, include_deleted=True)) == [EVENT_ID]


def test_create_over_any_tombstone_revives_it_as_ours(calendar: MemoryCalendarBackend) -> None:
    theirs = calendar.external_create(CAL, fields("Dentist"), event_id=EVENT_ID)
    calendar.external_delete(CAL, theirs.id)

    revived = calendar.create_event(CAL, EVENT_ID, fields(), MARKER)

    assert (revived.deleted, revived.marker, revived.fields) == (False, MARKER, fields())


def test_an_incremental_listing_holds_changes_outside_the_window(
    calendar: MemoryCalendarBackend,
) -> None:
    cursor = calendar.list_events(CAL, WINDOW, None).cursor
    far = calendar.external_create(CAL, fields("Next year", days=400))

    listing = calendar.list_events(CAL, WINDOW, cursor)

    assert [e.id for e in listing.items] == [far.id]


def test_the_clock_stamps_updated_and_each_write_a_new_etag() -> None:
    clock = Clock()
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    created = calendar.create_event(CAL, EVENT_ID, fields(), MARKER)
    clock.now += timedelta(minutes=3)

    edited = calendar.external_update(CAL, EVENT_ID, title="Wedding (moved)")

    assert (created.updated, edited.updated) == (T0, T0 + timedelta(minutes=3))
    assert created.etag != edited.etag
    assert edited.fields == fields("Wedding (moved)")


def test_google_made_events_get_server_ids_and_keep_their_type(
    calendar: MemoryCalendarBackend,
) -> None:
    event = calendar.external_create(CAL, fields(), event_type="outOfOffice")

    assert (len(event.id), event.event_type, event.marker) == (32, "outOfOffice", None)
    assert calendar.events(CAL) == {event.id: event}


def test_a_calendar_made_again_after_deletion_starts_empty(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.create_event(CAL, EVENT_ID, fields(), MARKER)
    cursor = calendar.list_events(CAL, WINDOW, None).cursor
    calendar.delete_calendar(CAL)

    calendar.add_calendar(CAL)

    assert calendar.events(CAL, include_deleted=True) == {}
    assert calendar.list_events(CAL, WINDOW, cursor).restarted == "sync token expired"


def test_an_unknown_calendar_is_gone(calendar: MemoryCalendarBackend) -> None:
    with pytest.raises(CalendarGone):
        calendar.get_event("nobody@group.calendar.google.com", EVENT_ID)


def test_add_calendar_without_an_id_makes_one() -> None:
    calendar = MemoryCalendarBackend()

    calendar_id = calendar.add_calendar()

    assert calendar_id.endswith("@group.calendar.google.com")
    assert calendar.events(calendar_id) == {}


# -- calendar: faults ----------------------------------------------------------------------


def test_fail_next_fails_the_next_listings_then_lets_them_through(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.fail_next("list_events", RateLimited("slow down", retry_after=1.0), count=2)

    for _ in range(2):
        with pytest.raises(RateLimited):
            calendar.list_events(CAL, WINDOW, None)

    assert calendar.list_events(CAL, WINDOW, None).complete
    assert calendar.calls["list_events"] == 3


def test_a_failing_single_write_in_a_batch_is_returned_and_not_done(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.fail_next("create_event", TransientError("backend error", status=503))

    results = calendar.write_events(CAL, [CreateEvent(EVENT_ID, fields(), MARKER)])

    assert [type(r.error) for r in results] == [TransientError]
    assert calendar.events(CAL) == {}


def test_a_failing_batch_raises_and_writes_nothing(calendar: MemoryCalendarBackend) -> None:
    calendar.fail_next("write_events", TransientError("batch failed", status=500))

    with pytest.raises(TransientError):
        calendar.write_events(CAL, [CreateEvent(EVENT_ID, fields(), MARKER)])

    assert calendar.events(CAL) == {}


def test_crash_after_next_create_writes_the_event_then_crashes(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.crash_after_next("create_event")

    with pytest.raises(SimulatedCrash):
        calendar.create_event(CAL, EVENT_ID, fields(), MARKER)

    assert list(calendar.events(CAL)) == [EVENT_ID]
    assert calendar.create_event(CAL, EVENT_ID, fields(), MARKER).id == EVENT_ID  # once only


def test_a_simulated_crash_is_not_caught_by_except_exception(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.crash_after_next("delete_event")
    calendar.create_event(CAL, EVENT_ID, fields(), MARKER)

    def careless_caller() -> str:
        try:
            calendar.delete_event(CAL, EVENT_ID, None)
        except Exception:  # the code under test may swallow errors, never a crash
            return "swallowed"
        return "returned"

    with pytest.raises(SimulatedCrash):
        careless_caller()
    assert calendar.events(CAL) == {}


def test_a_crash_in_the_middle_of_a_batch_stops_it_after_that_write(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.create_event(CAL, "evt00002", fields(), MARKER)
    calendar.crash_after_next("delete_event")
    writes: list[EventWrite] = [
        CreateEvent(EVENT_ID, fields(), MARKER),
        DeleteEvent("evt00002", None),
        CreateEvent("evt00003", fields(), MARKER),
    ]

    with pytest.raises(SimulatedCrash):
        calendar.write_events(CAL, writes)

    assert list(calendar.events(CAL)) == [EVENT_ID]


def test_a_call_that_fails_on_its_own_consumes_the_crash(calendar: MemoryCalendarBackend) -> None:
    calendar.crash_after_next("create_event")

    with pytest.raises(InvalidRequest):
        calendar.create_event(CAL, "bad", fields(), MARKER)

    assert calendar.create_event(CAL, EVENT_ID, fields(), MARKER).id == EVENT_ID


def test_calls_counts_contract_calls_and_not_hooks(calendar: MemoryCalendarBackend) -> None:
    calendar.external_create(CAL, fields())
    calendar.write_events(CAL, [CreateEvent(EVENT_ID, fields(), MARKER)])
    calendar.get_event(CAL, EVENT_ID)
    calendar.events(CAL)

    assert dict(calendar.calls) == {"write_events": 1, "create_event": 1, "get_event": 1}


def test_faults_can_only_name_contract_methods(calendar: MemoryCalendarBackend) -> None:
    with pytest.raises(ValueError, match="not a contract method"):
        calendar.crash_after_next("external_create")


# -- contacts --------------------------------------------------------------------------------


@pytest.fixture
def book() -> MemoryContactsBackend:
    return MemoryContactsBackend()


def person(given: str = "Ann") -> ContactFields:
    return ContactFields(given_name=given, family_name="Archer")


def test_contacts_get_people_resource_names_and_groups_contact_group_ids(
    book: MemoryContactsBackend,
) -> None:
    group_id = book.ensure_group("Wedding clients")

    contact = book.create_contact(group_id, person(), MARKER)

    assert group_id.startswith("contactGroups/")
    assert contact.id.startswith("people/c")
    assert book.groups() == {"Wedding clients": group_id}
    assert book.contacts("Wedding clients") == {contact.id: contact}


def test_get_contact_tells_membership_of_calsyncs_groups_only(
    book: MemoryContactsBackend,
) -> None:
    group_id = book.ensure_group("Wedding clients")
    friend = book.external_create(person("Bea"), groups=["Friends"])
    client = book.create_contact(group_id, person(), MARKER)

    book.external_remove_from_group(client.id, "Wedding clients")
    book.external_add_to_group(friend.id, group_id)

    got = {c.id: book.get_contact(c.id) for c in (friend, client)}
    assert {i: c.in_group for i, c in got.items() if c is not None} == {
        friend.id: True,
        client.id: False,
    }


def test_a_deleted_group_is_not_found_and_its_contacts_stay(book: MemoryContactsBackend) -> None:
    group_id = book.ensure_group("Wedding clients")
    contact = book.create_contact(group_id, person(), MARKER)

    book.delete_group(group_id)

    with pytest.raises(NotFound):
        book.list_contacts(group_id, None)
    assert list(book.contacts()) == [contact.id]
    assert book.ensure_group("Wedding clients") != group_id


def test_deleted_contacts_are_tombstones_for_the_hooks(book: MemoryContactsBackend) -> None:
    group_id = book.ensure_group("Wedding clients")
    contact = book.create_contact(group_id, person(), MARKER)

    book.external_delete(contact.id)

    [tombstone] = book.contacts(include_deleted=True).values()
    assert (tombstone.id, tombstone.deleted, tombstone.fields) == (contact.id, True, None)
    assert book.contacts() == {}
    with pytest.raises(NotFound):
        book.external_update(contact.id, notes="too late")


def test_crash_after_next_contact_create_leaves_the_marked_contact(
    book: MemoryContactsBackend,
) -> None:
    group_id = book.ensure_group("Wedding clients")
    book.crash_after_next("create_contact")

    with pytest.raises(SimulatedCrash):
        book.create_contact(group_id, person(), MARKER)

    [contact] = book.list_contacts(group_id, None).items
    assert contact.marker == MARKER
    assert dict(book.calls) == {"ensure_group": 1, "create_contact": 1, "list_contacts": 1}


def test_fail_next_contact_update_fails_and_changes_nothing(book: MemoryContactsBackend) -> None:
    group_id = book.ensure_group("Wedding clients")
    contact = book.create_contact(group_id, person(), MARKER)
    book.fail_next("update_contact", RateLimited("quota"))

    with pytest.raises(RateLimited):
        book.update_contact(group_id, contact.id, person("Anne"), None, contact.etag)

    assert book.get_contact(contact.id) == contact


def test_an_expired_contacts_cursor_lists_in_full(book: MemoryContactsBackend) -> None:
    group_id = book.ensure_group("Wedding clients")
    contact = book.create_contact(group_id, person(), MARKER)
    cursor = book.list_contacts(group_id, None).cursor
    assert cursor is not None
    book.expire_cursors()

    listing = book.list_contacts(group_id, cursor)

    assert (listing.restarted, [c.id for c in listing.items]) == (
        "sync token expired",
        [contact.id],
    )


def test_creating_a_contact_twice_makes_two_contacts(book: MemoryContactsBackend) -> None:
    group_id = book.ensure_group("Wedding clients")

    first = book.create_contact(group_id, person(), MARKER)
    second = book.create_contact(group_id, person(), MARKER)

    assert first.id != second.id  # contacts have no client ids: the engine records intents

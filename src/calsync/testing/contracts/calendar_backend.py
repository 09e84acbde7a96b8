"""The contract suite of a :class:`~calsync.backends.CalendarBackend` (see
:mod:`calsync.testing.contracts.backends`)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from calsync.backends import CreateEvent, DeleteEvent, RemoteEvent, UpdateEvent
from calsync.errors import (
    AlreadyExists,
    CalendarGone,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
)
from calsync.ids import event_id_for
from calsync.model import AllDay, EventFields, Marker, Timed
from calsync.testing.contracts.backend_harness import MARKER, WINDOW, CalendarHarness, ids_of

__all__ = ["CalendarBackendContract"]


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

        listed = ids_of(listing.items)
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

        assert {second.id} == ids_of(listing.items) & {first.id, second.id}
        quiet = h.backend.list_events(h.calendar_id, WINDOW, listing.cursor)
        assert ids_of(quiet.items) == set()

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
        assert event.id in ids_of(listing.items)
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
        assert event.id in ids_of(h.backend.list_events(h.calendar_id, WINDOW, None).items)

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

    def test_create_with_its_own_id_taken_by_another_profiles_event_is_made_under_another(
        self, calendar_harness: CalendarHarness
    ) -> None:
        h = calendar_harness
        own = event_id_for(MARKER.namespace, MARKER.host_id)
        colleague = Marker("another.profile", MARKER.host_id)
        theirs = h.driver.external_create(
            h.calendar_id, event_fields(), event_id=own, marker=colleague
        )

        made = h.backend.create_event(h.calendar_id, own, event_fields("Mine"), MARKER)

        assert made.id != own
        assert made.fields == event_fields("Mine")
        got = h.backend.get_event(h.calendar_id, made.id)
        assert got is not None
        assert (got.deleted, got.fields) == (False, event_fields("Mine"))
        kept = h.backend.get_event(h.calendar_id, own)
        assert kept is not None
        assert (kept.deleted, kept.fields, kept.etag) == (False, theirs.fields, theirs.etag)

    def test_create_with_its_own_id_held_by_an_event_without_a_marker_takes_it_over(
        self, calendar_harness: CalendarHarness
    ) -> None:
        """Only an API client chooses ids: an event under calsync's own id with no marker is
        calsync's, its marker dropped by another app's full update. No second event."""
        h = calendar_harness
        own = event_id_for(MARKER.namespace, MARKER.host_id)
        h.driver.external_create(h.calendar_id, event_fields(), event_id=own)

        made = h.backend.create_event(h.calendar_id, own, event_fields("Mine"), MARKER)

        assert (made.id, made.fields, made.marker) == (own, event_fields("Mine"), MARKER)
        listed = h.backend.list_events(h.calendar_id, WINDOW, None).items
        assert [e.id for e in listed if not e.deleted] == [own]

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

        assert event.id not in ids_of(h.backend.list_events(h.calendar_id, WINDOW, None).items)

    def test_delete_with_a_stale_etag_is_refused(self, calendar_harness: CalendarHarness) -> None:
        h = calendar_harness
        event = self._create(h)
        h.driver.external_update(h.calendar_id, event.id, location="Town hall")

        with pytest.raises(PreconditionFailed):
            h.backend.delete_event(h.calendar_id, event.id, event.etag)
        assert event.id in ids_of(h.backend.list_events(h.calendar_id, WINDOW, None).items)

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

    def test_a_write_whose_times_have_no_wall_time_in_their_zone_fails_alone(
        self, calendar_harness: CalendarHarness
    ) -> None:
        # 23:00 UTC on 31 December 9999 is 12:45 on 1 January 10000 in Chatham: no local time
        # to send (Google takes local times with their offset), and no batch to fail with it
        h = calendar_harness
        end_of_time = datetime(9999, 12, 31, 23, tzinfo=UTC)
        endless = EventFields("Endless", when=Timed(end_of_time, end_of_time, "Pacific/Chatham"))
        made = self._create(h)
        good_id, bad_id = new_event_id(), new_event_id()

        results = h.backend.write_events(
            h.calendar_id,
            [
                CreateEvent(good_id, event_fields("New"), MARKER),
                CreateEvent(bad_id, endless, MARKER),
                UpdateEvent(made.id, endless, None, made.etag),
            ],
        )

        assert [type(r.error) for r in results] == [type(None), InvalidRequest, InvalidRequest]
        assert h.backend.get_event(h.calendar_id, bad_id) is None
        assert h.backend.get_event(h.calendar_id, made.id) == made
        created = h.backend.get_event(h.calendar_id, good_id)
        assert created is not None
        assert created.fields == event_fields("New")

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

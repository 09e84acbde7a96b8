"""The contract suite of a :class:`~calsync.sources.ScheduleSource` (see
:mod:`calsync.testing.contracts.sources`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from calsync.model import AllDay, ClientInfo, EventFields, ItemKind, ScheduleItem, Timed, TimeRange
from calsync.sources import ItemUpdate, Unreadable
from calsync.testing.contracts.harness import CorruptRowDriver, Defect, ScheduleHarness

__all__ = ["ScheduleSourceContract"]

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

    def test_an_item_made_after_a_delete_never_gets_the_deleted_items_id(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        # calsync may still hold the deleted item's pair (its Google delete failed): a new
        # item under that id would take the pair over (a plain SQLite rowid is reused)
        h = schedule_harness
        deleted = self._unlinked(h, "origin1")
        h.source.delete_item(h.user_id, deleted.id)

        made = self._unlinked(h, "origin2")

        assert made.id != deleted.id

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

    def test_a_converted_session_keeps_the_event_its_appointment_came_from(
        self, schedule_harness: ScheduleHarness
    ) -> None:
        # calsync may hold no pair of the appointment to take over (a crash came before it
        # recorded it, or the user synced another calendar and switched back): the session's
        # remote_id is then how it finds its event instead of making a second one
        h = schedule_harness
        unlinked = self._unlinked(h, "origin1")

        session = h.driver.convert(h.user_id, unlinked.id, client=CLIENT, session_type="Portrait")

        read = h.source.get_item(h.user_id, session.id)
        listed = h.source.list_items(h.user_id, WINDOW)
        assert isinstance(read, ScheduleItem)
        remote_ids = [session.remote_id, read.remote_id]
        remote_ids += [
            i.remote_id for i in listed if isinstance(i, ScheduleItem) and i.id == session.id
        ]
        assert remote_ids == ["origin1", "origin1", "origin1"]

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

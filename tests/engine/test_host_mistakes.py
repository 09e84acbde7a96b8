"""What a host adapter gets wrong is reported by item, never sent, and never stops the rest:
two items under one id, items of the wrong type, a listing that is not one, a write that
returns nothing (mistakes a host developer makes in a hurry)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from studio_world import CAL, USER, World, appointment, session, timed

from calsync import EventFields, ScheduleItem, Timed, TimeRange
from calsync.engine.calendar import check_item
from calsync.ids import event_id_for
from calsync.sources import Unreadable
from calsync.testing import MemoryScheduleSource

NS = "studio.u7"


class ListsAlso(MemoryScheduleSource):
    """A schedule whose listing also holds ``extra`` (whatever the host got wrong)."""

    extra: Sequence[Any] = ()

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        return [*super().list_items(user_id, window), *self.extra]


@pytest.fixture
def listing(world: World) -> ListsAlso:
    schedule = ListsAlso(now=world.clock)
    world.schedule = schedule
    return schedule


def test_two_items_listed_under_one_id_are_both_reported_and_neither_is_sent(
    world: World, listing: ListsAlso
) -> None:
    listing.add(USER, session("s1"))
    listing.add(USER, appointment("a1", title="Dentist"))
    listing.extra = [appointment("a1", title="Another appointment under the same id", day=6)]

    report = world.sync()

    assert report.fatal is None
    assert set(world.events()) == {event_id_for(NS, "s1")}
    skipped = "item a1 was skipped: it was not sent: the host listed more than one item under"
    assert any(w.startswith(skipped) for w in report.warnings)


@pytest.mark.parametrize("times", [2, 3])
def test_an_item_listed_twice_once_it_synced_keeps_its_event_untouched(
    world: World, listing: ListsAlso, times: int
) -> None:
    listing.add(USER, appointment("a1", title="Dentist"))
    world.sync()
    event = world.events()[event_id_for(NS, "a1")]
    twin = appointment("a1", title="A twin")
    listing.extra = [twin] * (times - 1)

    report = world.sync()

    assert report.writes == 0
    assert world.events()[event_id_for(NS, "a1")] == event
    assert any("item a1 was skipped" in w for w in report.warnings)


@pytest.mark.parametrize(
    "twin",
    [
        lambda same: attrs.evolve(same, title="A twin", revision="another"),
        lambda same: Unreadable(same.id, "a row the host cannot read"),
    ],
    ids=["another revision", "unreadable"],
)
def test_an_item_listed_beside_a_twin_at_its_recorded_revision_is_caught_too(
    world: World, listing: ListsAlso, twin: Any
) -> None:
    listing.add(USER, appointment("a1", title="Dentist"))
    world.sync()
    [same] = listing.items(USER).values()
    listing.extra = [twin(same)]

    report = world.sync()

    assert report.writes == 0
    assert any("item a1 was skipped" in w for w in report.warnings)


def test_twins_both_at_the_recorded_revision_send_nothing(world: World, listing: ListsAlso) -> None:
    listing.add(USER, appointment("a1", title="Dentist"))
    world.sync()
    event = world.events()[event_id_for(NS, "a1")]
    [same] = listing.items(USER).values()
    listing.extra = [attrs.evolve(same, title="A twin")]  # (the revision recorded)

    assert world.sync().writes == 0
    assert world.events()[event_id_for(NS, "a1")] == event


@pytest.mark.parametrize(
    ("wrong", "shown", "why"),
    [
        # (the host's mistakes, which its type checker would have caught)
        (lambda: attrs.evolve(session("s9"), id=9), "9", "its id is int, not text"),  # type: ignore[arg-type]
        (lambda: attrs.evolve(session("s9"), kind="session"), "s9", "could not be read"),  # type: ignore[arg-type]
        (lambda: {"id": "s9", "title": "a dict"}, "s9", "dict, not an item"),
        (lambda: None, "None", "NoneType, not an item"),
    ],
    ids=["int id", "kind as text", "a dict", "None"],
)
def test_an_item_of_the_wrong_type_is_reported_and_the_rest_still_syncs(
    world: World, listing: ListsAlso, wrong: Any, shown: str, why: str
) -> None:
    listing.add(USER, session("s1"))
    listing.extra = [wrong()]

    report = world.sync()

    assert report.fatal is None
    assert set(world.events()) == {event_id_for(NS, "s1")}
    [warning] = [w for w in report.warnings if "skipped" in w]
    assert warning.startswith(f"item {shown} ")
    assert why in warning


def test_a_listing_that_returns_nothing_says_which_method_returned_what(world: World) -> None:
    class ReturnsNone(MemoryScheduleSource):
        def list_items(self, user_id: str, window: TimeRange) -> Any:
            return None

    world.schedule = ReturnsNone(now=world.clock)

    report = world.sync()

    assert "list_items returned None" in (report.fatal or "")


def test_a_host_write_that_returns_nothing_says_which_method_should_return_what(
    world: World,
) -> None:
    class UpdateReturnsNone(MemoryScheduleSource):
        def update_item(self, user_id: str, item_id: str, update: Any) -> Any:
            super().update_item(user_id, item_id, update)
            return None

    schedule = UpdateReturnsNone(now=world.clock)
    world.schedule = schedule
    world.options(inbound_calendar=True)
    schedule.add(USER, appointment("a1", title="Dentist"))
    world.sync()
    world.calendar.external_update(CAL, event_id_for(NS, "a1"), when=timed(6, 9))

    report = world.sync()

    [error] = report.errors
    assert "update_item returned None, not the item as it now is" in error.message


@pytest.mark.parametrize(
    ("start", "end", "zone", "refused"),
    [
        (
            datetime(9999, 12, 31, 10, tzinfo=UTC),
            datetime(9999, 12, 31, 23, tzinfo=UTC),
            "Pacific/Chatham",
            True,
        ),
        (
            datetime(1, 1, 1, 2, tzinfo=UTC),
            datetime(1, 1, 1, 3, tzinfo=UTC),
            "America/New_York",
            True,
        ),
        (
            datetime(9999, 12, 31, 10, tzinfo=UTC),
            datetime(9999, 12, 31, 23, tzinfo=UTC),
            "America/New_York",
            False,
        ),
        (datetime(1, 1, 1, 2, tzinfo=UTC), datetime(1, 1, 1, 3, tzinfo=UTC), "Asia/Tokyo", False),
        (
            datetime(2031, 3, 4, 9, tzinfo=UTC),
            datetime(2031, 3, 4, 10, tzinfo=UTC),
            "Pacific/Chatham",
            False,
        ),
    ],
    ids=["9999 ahead of UTC", "year 1 behind UTC", "9999 behind UTC", "year 1 ahead", "2031"],
)
def test_an_item_with_no_wall_time_in_its_zone_is_refused(
    start: datetime, end: datetime, zone: str, refused: bool
) -> None:
    problem = check_item(EventFields("Session", when=Timed(start, end, zone)))

    assert (problem is not None) == refused
    if refused:
        assert problem == (
            f"its times cannot be written in its time zone {zone}: there they fall before "
            "year 1 or after year 9999"
        )

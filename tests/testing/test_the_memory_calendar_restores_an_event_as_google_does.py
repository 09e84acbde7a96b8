"""The memory calendar restores an event Google made as Google's backend does, so that the
engine's tests see Google's behaviour: an occurrence of a series comes back in its series under
its id (never parsed: any id), an occurrence of calsync's own event made recurring and an event
whose id cannot be given on create come back under calsync's id for the item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync.errors import AlreadyExists
from calsync.ids import event_id_for
from calsync.model import EventFields, Marker, Timed
from calsync.testing import MemoryCalendarBackend

CAL = "primary"
T0 = datetime(2030, 5, 1, 9, tzinfo=UTC)
S9 = Marker("studio.u7", "s9")
OWN = event_id_for("studio.u7", "s9")


def fields(title: str = "Yoga") -> EventFields:
    return EventFields(title=title, when=Timed(T0, T0 + timedelta(hours=1), "Europe/London"))


@pytest.fixture
def calendar() -> MemoryCalendarBackend:
    return MemoryCalendarBackend(calendars=[CAL])


@pytest.mark.parametrize("occurrence_id", ["4fh2kd8s1q9m0", "lesson0001_20300501T090000Z"])
def test_a_deleted_occurrence_comes_back_in_its_series_under_its_id(
    calendar: MemoryCalendarBackend, occurrence_id: str
) -> None:
    calendar.external_create(CAL, fields(), event_id=occurrence_id, series_id="lesson0001")
    calendar.external_delete(CAL, occurrence_id)

    restored = calendar.create_event(CAL, occurrence_id, fields("Portrait"), S9)

    assert (restored.id, restored.series_id, restored.marker) == (occurrence_id, "lesson0001", S9)
    assert set(calendar.events(CAL)) == {occurrence_id}


def test_an_occurrence_of_calsyncs_own_event_made_recurring_comes_back_beside_it(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.external_create(CAL, fields(), event_id="4fh2kd8s1q9m0", series_id=OWN, marker=S9)
    calendar.external_delete(CAL, "4fh2kd8s1q9m0")

    restored = calendar.create_event(CAL, "4fh2kd8s1q9m0", fields("Portrait"), S9)

    assert (restored.id, restored.series_id) == (OWN, None)
    assert set(calendar.events(CAL)) == {OWN}


def test_a_deleted_event_whose_id_cannot_be_given_on_create_comes_back_under_calsyncs_id(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.external_create(CAL, fields(), event_id="Imported_Event-1")
    calendar.external_delete(CAL, "Imported_Event-1")

    restored = calendar.create_event(CAL, "Imported_Event-1", fields("Portrait"), S9)

    assert (restored.id, restored.fields) == (OWN, fields("Portrait"))


def test_a_live_occurrence_is_taken_over_unless_another_item_holds_it(
    calendar: MemoryCalendarBackend,
) -> None:
    calendar.external_create(CAL, fields(), event_id="4fh2kd8s1q9m0", series_id="lesson0001")
    calendar.external_create(
        CAL, fields(), event_id="8ak3m2", series_id="lesson0001", marker=Marker("studio.u7", "s1")
    )

    taken = calendar.create_event(CAL, "4fh2kd8s1q9m0", fields("Portrait"), S9)

    assert (taken.id, taken.series_id, taken.marker) == ("4fh2kd8s1q9m0", "lesson0001", S9)
    with pytest.raises(AlreadyExists):
        calendar.create_event(CAL, "8ak3m2", fields("Portrait"), S9)

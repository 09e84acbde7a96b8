"""The Google backends pass calsync's backend contract suites, against the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.contacts import GoogleContactsBackend
from calsync.testing.contracts.backends import (
    CalendarBackendContract,
    CalendarHarness,
    ContactsBackendContract,
    ContactsHarness,
)

if TYPE_CHECKING:
    from tests.google.conftest import CalendarUser, ContactsUser

pytestmark = pytest.mark.emulator


class TestGoogleCalendarBackend(CalendarBackendContract):
    @pytest.fixture
    def calendar_harness(
        self, calendar_backend: GoogleCalendarBackend, calendar_user: CalendarUser
    ) -> CalendarHarness:
        calendar = calendar_backend.create_calendar("calsync contract", "Europe/London")
        return CalendarHarness(calendar_backend, calendar_user, calendar.id)


class TestGoogleContactsBackend(ContactsBackendContract):
    @pytest.fixture
    def contacts_harness(
        self, contacts_backend: GoogleContactsBackend, contacts_user: ContactsUser
    ) -> ContactsHarness:
        return ContactsHarness(contacts_backend, contacts_user)


def test_the_user_chooses_among_writable_calendars_or_creates_a_dedicated_one(
    calendar_backend: GoogleCalendarBackend, token: str
) -> None:
    created = calendar_backend.create_calendar("Studio bookings", "Europe/Kiev")

    calendars = calendar_backend.list_writable_calendars()

    assert created.time_zone == "Europe/Kyiv"
    assert [(c.summary, c.primary) for c in calendars] == [
        (f"{token}@example.com", True),
        ("Studio bookings", False),
    ]
    assert calendars[1].id == created.id

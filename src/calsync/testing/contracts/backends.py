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

The suites live in :mod:`~calsync.testing.contracts.calendar_backend` and
:mod:`~calsync.testing.contracts.contacts_backend`, what a backend provides in
:mod:`~calsync.testing.contracts.backend_harness`; this module gathers them.
"""

from __future__ import annotations

from calsync.testing.contracts.backend_harness import (
    CalendarDriver,
    CalendarHarness,
    ContactsDriver,
    ContactsHarness,
)
from calsync.testing.contracts.calendar_backend import CalendarBackendContract
from calsync.testing.contracts.contacts_backend import ContactsBackendContract

__all__ = [
    "CalendarBackendContract",
    "CalendarDriver",
    "CalendarHarness",
    "ContactsBackendContract",
    "ContactsDriver",
    "ContactsHarness",
]

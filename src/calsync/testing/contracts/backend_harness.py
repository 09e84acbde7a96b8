"""What a backend gives the remote contract suites: the backend in a *harness*, with a driver
that plays the Google user (see :mod:`calsync.testing.contracts.backends`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from attrs import frozen

from calsync.backends import CalendarBackend, ContactsBackend, RemoteContact, RemoteEvent
from calsync.model import ContactFields, EventFields, Marker, TimeRange

__all__ = [
    "MARKER",
    "WINDOW",
    "CalendarDriver",
    "CalendarHarness",
    "ContactsDriver",
    "ContactsHarness",
    "ids_of",
]

WINDOW = TimeRange(datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))
MARKER = Marker("contract.profile", "host-1")


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

    def external_delete_group(self, group: str) -> None:
        """Delete a contact group (a group id), keeping its contacts."""
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


def ids_of(events: Iterable[RemoteEvent | RemoteContact]) -> set[str]:
    return {event.id for event in events}

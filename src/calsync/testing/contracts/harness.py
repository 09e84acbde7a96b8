"""What a host gives the source contract suites: its adapter in a *harness*, with a driver that
does what staff do in the host, and (to prove unreadable rows are handled) one that stores a
row with a :class:`Defect`. See :mod:`calsync.testing.contracts.sources`."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from attrs import frozen

from calsync.model import ClientInfo, Contact, ScheduleItem
from calsync.sources import ContactSource, ScheduleSource

__all__ = [
    "ContactHarness",
    "ContactHostDriver",
    "CorruptClientDriver",
    "CorruptRowDriver",
    "Defect",
    "ScheduleHarness",
    "ScheduleHostDriver",
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

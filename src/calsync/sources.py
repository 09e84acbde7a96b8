"""The host adapter contracts: what a host application implements so calsync can sync it.

A host implements :class:`ScheduleSource` (its users' sessions and appointments) and, when it
offers contact sync, :class:`ContactSource` (the clients of a sync group). One adapter instance
serves every user; each method names the user it is about.

Only the abstract methods must be written. Change feeds are optional: a host that can say
"what changed since cursor X" overrides :meth:`~ScheduleSource.change_cursor` and
:meth:`~ScheduleSource.changes_since` and makes quiet runs cost nothing; one that cannot is
diffed by content (against each pair's stored base) instead, which is always correct.

Errors: any exception an adapter raises is reported against the item (writes) or the run (reads)
and never loses data. Raise :class:`~calsync.errors.InvalidHostItem` to refuse an item with a
message the user will read.

Unreadable rows: a host row that cannot become an item (an unknown time zone, an end before
its start, an empty all-day span, a timed item without a zone, an unparsable date) is returned
as :class:`Unreadable` in its place — by listings, reads and change feeds alike — never dropped
without a word and never raised for the whole listing. calsync reports it by id, sends nothing
for it, and never takes it for a deletion: its Google event stays as it is until the row is
readable again.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from attrs import field, frozen

from calsync.model import Contact, ContactFields, EventFields, ScheduleItem, TimeRange

__all__ = [
    "ContactSource",
    "ContactUpdate",
    "HostChanges",
    "HostRewound",
    "ItemUpdate",
    "ScheduleSource",
    "Unreadable",
]

T_co = TypeVar("T_co", covariant=True)


def _items(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@frozen(weakref_slot=False)
class Unreadable:
    """A host row the adapter could not read as an item: its id and why, in words for the user
    (``"its end is before its start"``)."""

    id: str
    reason: str


class HostRewound(LookupError):
    """Raised by ``changes_since`` when the cursor names a point the host's data no longer
    has: the host went back in time (its database was restored from a backup, or copied
    back from another machine). Changes made after the backup are gone from the host, but
    not from Google nor from calsync's record of them.

    calsync then lists the host in full, as for any unknown cursor, and treats what the
    host lost as the host going back, not as the studio's edits: it deletes nothing in
    Google for an item the host no longer has (those deletions are held until the user
    confirms them), and an item whose host copy is older than its last sync keeps the
    newer version Google has (brought back to the host where its fields sync both ways).
    A host that can be restored should make its cursors tell (a position the host has not
    reached, or one it holds for another change)."""


@frozen(weakref_slot=False)
class HostChanges(Generic[T_co]):
    """What changed in the host since a cursor.

    Attributes:
        changed: items created or modified since the cursor (their current state), and
            :class:`Unreadable` records for changed rows that cannot be read.
        deleted: ids of items deleted since the cursor.
        cursor: the cursor to ask from next time.
    """

    changed: tuple[T_co, ...] = field(converter=_items)
    deleted: tuple[str, ...] = field(converter=_ids)
    cursor: str = ""


@frozen(weakref_slot=False)
class ItemUpdate:
    """Changes to apply to a host item: the fields named in ``changed`` take their value from
    ``fields``; every other field stays as it is."""

    fields: EventFields
    changed: frozenset[str]


@frozen(weakref_slot=False)
class ContactUpdate:
    """Changes to apply to a host client: as :class:`ItemUpdate`, for contact fields."""

    fields: ContactFields
    changed: frozenset[str]


class ScheduleSource(abc.ABC):
    """A host's schedules, one per user."""

    @abc.abstractmethod
    def list_items(self, user_id: str, window: TimeRange) -> Iterable[ScheduleItem | Unreadable]:
        """Every item of ``user_id`` (all three kinds) whose span touches ``window``, with an
        :class:`Unreadable` in place of each row in the window that cannot be read.

        The listing must be complete: calsync only treats an item as deleted after
        :meth:`get_item` confirms it, but an incomplete listing costs extra reads.

        Raises:
            Exception: any failure; the run is reported as failed and nothing is changed.
        """

    @abc.abstractmethod
    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        """The item with ``item_id``, wherever it lies in time, or ``None`` if it was deleted
        (:class:`Unreadable` when the row exists but cannot be read).

        For an item that was converted (it has a successor whose ``replaces`` names it), return
        the successor or ``None``; calsync follows the successor either way. A successor of an
        unlinked appointment carries the appointment's ``remote_id``.
        """

    @abc.abstractmethod
    def create_unlinked(self, user_id: str, fields: EventFields, origin: str) -> ScheduleItem:
        """Create an unlinked appointment for ``user_id`` from a remote event.

        ``origin`` is the remote event's id. The call must be idempotent per ``origin``: when an
        unlinked appointment with this origin already exists (calsync crashed after creating it),
        return that one. The returned item carries ``remote_id == origin``.

        Raises:
            InvalidHostItem: the host cannot hold this event (it is reported and skipped).
        """

    @abc.abstractmethod
    def update_item(self, user_id: str, item_id: str, update: ItemUpdate) -> ScheduleItem:
        """Apply ``update`` (a Google edit) to the item and return the item as it is now.

        Raises:
            InvalidHostItem: the change is refused (reported; the Google side is not touched).
            KeyError: the item no longer exists.
        """

    @abc.abstractmethod
    def delete_item(self, user_id: str, item_id: str) -> None:
        """Delete the item (an unlinked appointment deleted in Google). Deleting an item that
        is already gone is not an error."""

    def get_items(
        self, user_id: str, item_ids: Sequence[str]
    ) -> Mapping[str, ScheduleItem | Unreadable]:
        """The items among ``item_ids`` that still exist, by id. Built on :meth:`get_item`;
        override it when the host can fetch many at once."""
        found: dict[str, ScheduleItem | Unreadable] = {}
        for item_id in item_ids:
            item = self.get_item(user_id, item_id)
            if item is not None:
                found[item_id] = item
        return found

    def change_cursor(self, user_id: str) -> str | None:
        """The host's current change-feed position, or ``None`` when there is no feed (the
        default). calsync asks for it *before* a full listing so nothing slips between."""
        return None

    def changes_since(self, user_id: str, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        """What changed since ``cursor`` (only called when :meth:`change_cursor` gave one).

        Raises:
            HostRewound: the host went back in time past ``cursor`` (restored from a backup).
            LookupError: the cursor is unknown or too old; calsync falls back to a full listing.
        """
        raise NotImplementedError(f"{type(self).__name__} offers a cursor but no changes_since")


class ContactSource(abc.ABC):
    """A host's client sync groups."""

    @abc.abstractmethod
    def list_group(self, user_id: str, group: str) -> Iterable[Contact | Unreadable]:
        """Every client in the sync group named ``group`` (possibly none), with an
        :class:`Unreadable` in place of a client row that cannot be read. Must be complete: a
        client missing here is treated as removed from the group."""

    @abc.abstractmethod
    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        """The client with ``contact_id``, or ``None`` when it no longer exists
        (:class:`Unreadable` when its row cannot be read)."""

    @abc.abstractmethod
    def create_contact(
        self, user_id: str, group: str, fields: ContactFields, origin: str
    ) -> Contact:
        """Create a client in ``group`` from a contact added to the Google group.

        Idempotent per ``origin`` (the remote contact id): return the existing client when one
        was already made from it. The returned contact carries ``remote_id == origin``.
        """

    @abc.abstractmethod
    def update_contact(self, user_id: str, contact_id: str, update: ContactUpdate) -> Contact:
        """Apply a Google edit to a client and return the client as it is now.

        Raises:
            InvalidHostItem: the change is refused (reported; Google is not touched).
            KeyError: the client no longer exists.
        """

    @abc.abstractmethod
    def remove_from_group(self, user_id: str, group: str, contact_id: str) -> None:
        """Take a client out of the sync group. Never deletes the client itself."""

    def change_cursor(self, user_id: str, group: str) -> str | None:
        """The change-feed position of ``group``, or ``None`` when there is no feed."""
        return None

    def changes_since(
        self, user_id: str, group: str, cursor: str
    ) -> HostChanges[Contact | Unreadable]:
        """Clients of ``group`` changed since ``cursor``; ``deleted`` lists clients that left
        the group or were deleted.

        Raises:
            HostRewound: the host went back in time past ``cursor`` (restored from a backup).
            LookupError: the cursor is unknown or too old.
        """
        raise NotImplementedError(f"{type(self).__name__} offers a cursor but no changes_since")

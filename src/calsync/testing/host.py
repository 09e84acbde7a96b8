"""The host side in memory: schedules and client groups that behave as a studio host's do.

:class:`MemoryScheduleSource` and :class:`MemoryContactSource` implement the host adapter
contracts. Every change, whether calsync makes it through the contract or the "host user" makes
it through a hook (``add``, ``edit``, ``remove``, ``convert``, …), gives the item a new
``revision`` and an ``updated`` time from the injectable clock. A change feed is optional
(``change_feed=True``). ``fail_next``, ``crash_after_next`` and ``calls`` are as on the
in-memory backends (:class:`~calsync.testing._faults.FaultHooks`). Both can also hold corrupt
rows (``add_corrupt``): they are answered as :class:`~calsync.sources.Unreadable`, as the host
contract asks (a schedule's until ``repair`` makes them items again).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from calsync.errors import InvalidHostItem
from calsync.model import (
    CONTACT_FIELDS,
    EVENT_FIELDS,
    ClientInfo,
    Contact,
    ContactFields,
    EventFields,
    ItemKind,
    ScheduleItem,
    TimeRange,
    When,
)
from calsync.sources import (
    ContactSource,
    ContactUpdate,
    HostChanges,
    ItemUpdate,
    ScheduleSource,
    Unreadable,
)
from calsync.testing._faults import ChangeLog, Clock, FaultHooks, utc_now

if TYPE_CHECKING:
    from calsync.testing.contracts.sources import Defect

__all__ = ["MemoryContactSource", "MemoryScheduleSource"]

logger = logging.getLogger(__name__)

K = TypeVar("K", str, tuple[str, str])
V = TypeVar("V", ScheduleItem, Contact)


def _check_names(changed: Iterable[str], allowed: Sequence[str]) -> None:
    unknown = set(changed) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; expected some of {list(allowed)}")


class _TakenIds:
    """The ids of a user's items, of the items they replaced and of corrupt rows, checked in
    O(1) without copying any (``add`` used to rebuild a set of every id per call)."""

    def __init__(self, *ids: Mapping[str, object]) -> None:
        self._ids = ids

    def __contains__(self, item_id: object) -> bool:
        return any(item_id in ids for ids in self._ids)


class _MemoryHost(FaultHooks, Generic[K]):
    """What both host fakes share: the clock, revisions, new ids and the optional feed."""

    def __init__(self, *, now: Clock | None, change_feed: bool) -> None:
        super().__init__()
        self._now = now or utc_now
        self.change_feed = change_feed
        self._log: ChangeLog[K] = ChangeLog()
        self._revisions = itertools.count(1)
        self._numbers = itertools.count(1)

    def expire_cursors(self) -> None:
        """Make every change-feed cursor handed out so far unknown (``LookupError``)."""
        with self._lock:
            self._log.expire()

    def _stamp(self, value: V) -> V:
        return attrs.evolve(value, revision=str(next(self._revisions)), updated=self._now())

    def _new_id(self, prefix: str, taken: Container[str]) -> str:
        while True:
            candidate = f"{prefix}{next(self._numbers)}"
            if candidate not in taken:
                return candidate


@attrs.frozen
class _CorruptRow:
    """A row that cannot be read: what the source answers for it, and where it lies in time
    (a real host would find it by its stored, unreadable, columns)."""

    unreadable: Unreadable
    when: When


class MemoryScheduleSource(_MemoryHost[str], ScheduleSource):
    """Users' schedules in memory. Thread-safe.

    Unlinked appointments calsync creates get ids ``u1``, ``u2``, …; sessions made by
    :meth:`convert` get ``s<n>`` unless given one. With ``change_feed`` the source keeps a
    per-user change log: a converted item is reported as deleted, its successor as changed.
    """

    contract_methods = frozenset(
        {
            "list_items",
            "get_item",
            "get_items",
            "create_unlinked",
            "update_item",
            "delete_item",
            "change_cursor",
            "changes_since",
        }
    )

    def __init__(self, *, now: Clock | None = None, change_feed: bool = False) -> None:
        super().__init__(now=now, change_feed=change_feed)
        self._items: dict[str, dict[str, ScheduleItem]] = {}
        self._corrupt: dict[str, dict[str, _CorruptRow]] = {}
        self._successors: dict[str, dict[str, str]] = {}  # converted id -> its successor

    # -- the contract --------------------------------------------------------------------

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        with self._contract_call("list_items"):
            items = [item for item in self._user(user_id).values() if window.overlaps(item.when)]
            rows = self._corrupt.get(user_id, {}).values()
            return [*items, *(row.unreadable for row in rows if window.overlaps(row.when))]

    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        with self._contract_call("get_item"):
            items, corrupt = self._user(user_id), self._corrupt.get(user_id, {})
            successors = self._successors.get(user_id, {})
            seen: set[str] = set()
            while item_id not in items and item_id not in corrupt:
                if item_id in seen or item_id not in successors:
                    return None
                seen.add(item_id)
                item_id = successors[item_id]
            return items[item_id] if item_id in items else corrupt[item_id].unreadable

    def get_items(
        self, user_id: str, item_ids: Sequence[str]
    ) -> Mapping[str, ScheduleItem | Unreadable]:
        """As the default (built on :meth:`get_item`, which counts too), counted on its own."""
        with self._contract_call("get_items"):
            return super().get_items(user_id, item_ids)

    def create_unlinked(self, user_id: str, fields: EventFields, origin: str) -> ScheduleItem:
        with self._contract_call("create_unlinked"):
            items = self._user(user_id)
            for item in items.values():
                if item.kind is ItemKind.UNLINKED and item.remote_id == origin:
                    return item
            if fields.when is None:
                raise InvalidHostItem(f"event {origin} has no date or time")
            item = ScheduleItem(
                id=self._new_id("u", self._taken(user_id)),
                kind=ItemKind.UNLINKED,
                when=fields.when,
                title=fields.title,
                description=fields.description,
                location=fields.location,
                remote_id=origin,
            )
            return self._store(user_id, item)

    def update_item(self, user_id: str, item_id: str, update: ItemUpdate) -> ScheduleItem:
        with self._contract_call("update_item"):
            current = self._user(user_id).get(item_id)
            if current is None:
                raise KeyError(item_id)
            _check_names(update.changed, EVENT_FIELDS)
            changes = {name: getattr(update.fields, name) for name in update.changed}
            if "when" in changes and changes["when"] is None:
                raise InvalidHostItem(f"item {item_id} cannot lose its date and time")
            return self._store(user_id, attrs.evolve(current, **changes))

    def delete_item(self, user_id: str, item_id: str) -> None:
        with self._contract_call("delete_item"):
            if item_id in self._user(user_id) or item_id in self._corrupt.get(user_id, {}):
                self._drop(user_id, item_id)

    def change_cursor(self, user_id: str) -> str | None:
        with self._contract_call("change_cursor"):
            return self._log.cursor(user_id) if self.change_feed else None

    def changes_since(self, user_id: str, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        with self._contract_call("changes_since"):
            if not self.change_feed:
                return super().changes_since(user_id, cursor)
            ids, next_cursor = self._log.since(user_id, cursor)
            items, corrupt = self._user(user_id), self._corrupt.get(user_id, {})
            deleted = [i for i in ids if i not in items and i not in corrupt]
            changed = [items.get(i) or corrupt[i].unreadable for i in ids if i not in deleted]
            return HostChanges[ScheduleItem | Unreadable](changed, deleted, next_cursor)

    # -- what the host's staff do --------------------------------------------------------

    def add(self, user_id: str, item: ScheduleItem) -> ScheduleItem:
        """Add ``item`` to the user's schedule; returns it with its revision stamped.

        Raises:
            ValueError: the id is taken.
        """
        with self._lock:
            if item.id in self._taken(user_id):
                raise ValueError(f"item id {item.id!r} is taken")
            return self._store(user_id, item)

    def edit(self, user_id: str, item_id: str, **changes: Any) -> ScheduleItem:
        """Change attributes of an item (any :class:`ScheduleItem` attribute); with no
        changes, only its revision moves (e.g. the linked client's phone changed)."""
        with self._lock:
            return self._store(user_id, attrs.evolve(self._existing(user_id, item_id), **changes))

    def remove(self, user_id: str, item_id: str) -> None:
        """Delete an item (or a corrupt row). Raises ``KeyError`` when there is no such item."""
        with self._lock:
            if item_id not in self._corrupt.get(user_id, {}):
                self._existing(user_id, item_id)
            self._drop(user_id, item_id)

    def convert(
        self,
        user_id: str,
        unlinked_id: str,
        *,
        client: ClientInfo,
        session_type: str,
        new_id: str | None = None,
    ) -> ScheduleItem:
        """Turn an unlinked appointment into a session linked to ``client``.

        The session is a new item (``new_id`` or ``s<n>``) with ``replaces=unlinked_id`` and
        the appointment's time and text; the appointment is removed, and :meth:`get_item` of
        its id answers the session from now on.

        Raises:
            KeyError: there is no such item.
            ValueError: the item is not an unlinked appointment, or ``new_id`` is taken.
        """
        with self._lock:
            old = self._existing(user_id, unlinked_id)
            if old.kind is not ItemKind.UNLINKED:
                raise ValueError(f"item {unlinked_id!r} is a {old.kind.value}, not unlinked")
            new_id = new_id or self._new_id("s", self._taken(user_id))
            if new_id in self._taken(user_id):
                raise ValueError(f"item id {new_id!r} is taken")
            session = ScheduleItem(
                id=new_id,
                kind=ItemKind.SESSION,
                when=old.when,
                title=old.title,
                description=old.description,
                location=old.location,
                client=client,
                session_type=session_type,
                replaces=unlinked_id,
            )
            self._drop(user_id, unlinked_id)
            self._successors.setdefault(user_id, {})[unlinked_id] = new_id
            return self._store(user_id, session)

    def add_corrupt(self, user_id: str, item: ScheduleItem, defect: Defect | str) -> str:
        """Store a row that cannot be read, where ``item`` is (or would be), as a bug or a hand
        edit of a host's database leaves one; the source answers it as
        :class:`~calsync.sources.Unreadable` with the defect as its reason. An item already on
        the schedule under ``item.id`` becomes that corrupt row. Returns ``item.id``."""
        reason = defect if isinstance(defect, str) else f"its row has {defect.value}"
        with self._lock:
            self._user(user_id).pop(item.id, None)
            row = _CorruptRow(Unreadable(item.id, reason), item.when)
            self._corrupt.setdefault(user_id, {})[item.id] = row
            self._log.record(user_id, item.id)
            logger.debug("host item %s of %s is corrupt: %s", item.id, user_id, reason)
            return item.id

    def repair(self, user_id: str, item: ScheduleItem) -> ScheduleItem:
        """Staff fix a corrupt row: it is ``item`` again. Raises ``KeyError`` when there is no
        corrupt row with its id."""
        with self._lock:
            del self._corrupt.get(user_id, {})[item.id]
            return self._store(user_id, item)

    def items(self, user_id: str) -> dict[str, ScheduleItem]:
        """The user's items by id (a copy)."""
        with self._lock:
            return dict(self._user(user_id))

    # -- internals -----------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, ScheduleItem]:
        return self._items.setdefault(user_id, {})

    def _taken(self, user_id: str) -> _TakenIds:
        return _TakenIds(
            self._user(user_id),
            self._successors.get(user_id, {}),
            self._corrupt.get(user_id, {}),
        )

    def _existing(self, user_id: str, item_id: str) -> ScheduleItem:
        item = self._user(user_id).get(item_id)
        if item is None:
            raise KeyError(item_id)
        return item

    def _store(self, user_id: str, item: ScheduleItem) -> ScheduleItem:
        stamped = self._stamp(item)
        self._user(user_id)[item.id] = stamped
        self._log.record(user_id, item.id)
        logger.debug("host item %s of %s is at revision %s", item.id, user_id, stamped.revision)
        return stamped

    def _drop(self, user_id: str, item_id: str) -> None:
        if self._corrupt.get(user_id, {}).pop(item_id, None) is None:
            del self._user(user_id)[item_id]
        self._log.record(user_id, item_id)
        logger.debug("host item %s of %s deleted", item_id, user_id)


class MemoryContactSource(_MemoryHost[tuple[str, str]], ContactSource):
    """Users' clients and client groups in memory. Thread-safe.

    Clients calsync creates get ids ``c1``, ``c2``, …. With ``change_feed`` each (user, group)
    has a change log; a client that left the group or was deleted is reported as deleted.
    """

    contract_methods = frozenset(
        {
            "list_group",
            "get_contact",
            "create_contact",
            "update_contact",
            "remove_from_group",
            "change_cursor",
            "changes_since",
        }
    )

    def __init__(self, *, now: Clock | None = None, change_feed: bool = False) -> None:
        super().__init__(now=now, change_feed=change_feed)
        self._clients: dict[str, dict[str, Contact]] = {}
        self._corrupt: dict[str, dict[str, Unreadable]] = {}
        self._members: dict[tuple[str, str], dict[str, None]] = {}  # ordered sets

    # -- the contract --------------------------------------------------------------------

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        with self._contract_call("list_group"):
            return [self._read(user_id, i) for i in self._group(user_id, group)]

    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        with self._contract_call("get_contact"):
            if contact_id in self._corrupt.get(user_id, {}):
                return self._read(user_id, contact_id)
            return self._user(user_id).get(contact_id)

    def create_contact(
        self, user_id: str, group: str, fields: ContactFields, origin: str
    ) -> Contact:
        with self._contract_call("create_contact"):
            clients = self._user(user_id)
            for contact in clients.values():
                if contact.remote_id == origin:
                    return contact
            contact_id = self._new_id("c", [*clients, *self._corrupt.get(user_id, {})])
            stored = self._store(user_id, Contact(contact_id, fields, remote_id=origin))
            self._join(user_id, group, contact_id)
            return stored

    def update_contact(self, user_id: str, contact_id: str, update: ContactUpdate) -> Contact:
        """As the contract; raises ``KeyError`` when the client no longer exists."""
        with self._contract_call("update_contact"):
            current = self._existing(user_id, contact_id)
            _check_names(update.changed, CONTACT_FIELDS)
            changes = {name: getattr(update.fields, name) for name in update.changed}
            fields = attrs.evolve(current.fields, **changes)
            return self._store(user_id, attrs.evolve(current, fields=fields))

    def remove_from_group(self, user_id: str, group: str, contact_id: str) -> None:
        with self._contract_call("remove_from_group"):
            self._leave(user_id, group, contact_id)

    def change_cursor(self, user_id: str, group: str) -> str | None:
        with self._contract_call("change_cursor"):
            return self._log.cursor((user_id, group)) if self.change_feed else None

    def changes_since(
        self, user_id: str, group: str, cursor: str
    ) -> HostChanges[Contact | Unreadable]:
        with self._contract_call("changes_since"):
            if not self.change_feed:
                return super().changes_since(user_id, group, cursor)
            ids, next_cursor = self._log.since((user_id, group), cursor)
            members = self._group(user_id, group)
            changed = [self._read(user_id, i) for i in ids if i in members]
            deleted = [i for i in ids if i not in members]
            return HostChanges[Contact | Unreadable](changed, deleted, next_cursor)

    # -- what the host's staff do --------------------------------------------------------

    def add(self, user_id: str, contact: Contact, groups: Iterable[str] = ()) -> Contact:
        """Add a client (in ``groups``); returns it with its revision stamped.

        Raises:
            ValueError: the id is taken.
        """
        with self._lock:
            if contact.id in self._user(user_id):
                raise ValueError(f"client id {contact.id!r} is taken")
            stored = self._store(user_id, contact)
            for group in groups:
                self._join(user_id, group, contact.id)
            return stored

    def add_corrupt(
        self,
        user_id: str,
        contact: Contact,
        groups: Iterable[str] = (),
        reason: str = "its row is damaged",
    ) -> str:
        """Add a client (in ``groups``) whose row cannot be read; the source answers it as
        :class:`~calsync.sources.Unreadable` with ``reason``. Returns its id.

        Raises:
            ValueError: the id is taken.
        """
        with self._lock:
            if contact.id in self._user(user_id) or contact.id in self._corrupt.get(user_id, {}):
                raise ValueError(f"client id {contact.id!r} is taken")
            self._corrupt.setdefault(user_id, {})[contact.id] = Unreadable(contact.id, reason)
            for group in groups:
                self._join(user_id, group, contact.id)
            return contact.id

    def edit(self, user_id: str, contact_id: str, **field_changes: Any) -> Contact:
        """Change :class:`ContactFields` attributes of a client."""
        with self._lock:
            current = self._existing(user_id, contact_id)
            fields = attrs.evolve(current.fields, **field_changes)
            return self._store(user_id, attrs.evolve(current, fields=fields))

    def remove(self, user_id: str, contact_id: str) -> None:
        """Delete the client (it leaves every group). Raises ``KeyError`` when unknown."""
        with self._lock:
            self._existing(user_id, contact_id)
            for group in self._groups_of(user_id, contact_id):
                self._leave(user_id, group, contact_id)
            del self._user(user_id)[contact_id]

    def add_to_group(self, user_id: str, group: str, contact_id: str) -> None:
        """Put a client in a group. Raises ``KeyError`` when the client is unknown."""
        with self._lock:
            self._existing(user_id, contact_id)
            self._join(user_id, group, contact_id)

    def remove_from_group_by_user(self, user_id: str, group: str, contact_id: str) -> None:
        """Staff take a client out of a group (the client stays)."""
        with self._lock:
            self._leave(user_id, group, contact_id)

    def contacts(self, user_id: str) -> dict[str, Contact]:
        """The user's clients by id (a copy)."""
        with self._lock:
            return dict(self._user(user_id))

    def members(self, user_id: str, group: str) -> list[str]:
        """The ids of the clients in ``group``."""
        with self._lock:
            return list(self._group(user_id, group))

    # -- internals -----------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Contact]:
        return self._clients.setdefault(user_id, {})

    def _group(self, user_id: str, group: str) -> dict[str, None]:
        return self._members.setdefault((user_id, group), {})

    def _read(self, user_id: str, contact_id: str) -> Contact | Unreadable:
        corrupt = self._corrupt.get(user_id, {})
        return corrupt[contact_id] if contact_id in corrupt else self._user(user_id)[contact_id]

    def _existing(self, user_id: str, contact_id: str) -> Contact:
        contact = self._user(user_id).get(contact_id)
        if contact is None:
            raise KeyError(contact_id)
        return contact

    def _store(self, user_id: str, contact: Contact) -> Contact:
        stamped = self._stamp(contact)
        self._user(user_id)[contact.id] = stamped
        for group in self._groups_of(user_id, contact.id):
            self._log.record((user_id, group), contact.id)
        logger.debug("client %s of %s is at revision %s", contact.id, user_id, stamped.revision)
        return stamped

    def _groups_of(self, user_id: str, contact_id: str) -> list[str]:
        return [
            g for (u, g), members in self._members.items() if u == user_id and contact_id in members
        ]

    def _join(self, user_id: str, group: str, contact_id: str) -> None:
        members = self._group(user_id, group)
        if contact_id not in members:
            members[contact_id] = None
            self._log.record((user_id, group), contact_id)

    def _leave(self, user_id: str, group: str, contact_id: str) -> None:
        members = self._group(user_id, group)
        if contact_id in members:
            del members[contact_id]
            self._log.record((user_id, group), contact_id)

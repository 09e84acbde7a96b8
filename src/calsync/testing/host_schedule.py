"""A studio schedule in memory: :class:`MemoryScheduleSource` (see :mod:`calsync.testing.host`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from calsync.errors import InvalidHostItem
from calsync.model import (
    EVENT_FIELDS,
    ClientInfo,
    EventFields,
    ItemKind,
    ScheduleItem,
    TimeRange,
    When,
)
from calsync.sources import HostChanges, ItemUpdate, ScheduleSource, Unreadable
from calsync.testing._faults import Clock, LogPoint

if TYPE_CHECKING:
    from calsync.testing.contracts.sources import Defect

from calsync.testing.host_base import MemoryHost, check_names

__all__ = ["MemoryScheduleSource", "ScheduleBackup"]

logger = logging.getLogger(__name__)


class _TakenIds:
    """The ids of a user's items, of the items they replaced and of corrupt rows, checked in
    O(1) without copying any (``add`` used to rebuild a set of every id per call)."""

    def __init__(self, *ids: Mapping[str, object]) -> None:
        self._ids = ids

    def __contains__(self, item_id: object) -> bool:
        return any(item_id in ids for ids in self._ids)


@attrs.frozen(weakref_slot=False)
class _CorruptRow:
    """A row that cannot be read: what the source answers for it, and where it lies in time
    (a real host would find it by its stored, unreadable, columns)."""

    unreadable: Unreadable
    when: When


@attrs.frozen(weakref_slot=False)
class ScheduleBackup:
    """One user's schedule as :meth:`MemoryScheduleSource.backup` saved it."""

    user_id: str
    items: Mapping[str, ScheduleItem]
    corrupt: Mapping[str, _CorruptRow]
    successors: Mapping[str, str]
    changes: LogPoint  # where the user's change log stood


class MemoryScheduleSource(MemoryHost[str], ScheduleSource):
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
            check_names(update.changed, EVENT_FIELDS)
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

        The session is a new item (``new_id`` or ``s<n>``) with ``replaces=unlinked_id``, the
        appointment's time and text, and the Google event it came from (``remote_id``); the
        appointment is removed, and :meth:`get_item` of its id answers the session from now on.

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
                remote_id=old.remote_id,
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

    def backup(self, user_id: str) -> ScheduleBackup:
        """What the user's schedule holds now, to :meth:`restore` later."""
        with self._lock:
            return ScheduleBackup(
                user_id,
                dict(self._user(user_id)),
                dict(self._corrupt.get(user_id, {})),
                dict(self._successors.get(user_id, {})),
                self._log.point(user_id),
            )

    def restore(self, backup: ScheduleBackup) -> None:
        """The host's database restored from ``backup``: the user's schedule is what it was
        then (items made since are gone, items deleted since are back, edits since are
        undone), and the change cursors handed out since are
        :class:`~calsync.sources.HostRewound`, in whichever line of its history (a backup
        newer than a wrong one restored before it, too). Ids stay unused once used, as the
        contract asks."""
        user_id = backup.user_id
        with self._lock:
            self._items[user_id] = dict(backup.items)
            self._corrupt[user_id] = dict(backup.corrupt)
            self._successors[user_id] = dict(backup.successors)
            self._log.restore(user_id, backup.changes)
            logger.debug("host schedule of %s restored from a backup", user_id)

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
        self._retired.add(item_id)
        self._log.record(user_id, item_id)
        logger.debug("host item %s of %s deleted", item_id, user_id)

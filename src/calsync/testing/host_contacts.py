"""A studio's clients and client groups in memory: :class:`MemoryContactSource` (see
:mod:`calsync.testing.host`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from calsync.model import CONTACT_FIELDS, Contact, ContactFields
from calsync.sources import ContactSource, ContactUpdate, HostChanges, Unreadable
from calsync.testing._faults import Clock, LogPoint
from calsync.testing.host_base import MemoryHost, check_names

__all__ = ["ContactsBackup", "MemoryContactSource"]

logger = logging.getLogger(__name__)


@attrs.frozen(weakref_slot=False)
class ContactsBackup:
    """One user's clients and client groups as :meth:`MemoryContactSource.backup` saved them."""

    user_id: str
    clients: Mapping[str, Contact]
    corrupt: Mapping[str, Unreadable]
    members: Mapping[str, Mapping[str, None]]  # by group: its clients' ids, in order
    changes: Mapping[str, LogPoint]  # by group: where its change log stood


class MemoryContactSource(MemoryHost[tuple[str, str]], ContactSource):
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
            check_names(update.changed, CONTACT_FIELDS)
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
            self._retired.add(contact_id)

    def add_to_group(self, user_id: str, group: str, contact_id: str) -> None:
        """Put a client in a group. Raises ``KeyError`` when the client is unknown."""
        with self._lock:
            self._existing(user_id, contact_id)
            self._join(user_id, group, contact_id)

    def remove_from_group_by_user(self, user_id: str, group: str, contact_id: str) -> None:
        """Staff take a client out of a group (the client stays)."""
        with self._lock:
            self._leave(user_id, group, contact_id)

    def backup(self, user_id: str) -> ContactsBackup:
        """What the user's clients and client groups hold now, to :meth:`restore` later."""
        with self._lock:
            groups = self._groups(user_id)
            return ContactsBackup(
                user_id,
                dict(self._user(user_id)),
                dict(self._corrupt.get(user_id, {})),
                {group: dict(self._group(user_id, group)) for group in groups},
                {group: self._log.point((user_id, group)) for group in groups},
            )

    def restore(self, backup: ContactsBackup) -> None:
        """The host's database restored from ``backup``: the user's clients and groups are
        what they were then (clients made since are gone, clients deleted since are back,
        edits and group changes since are undone, groups made since are empty), and the
        change cursors handed out since are :class:`~calsync.sources.HostRewound`, in
        whichever line of its history (a backup newer than a wrong one restored before it,
        too). Ids stay unused once used, as the contract asks."""
        user_id = backup.user_id
        with self._lock:
            self._clients[user_id] = dict(backup.clients)
            self._corrupt[user_id] = dict(backup.corrupt)
            for group in self._groups(user_id) - backup.members.keys():
                self._members[(user_id, group)] = {}
                self._log.rewind((user_id, group), 0)
            for group, members in backup.members.items():
                self._members[(user_id, group)] = dict(members)
                self._log.restore((user_id, group), backup.changes[group])
            logger.debug("host clients of %s restored from a backup", user_id)

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

    def _groups(self, user_id: str) -> set[str]:
        return {g for (u, g) in self._members if u == user_id}

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

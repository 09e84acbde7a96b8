"""A Google address book in memory: :class:`MemoryContactsBackend`.

It implements the contacts backend contract with People's etag, contact group and sync-token
rules, and adds the hooks a test needs: ``external_*`` methods play the Google user editing
their contacts and groups; ``fail_next``, ``crash_after_next``, ``calls`` and
``expire_cursors`` are those of every in-memory remote
(:class:`~calsync.testing._faults.MemoryRemote`).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
from attrs import frozen

from calsync.backends import (
    ContactsBackend,
    ContactWrite,
    RemoteContact,
    RemoteListing,
    WriteResult,
)
from calsync.errors import NotFound
from calsync.model import ContactFields, Marker
from calsync.testing._faults import Clock, MemoryRemote, check_etag

__all__ = ["MemoryContactsBackend"]

logger = logging.getLogger(__name__)


@frozen(weakref_slot=False)
class _Person:
    """A contact as the address book stores it: memberships by group id."""

    id: str
    etag: str
    fields: ContactFields | None
    marker: Marker | None
    groups: frozenset[str]
    deleted: bool = False
    updated: datetime | None = None

    def view(self, in_group: bool) -> RemoteContact:
        return RemoteContact(
            self.id, self.etag, self.fields, self.marker, self.deleted, in_group, self.updated
        )


#: The one change log of an address book (People sync tokens are per account).
_PEOPLE = "people"


class MemoryContactsBackend(MemoryRemote, ContactsBackend):
    """An address book in memory, with People's etag, group and sync-token rules.

    ``in_group`` of a listed contact is relative to the listed group. :meth:`get_contact` has
    no group to speak of, so there, as in Google's backend, ``in_group`` means "in the group
    last ensured, listed or written to" (the sync group: after a switch, the new one). A
    deleted contact is a tombstone in incremental listings and ``None`` for
    :meth:`get_contact` (People answers 404). Thread-safe.
    """

    contract_methods = frozenset(
        {
            "find_group",
            "ensure_group",
            "list_contacts",
            "get_contact",
            "create_contact",
            "update_contact",
            "delete_contact",
            "remove_from_group",
            "write_contacts",
        }
    )

    def __init__(self, *, now: Clock | None = None) -> None:
        super().__init__(now=now)
        self._groups: dict[str, str] = {}  # id -> name
        self._sync_group: str | None = None  # the group get_contact's in_group is about
        self._people: dict[str, _Person] = {}
        self._ids = itertools.count(1)

    # -- the contract --------------------------------------------------------------------

    def find_group(self, name: str) -> str | None:
        with self._contract_call("find_group"):
            return next((i for i, n in self._groups.items() if n == name), None)

    def ensure_group(self, name: str) -> str:
        with self._contract_call("ensure_group"):
            group_id = self._group_ref(name)
            self._sync_group = group_id
            return group_id

    def list_contacts(self, group_id: str, cursor: str | None) -> RemoteListing[RemoteContact]:
        with self._contract_call("list_contacts"):
            self._check_group(group_id)
            if cursor is None:
                return self._full_listing(group_id, None)
            try:
                changed, next_cursor = self._log.since(_PEOPLE, cursor)
            except LookupError:
                return self._full_listing(group_id, "sync token expired")
            items = [self._view(self._people[i], group_id) for i in changed]
            return RemoteListing(items, complete=False, cursor=next_cursor)

    def get_contact(self, contact_id: str) -> RemoteContact | None:
        with self._contract_call("get_contact"):
            person = self._people.get(contact_id)
            if person is None or person.deleted:
                return None
            return self._view(person, None)

    def create_contact(self, group_id: str, fields: ContactFields, marker: Marker) -> RemoteContact:
        with self._contract_call("create_contact"):
            self._check_group(group_id)
            return self._create(fields, frozenset({group_id}), marker, group_id)

    def update_contact(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
    ) -> RemoteContact:
        with self._contract_call("update_contact"):
            self._check_group(group_id)
            current = self._live(contact_id)
            check_etag(current.etag, etag, f"contact {contact_id}")
            updated = attrs.evolve(
                current,
                fields=fields,
                marker=current.marker if marker is None else marker,
                groups=current.groups | {group_id},
            )
            return self._view(self._put(updated), group_id)

    def delete_contact(self, contact_id: str) -> None:
        with self._contract_call("delete_contact"):
            current = self._people.get(contact_id)
            if current is not None and not current.deleted:
                self._delete(current)

    def remove_from_group(self, contact_id: str, group_id: str) -> None:
        with self._contract_call("remove_from_group"):
            self._check_group(group_id)
            current = self._live(contact_id)
            if group_id in current.groups:
                self._put(attrs.evolve(current, groups=current.groups - {group_id}))

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        with self._contract_call("write_contacts"):
            return super().write_contacts(group_id, writes)

    def _full_listing(self, group_id: str, restarted: str | None) -> RemoteListing[RemoteContact]:
        members = [
            person.view(True)
            for person in self._people.values()
            if not person.deleted and group_id in person.groups
        ]
        return RemoteListing(
            members, complete=True, cursor=self._log.cursor(_PEOPLE), restarted=restarted
        )

    # -- what the Google user does -------------------------------------------------------

    def external_create(
        self, fields: ContactFields, groups: Iterable[str] = (), marker: Marker | None = None
    ) -> RemoteContact:
        """A contact made in Google, in ``groups`` (group ids, or names made when missing)."""
        with self._lock:
            group_ids = frozenset(self._group_ref(group) for group in groups)
            return self._create(fields, group_ids, marker, None)

    def external_update(self, contact_id: str, **field_changes: Any) -> RemoteContact:
        """An edit made in Google: ``field_changes`` name :class:`ContactFields` attributes.

        Raises:
            NotFound: no live contact has this id.
        """
        with self._lock:
            current = self._live(contact_id)
            assert current.fields is not None  # live contacts have fields
            fields = attrs.evolve(current.fields, **field_changes)
            return self._view(self._put(attrs.evolve(current, fields=fields)), None)

    def external_delete(self, contact_id: str) -> None:
        """The contact is deleted in Google (a tombstone for incremental listings).

        Raises:
            NotFound: no live contact has this id.
        """
        with self._lock:
            self._delete(self._live(contact_id))

    def external_add_to_group(self, contact_id: str, group: str) -> None:
        """The Google user puts the contact in ``group`` (an id, or a name made when missing)."""
        with self._lock:
            current = self._live(contact_id)
            group_id = self._group_ref(group)
            if group_id not in current.groups:
                self._put(attrs.evolve(current, groups=current.groups | {group_id}))

    def external_remove_from_group(self, contact_id: str, group: str) -> None:
        """The Google user takes the contact out of ``group`` (an id or a name)."""
        with self._lock:
            current = self._live(contact_id)
            group_id = self._find_group(group)
            if group_id is not None and group_id in current.groups:
                self._put(attrs.evolve(current, groups=current.groups - {group_id}))

    def external_delete_group(self, group: str) -> None:
        """The Google user deletes the group (an id or a name): :meth:`delete_group`."""
        self.delete_group(group)

    def delete_group(self, group: str) -> None:
        """The Google user deletes the group (its contacts stay); listing it raises NotFound."""
        with self._lock:
            group_id = self._find_group(group)
            if group_id is None:
                return
            for person in list(self._people.values()):
                if group_id in person.groups:
                    self._put(attrs.evolve(person, groups=person.groups - {group_id}))
            del self._groups[group_id]
            if self._sync_group == group_id:
                self._sync_group = None

    def groups(self) -> dict[str, str]:
        """The contact groups: name -> id."""
        with self._lock:
            return {name: group_id for group_id, name in self._groups.items()}

    def contacts(
        self, group: str | None = None, include_deleted: bool = False
    ) -> dict[str, RemoteContact]:
        """The contacts by id: the members of ``group`` (an id or a name) when given, else all
        (tombstones too with ``include_deleted``)."""
        with self._lock:
            group_id = None if group is None else self._find_group(group)
            if group is not None and group_id is None:
                return {}
            return {
                person.id: self._view(person, group_id)
                for person in self._people.values()
                if (include_deleted or not person.deleted)
                and (group_id is None or group_id in person.groups)
            }

    # -- internals -----------------------------------------------------------------------

    def _find_group(self, ref: str) -> str | None:
        if ref in self._groups:
            return ref
        return next((i for i, name in self._groups.items() if name == ref), None)

    def _group_ref(self, ref: str) -> str:
        group_id = self._find_group(ref)
        if group_id is None:
            group_id = f"contactGroups/{uuid.uuid4().hex[:12]}"
            self._groups[group_id] = ref
        return group_id

    def _check_group(self, group_id: str) -> None:
        """Refuse a group that does not exist; else it is the sync group from now on."""
        if group_id not in self._groups:
            raise NotFound(f"contact group {group_id} does not exist", status=404)
        self._sync_group = group_id

    def _live(self, contact_id: str) -> _Person:
        person = self._people.get(contact_id)
        if person is None or person.deleted:
            raise NotFound(f"contact {contact_id} does not exist", status=404, reason="NOT_FOUND")
        return person

    def _view(self, person: _Person, group_id: str | None) -> RemoteContact:
        if group_id is not None:
            return person.view(group_id in person.groups)
        return person.view(self._sync_group in person.groups)

    def _create(
        self,
        fields: ContactFields,
        groups: frozenset[str],
        marker: Marker | None,
        group_id: str | None,
    ) -> RemoteContact:
        person = _Person(f"people/c{next(self._ids)}", "", fields, marker, groups)
        return self._view(self._put(person), group_id)

    def _delete(self, person: _Person) -> None:
        self._put(attrs.evolve(person, fields=None, groups=frozenset(), deleted=True))

    def _put(self, person: _Person) -> _Person:
        stamped = attrs.evolve(person, etag=f"%EgM{self._next_etag()}", updated=self._now())
        self._people[person.id] = stamped
        self._log.record(_PEOPLE, person.id)
        logger.debug("contact %s is now %s", person.id, stamped.etag)
        return stamped

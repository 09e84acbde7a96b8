"""The People v1 backend: one user's Google Contacts behind calsync's ``ContactsBackend``.

* **The group.** The host's client sync group is a user contact group of the same name,
  created when missing. Contacts calsync creates belong to it and to ``myContacts`` (so they
  show in Google Contacts and keep a membership when the group label is removed), and carry
  the ownership marker in ``clientData``.
* **Listing.** ``people.connections.list`` with ``requestSyncToken`` on every page: a full
  listing returns the group's members (``complete=True``); an incremental one returns every
  changed contact, members or not (``in_group`` says which), and deletions as tombstones. An
  expired token (400 ``EXPIRED_SYNC_TOKEN``, or 410) turns it into a full listing. A contact
  Google gave a new resource name (it does so when it links the contact to a profile) is
  listed under the new one, with the old ones in ``previous_ids``
  (``metadata.previousResourceNames``); the engine moves the contact's pair to it.
* **Writes.** ``write_contacts`` sends runs of creates through ``batchCreateContacts``, runs
  of updates through ``batchUpdateContacts`` (at most 200, and at most the pacer's burst) and
  deletes through ``batchDeleteContacts``. People applies update and delete batches
  atomically, so one refused as a whole is replayed one contact at a time to give each write
  its own outcome. Mutations are sent one after another, never in parallel (Google asks for
  that per user).
* **Updates** replace the synced fields and keep everything else: the contact's other group
  memberships and other clients' ``clientData`` are sent back with it (Google replaces those
  lists wholesale), from the last read of the contact or a fresh one. A contact whose etag moved
  is :class:`~calsync.errors.PreconditionFailed` without a write.
* **Creates are not retried** after an ambiguous failure (5xx, broken connection): there is no
  client id to make them idempotent. The engine records an intent first and adopts the contact
  by its marker on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import tenacity
from attrs import frozen

from calsync.backends import (
    ContactsBackend,
    ContactWrite,
    DeleteContact,
    RemoteContact,
    RemoteListing,
    WriteResult,
)
from calsync.errors import (
    AlreadyExists,
    BackendError,
    NotFound,
    PreconditionFailed,
    SyncTokenExpired,
)
from calsync.google import wire
from calsync.google.calls import Caller
from calsync.google.contact_batches import (
    BATCH_MUTATE_MAX,
    MY_CONTACTS,
    UPDATE_MASK,
    ContactBatches,
)
from calsync.google.markers import MARKER_KEYS
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import default_retrying
from calsync.google.services import resource
from calsync.google.translate import (
    PERSON_FIELDS,
    SYNCED_PERSON_FIELDS,
    Skipped,
    contact_from_json,
    merged_person_fields,
    person_body,
    person_groups,
    sync_token,
)
from calsync.model import ContactFields, Marker

__all__ = ["MY_CONTACTS", "GoogleContactsBackend"]

logger = logging.getLogger(__name__)

ME = "people/me"


class GoogleContactsBackend(ContactsBackend):
    """One user's Google Contacts.

    Args:
        service: a People v1 ``Resource`` (see :mod:`calsync.google.services`); not
            thread-safe, so one backend per thread.
        pacer: the user's :class:`~calsync.google.pacing.QuotaPacer`, shared with the
            user's calendar backend.
        retrying: the retry policy for transient errors.
        batch_size: contacts per batch create/update (at most 200, cut to the pacer's burst).
        page_size: ``pageSize`` of listing pages (at most 1000).
    """

    def __init__(
        self,
        service: Any,
        *,
        pacer: QuotaPacer | None = None,
        retrying: tenacity.Retrying | None = None,
        batch_size: int = BATCH_MUTATE_MAX,
        page_size: int = 1000,
    ) -> None:
        self.service = service
        self.caller = Caller(pacer or QuotaPacer(), retrying or default_retrying())
        self.batch_size = max(1, min(batch_size, BATCH_MUTATE_MAX, self.caller.pacer.burst))
        self.page_size = page_size
        #: the last state read or written of each contact (for merging updates)
        self._known: dict[str, Known] = {}
        self._group: str | None = None
        #: the group known to exist since the last listing (a write naming another is
        #: checked first: a group deleted while empty leaves no trace in a listing)
        self._group_seen: str | None = None

    # -- the client's resources, each built once (building one parses its whole discovery
    # description: it was most of the client's CPU when done per request) ------------------

    @cached_property
    def people(self) -> Any:
        """The service's ``people()`` resource."""
        return resource(self.service, "people")

    @cached_property
    def connections(self) -> Any:
        """The service's ``people().connections()`` resource."""
        return resource(self.service, "people", "connections")

    @cached_property
    def contact_groups(self) -> Any:
        """The service's ``contactGroups()`` resource."""
        return resource(self.service, "contactGroups")

    @cached_property
    def members(self) -> Any:
        """The service's ``contactGroups().members()`` resource."""
        return resource(self.service, "contactGroups", "members")

    # -- the group -----------------------------------------------------------------------

    def ensure_group(self, name: str) -> str:
        found = self.find_group(name)
        if found is None:
            body = {"contactGroup": {"name": name}}
            try:
                data = self.caller.execute(self.contact_groups.create(body=body))
            except AlreadyExists:  # made meanwhile (another runner, or the user)
                found = self.find_group(name)
                if found is None:
                    raise
            else:
                found = str(data["resourceName"])
                logger.info("created contact group %s", found)
        self._group = self._group_seen = found
        return found

    def find_group(self, name: str) -> str | None:
        groups = self.contact_groups
        request = groups.list(pageSize=1000, groupFields="name,groupType")
        while request is not None:
            page = self.caller.execute(request)
            for data in page.get("contactGroups", []):
                group = wire.structure(data, wire.ContactGroup)
                if group.group_type == "USER_CONTACT_GROUP" and group.name == name:
                    return group.resource_name
            request = groups.list_next(request, page)
        return None

    # -- reading -------------------------------------------------------------------------

    def list_contacts(self, group_id: str, cursor: str | None) -> RemoteListing[RemoteContact]:
        """Raises :class:`NotFound` when the group was deleted in Google (see
        :meth:`_check_group`)."""
        self._group = group_id
        self._group_seen = None
        if cursor is not None:
            try:
                listing = self._listing(group_id, {"syncToken": cursor}, complete=False)
            except SyncTokenExpired as exc:
                logger.info("contacts sync token expired (%s): listing in full", exc.reason)
                restarted = f"the sync token expired ({exc.reason or exc.status})"
                self._check_group(group_id)
                return self._listing(group_id, {}, complete=True, restarted=restarted)
            # a deleted group takes its members out of it (or deletes them): they are listed
            # as leaving it, or as tombstones
            if any(not contact.in_group for contact in listing.items):
                self._check_group(group_id)
            return listing
        self._check_group(group_id)
        return self._listing(group_id, {}, complete=True)

    def _check_group(self, group_id: str) -> None:
        """Raise :class:`NotFound` when the group is gone. Its members are listed from
        ``people/me``, which never says so: a full listing of a deleted group is merely empty,
        and every write naming it would be refused (400). One read, made before a full
        listing, after an incremental one in which a contact left the group or was deleted,
        and before the first write naming the group that no such read has seen (a group
        deleted while empty: no contact left it)."""
        self.caller.execute(
            self.contact_groups.get(resourceName=group_id, maxMembers=0, groupFields="name")
        )
        self._group_seen = group_id

    def _listing(
        self,
        group_id: str,
        params: dict[str, Any],
        complete: bool,
        restarted: str | None = None,
    ) -> RemoteListing[RemoteContact]:
        connections = self.connections
        request = connections.list(
            resourceName=ME,
            personFields=PERSON_FIELDS,
            pageSize=self.page_size,
            requestSyncToken=True,
            **params,
        )
        items: list[RemoteContact] = []
        warnings: list[str] = []
        token: str | None = None
        while request is not None:
            page = self.caller.execute(request)
            for data in page.get("connections", []):
                contact = self._contact(data, group_id)
                if isinstance(contact, Skipped):
                    if _mentions(data, group_id):
                        logger.warning("%s", contact.warning("contact"))
                        warnings.append(contact.warning("contact"))
                elif not complete or contact.in_group:
                    items.append(contact)
            token = sync_token(page)
            if token is None and page.get("nextSyncToken") is not None:
                logger.warning("the contacts sync token cannot be stored: the next listing is full")
            request = connections.list_next(request, page)
        notes: Any = tuple(warnings)  # (attrs plugin: converter=tuple fields)
        return RemoteListing(items, complete, token, notes, restarted)

    def _contact(self, data: Any, group_id: str) -> RemoteContact | Skipped:
        contact = contact_from_json(data, group_id)
        if not isinstance(contact, Skipped):
            for previous in contact.previous_ids:  # renamed by Google: gone under that name
                self._known.pop(previous, None)
            if contact.deleted:
                self._known.pop(contact.id, None)
            else:
                self._known[contact.id] = Known.of(data)
        return contact

    def get_contact(self, contact_id: str) -> RemoteContact | None:
        request = self.people.get(resourceName=contact_id, personFields=PERSON_FIELDS)
        try:
            data = self.caller.execute(request)
        except NotFound:
            self._known.pop(contact_id, None)
            return None
        return self._read(data)

    def _read(self, data: Any) -> RemoteContact:
        contact = self._contact(data, self._group or "")
        if isinstance(contact, Skipped):
            raise BackendError(contact.warning("contact"))
        return contact

    # -- single writes -------------------------------------------------------------------

    def create_contact(self, group_id: str, fields: ContactFields, marker: Marker) -> RemoteContact:
        self._group = group_id
        body = person_body(fields, marker=marker, groups=[MY_CONTACTS, group_id])
        request = self.people.createContact(body=body, personFields=PERSON_FIELDS)
        return self._read(self.caller.execute(request, safe=False))

    def update_contact(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
    ) -> RemoteContact:
        self._group = group_id
        body = self.update_body(group_id, contact_id, fields, marker, etag)
        request = self.people.updateContact(
            resourceName=contact_id,
            updatePersonFields=UPDATE_MASK,
            personFields=PERSON_FIELDS,
            body=body,
        )
        try:
            return self._read(self.caller.execute(request))
        except PreconditionFailed:
            self._known.pop(contact_id, None)
            raise

    def update_body(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
        *,
        fetch: bool = True,
    ) -> dict[str, Any]:
        """The body of an update, merged into the contact as Google holds it (the remembered
        contact, or a fresh read when ``fetch``): it keeps the contact's other groups, other
        clients' ``clientData``, and what the user entered in the synced fields that calsync
        does not model (:func:`~calsync.google.translate.merged_person_fields`).

        Raises:
            PreconditionFailed: the contact changed since ``etag``.
            NotFound: the contact does not exist.
        """
        current = self._current(contact_id, etag, fetch)
        groups = person_groups(current.person)
        if group_id not in groups:
            groups.append(group_id)
        entries = current.person.client_data or []
        if marker is not None:
            entries = [e for e in entries if not _is_marker(e)]
        body = person_body(
            fields,
            marker=marker,
            groups=groups,
            other_client_data=entries,
            resource_name=contact_id,
            etag=etag,
        )
        body.update(merged_person_fields(current.synced, fields))
        return body

    def _current(self, contact_id: str, etag: str, fetch: bool) -> Known:
        known = self._known.get(contact_id)
        if known is None or (known.person.etag != etag and fetch):
            request = self.people.get(resourceName=contact_id, personFields=PERSON_FIELDS)
            known = Known.of(self.caller.execute(request))
            self._known[contact_id] = known
        if known.person.etag != etag:
            raise PreconditionFailed(
                f"contact {contact_id} changed in Google since it was read",
                status=400,
                reason="FAILED_PRECONDITION",
            )
        return known

    def delete_contact(self, contact_id: str) -> None:
        request = self.people.deleteContact(resourceName=contact_id)
        try:
            self.caller.execute(request)
        except NotFound:
            logger.debug("contact %s was already gone", contact_id)
        self._known.pop(contact_id, None)

    def remove_from_group(self, contact_id: str, group_id: str) -> None:
        stuck = self._modify(group_id, remove=[contact_id])
        if stuck:  # its only group: keep it in My Contacts, then take the label off
            self._modify(MY_CONTACTS, add=stuck)
            self._modify(group_id, remove=stuck)
        self._known.pop(contact_id, None)

    def _modify(
        self, group_id: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> list[str]:
        body = {"resourceNamesToAdd": list(add), "resourceNamesToRemove": list(remove)}
        members = self.members
        answer = self.caller.execute(members.modify(resourceName=group_id, body=body))
        return list(answer.get("canNotRemoveLastContactGroupResourceNames", []))

    # -- batched writes ------------------------------------------------------------------

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        """Apply ``writes`` in order, runs of one kind batched; one result per write.

        Raises:
            NotFound: the group is gone (checked first when no read has seen it since the
                last listing); nothing was written.
        """
        self._group = group_id
        if self._group_seen != group_id and any(_names_group(w) for w in writes):
            self._check_group(group_id)
        return ContactBatches(self, group_id).write(writes)

    def write_one(self, group_id: str, write: ContactWrite) -> WriteResult[RemoteContact]:
        """One write on its own (the contract's default path), its failure returned."""
        return self._write_contact(group_id, write)

    def forget(self, contact_id: str) -> None:
        """Drop what is remembered of a contact (it changed or is gone)."""
        self._known.pop(contact_id, None)

    def remember(self, data: Any) -> RemoteContact | Skipped:
        """Read a person Google returned, remembering it for later updates."""
        return self._contact(data, self._group or "")

    def is_known(self, contact_id: str, etag: str) -> bool:
        """Whether the contact is remembered as it is at ``etag``."""
        known = self._known.get(contact_id)
        return known is not None and known.person.etag == etag

    def read(self, data: Any) -> RemoteContact:
        """A person Google returned, as a contact (remembered)."""
        return self._read(data)


@frozen
class Known:
    """A contact as last read or written: the person, and its synced fields as Google sent
    them (an update is merged into those)."""

    person: wire.Person
    synced: dict[str, Any]

    @classmethod
    def of(cls, data: Any) -> Known:
        synced = {key: data[key] for key in SYNCED_PERSON_FIELDS if key in data}
        return cls(wire.structure(data, wire.Person), synced)


def _names_group(write: ContactWrite) -> bool:
    """Whether ``write`` names the group (all but a plain delete): Google refuses it when the
    group is gone."""
    return not isinstance(write, DeleteContact) or write.keep


def _is_marker(entry: wire.ClientData) -> bool:
    return entry.key in MARKER_KEYS


def _mentions(data: Any, group_id: str) -> bool:
    """Whether an unreadable person names the group (only those deserve a warning)."""
    return group_id in repr(data)

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
* **Refused etags.** Google refuses the etag a *listing* gave (400 ``FAILED_PRECONDITION``,
  google-api-python-client issue #1169) while it takes the one of ``people.get``. An update
  (or a batch of them) refused for its etag reads the contact again, once (``get``, or one
  ``batchGet`` for a batch), and is sent once more with the fresh etag when the contact's
  content is still what it was at the etag the engine gave: an etag bump alone is no change.
  A contact whose content changed meanwhile is :class:`~calsync.errors.PreconditionFailed`,
  which the engine re-reads and plans again under its conflict rules: a user's newer edit is
  never overwritten blindly.
* **Creates are not retried** after an ambiguous failure (5xx, broken connection): there is no
  client id to make them idempotent. The engine records an intent first and adopts the contact
  by its marker on the next run.
"""

from __future__ import annotations

import hashlib
import json
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
from calsync.google.calls import Caller, pages
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
        listing = pages(self.caller.execute, request, groups.list_next, "contactGroups")
        for _, entries in listing:
            for data in entries:
                group = wire.structure(data, wire.ContactGroup)
                if group.group_type == "USER_CONTACT_GROUP" and group.name == name:
                    return group.resource_name
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
        listing = pages(self.caller.execute, request, connections.list_next, "connections")
        for page, entries in listing:
            for data in entries:
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
                self._remember(contact.id, data)
        return contact

    def _remember(self, contact_id: str, data: Any) -> Known:
        known = Known.of(data, self._known.get(contact_id))
        self._known[contact_id] = known
        return known

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
        try:
            return self._update(group_id, contact_id, fields, marker, etag)
        except (PreconditionFailed, NotFound):
            self._known.pop(contact_id, None)
            raise

    def _update(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
    ) -> RemoteContact:
        """Send the update; once more, with a fresh etag, when Google refuses an etag under
        which the contact's content is unchanged (a listing's)."""
        body = self.update_body(group_id, contact_id, fields, marker, etag)
        try:
            return self._send_update(contact_id, body)
        except PreconditionFailed:
            if not self._read_again(contact_id, etag, refused=body["etag"]):
                raise
        logger.debug(
            "contact %s: its etag was refused, its content unchanged: sent again", contact_id
        )
        body = self.update_body(group_id, contact_id, fields, marker, etag, fetch=False)
        return self._send_update(contact_id, body)

    def _send_update(self, contact_id: str, body: dict[str, Any]) -> RemoteContact:
        request = self.people.updateContact(
            resourceName=contact_id,
            updatePersonFields=UPDATE_MASK,
            personFields=PERSON_FIELDS,
            body=body,
        )
        return self._read(self.caller.execute(request))

    def _read_again(self, contact_id: str, etag: str, refused: str) -> bool:
        """After an update of the contact was refused for its etag (``refused``): read it
        again (one ``get``) and say whether it is still as it was at ``etag``, under a new
        etag to send it once more with. A contact that changed says no: the refusal stands,
        and the engine reads and plans the contact again.

        Raises:
            NotFound: the contact is gone.
        """
        request = self.people.get(resourceName=contact_id, personFields=PERSON_FIELDS)
        known = self._remember(contact_id, self.caller.execute(request))
        return known.matches(etag) and known.person.etag != refused

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
        does not model (:func:`~calsync.google.translate.merged_person_fields`). It carries the
        etag of that read, which may be newer than ``etag`` for the same content.

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
            etag=current.person.etag,
        )
        body.update(merged_person_fields(current.synced, fields))
        return body

    def _current(self, contact_id: str, etag: str, fetch: bool) -> Known:
        """The contact as last read, when its content is still as it was at ``etag``."""
        known = self._known.get(contact_id)
        if known is None or (not known.matches(etag) and fetch):
            request = self.people.get(resourceName=contact_id, personFields=PERSON_FIELDS)
            known = self._remember(contact_id, self.caller.execute(request))
        if not known.matches(etag):
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
        return _ContactBatches(self, group_id).write(writes)

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
        return known is not None and known.matches(etag)

    def bodies_to_resend(
        self, bodies: dict[str, Any], sent: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """After a batch update of ``bodies`` was refused whole and its contacts were read
        again: the bodies to send once more, with the etag of that read (the contacts whose
        content is as it was when their bodies were made, at the etags in ``sent``), and the
        refusal of each of the others (changed or gone since). Nothing to send again when no
        etag is new: the batch was refused for something else."""
        again: dict[str, Any] = {}
        refused: dict[str, Any] = {}
        for name, body in bodies.items():
            known = self._known.get(name)
            if known is None or not known.matches(sent[name]):
                self._known.pop(name, None)
                refused[name] = PreconditionFailed(
                    f"contact {name} changed in Google since it was read",
                    status=400,
                    reason="FAILED_PRECONDITION",
                )
            else:
                again[name] = {**body, "etag": known.person.etag}
        if all(again[name]["etag"] == sent[name] for name in again) and not refused:
            return {}, {}
        return again, refused

    def read(self, data: Any) -> RemoteContact:
        """A person Google returned, as a contact (remembered)."""
        return self._read(data)


class _ContactBatches(ContactBatches):
    """The batched writes, with one more chance for a batch update refused whole: its
    contacts are read again (one ``batchGet``) and those still as they were are sent once
    more, with the etags of that read, in one batch; the others get their refusal, for the
    engine to plan again. (Google refuses the etags of listings.)"""

    backend: GoogleContactsBackend

    def _send_updates(self, bodies: dict[str, Any]) -> dict[str, Any] | None:
        answer = super()._send_updates(bodies)
        if answer is not None:
            return answer
        sent = {name: body.get("etag") for name, body in bodies.items()}
        self._prefetch(list(bodies))
        again, refused = self.backend.bodies_to_resend(bodies, sent)
        if not again and not refused:
            return None  # (replayed one at a time)
        logger.info(
            "%d contact(s) read again after their etags were refused: %d sent again in a batch",
            len(bodies),
            len(again),
        )
        answer = super()._send_updates(again) if again else {}
        return None if answer is None else {**refused, **answer}


@frozen
class Known:
    """A contact as last read or written: the person, its synced fields as Google sent them
    (an update is merged into those), a digest of its content, and the earlier etags under
    which it was read with that same content (``aliases``: an etag bump alone is no change)."""

    person: wire.Person
    synced: dict[str, Any]
    digest: str
    aliases: frozenset[str] = frozenset()

    @classmethod
    def of(cls, data: Any, before: Known | None = None) -> Known:
        """``data`` as read; ``before`` is what was remembered of the contact until then."""
        synced = {key: data[key] for key in SYNCED_PERSON_FIELDS if key in data}
        person = wire.structure(data, wire.Person)
        digest = _content_digest(data)
        aliases: frozenset[str] = frozenset()
        if before is not None and before.digest == digest and before.person.etag:
            aliases = before.aliases | {before.person.etag}
        return cls(person, synced, digest, aliases - {person.etag or ""})

    def matches(self, etag: str) -> bool:
        """Whether the contact, as remembered, is as it was at ``etag``."""
        return etag == self.person.etag or etag in self.aliases


def _content_digest(data: Any) -> str:
    """A digest of a person's content: everything but its etags, update times and source
    metadata (a listing and a ``get`` of the same contact differ only in those)."""
    content = {key: value for key, value in data.items() if key != "metadata"}
    text = json.dumps(_without_versions(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _without_versions(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_versions(item)
            for key, item in value.items()
            if key not in ("etag", "updateTime")
        }
    if isinstance(value, list):
        return [_without_versions(item) for item in value]
    return value


def _names_group(write: ContactWrite) -> bool:
    """Whether ``write`` names the group (all but a plain delete): Google refuses it when the
    group is gone."""
    return not isinstance(write, DeleteContact) or write.keep


def _is_marker(entry: wire.ClientData) -> bool:
    return entry.key in MARKER_KEYS


def _mentions(data: Any, group_id: str) -> bool:
    """Whether an unreadable person names the group (only those deserve a warning)."""
    return group_id in repr(data)

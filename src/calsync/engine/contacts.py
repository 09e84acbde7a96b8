"""The contacts channel: a user's client sync group ↔ a Google contact group of the same name.

Contacts have no client-chosen ids, so every create is preceded by an *intent* in the state
store. While an intent is outstanding the next run lists the group in full and adopts the
contact carrying our marker instead of creating it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from calsync.backends import (
    ContactsBackend,
    ContactWrite,
    CreateContact,
    DeleteContact,
    RemoteContact,
    UpdateContact,
    WriteResult,
)
from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Update,
)
from calsync.engine.channel import ChannelAdapter, ChannelSnapshot, HostWrite, RunContext, digest
from calsync.engine.planner import CONTACT, HostRecord, PlanRules, RemoteRecord, Snapshot
from calsync.errors import NotFound
from calsync.model import Channel, Contact, ContactFields, Marker
from calsync.sources import ContactSource, ContactUpdate, Unreadable
from calsync.state.base import MappingRow, PendingCreate

__all__ = ["ContactsSync"]

logger = logging.getLogger(__name__)


class ContactsSync(ChannelAdapter):
    """The contacts channel of one profile."""

    channel = Channel.CONTACTS

    def __init__(self, ctx: RunContext, source: ContactSource, backend: ContactsBackend) -> None:
        super().__init__(ctx)
        self.source = source
        self.backend = backend
        group = ctx.profile.options.client_group
        if not group:
            raise ValueError("the contacts channel needs a client sync group")
        self.group = group
        self.user_id = ctx.profile.user_id
        self.inbound = ctx.profile.options.inbound_contacts
        self._group_id: str | None = None
        self.unreadable: dict[str, str] = {}

    def config_digest(self) -> str:
        return digest(self.group, self.inbound)

    def needs_full_listing(self) -> bool:
        pending = self.ctx.store.pending(self.profile_id, self.channel)
        return bool(pending) or super().needs_full_listing()

    def rules(self) -> PlanRules:
        options = self.ctx.profile.options
        return PlanRules(
            channel=self.channel,
            namespace=self.profile_id,
            inbound=self.inbound,
            field_rules=options.field_rules,
            conflict_policy=options.conflict_policy,
            deletion_rules=options.deletion_rules,
            remote_id_for=lambda host_id: None,
        )

    @property
    def group_id(self) -> str:
        """The remote group's id, found (or created) once and remembered."""
        if self._group_id is None:
            cached = self.cursor("group")
            if cached is not None and json.loads(cached).get("name") == self.group:
                self._group_id = str(json.loads(cached)["id"])
            else:
                self._group_id = self.backend.ensure_group(self.group)
                value = json.dumps({"name": self.group, "id": self._group_id})
                self.ctx.store.set_cursor(self.profile_id, "group:contacts", value)
        return self._group_id

    # -- snapshot ------------------------------------------------------------------------

    def snapshot(self, mapping: Mapping[str, MappingRow], full: bool) -> ChannelSnapshot:
        host, host_deleted, host_cursor, host_complete = self._read_host(full)
        listing = self._list_remote(None if full else self.cursor("remote"))
        remote = {contact.id: self.remote_record(contact) for contact in listing.items}
        if listing.complete:
            self._confirm_remote_absences(mapping, remote)
        if host_complete:
            host_deleted.update(
                host_id
                for host_id in mapping
                if host_id not in host and host_id not in self.unreadable
            )
        self._resolve_unmapped(mapping, host, host_deleted, remote)
        host_deleted.difference_update(self.unreadable)
        snapshot = Snapshot(host, frozenset(host_deleted), remote)
        warnings = [f"client {i} could not be read: {why}" for i, why in self.unreadable.items()]
        return ChannelSnapshot(
            snapshot, host_cursor, listing.cursor, (*listing.warnings, *warnings)
        )

    def _list_remote(self, cursor: str | None) -> Any:
        try:
            return self.backend.list_contacts(self.group_id, cursor)
        except NotFound:
            # the group was deleted in Google: make it again and list it from scratch
            self.ctx.store.set_cursor(self.profile_id, "group:contacts", None)
            self._group_id = None
            return self.backend.list_contacts(self.group_id, None)

    def _read_host(self, full: bool) -> tuple[dict[str, HostRecord], set[str], str | None, bool]:
        cursor = None if full else self.cursor("host")
        if cursor is not None:
            try:
                changes = self.source.changes_since(self.user_id, self.group, cursor)
            except LookupError:
                logger.info("contact change cursor for %s expired; listing in full", self.user_id)
            else:
                return self._records(changes.changed), set(changes.deleted), changes.cursor, False
        new_cursor = self.source.change_cursor(self.user_id, self.group)
        contacts = self.source.list_group(self.user_id, self.group)
        return self._records(contacts), set(), new_cursor, True

    def _records(self, contacts: Iterable[Contact | Unreadable]) -> dict[str, HostRecord]:
        records: dict[str, HostRecord] = {}
        for contact in contacts:
            if isinstance(contact, Unreadable):
                self.unreadable[contact.id] = contact.reason
            else:
                records[contact.id] = self.host_view(contact)
        return records

    def host_view(self, contact: Contact) -> HostRecord:
        return HostRecord(
            id=contact.id,
            kind=CONTACT,
            view=contact.fields,
            revision=contact.revision,
            updated=contact.updated,
            origin=contact.remote_id,
        )

    def _confirm_remote_absences(
        self, mapping: Mapping[str, MappingRow], remote: dict[str, RemoteRecord]
    ) -> None:
        for row in mapping.values():
            if row.remote_id in remote:
                continue
            contact = self.backend.get_contact(row.remote_id)
            remote[row.remote_id] = (
                self.remote_record(contact)
                if contact is not None
                else RemoteRecord(row.remote_id, "", None, deleted=True)
            )

    def _resolve_unmapped(
        self,
        mapping: Mapping[str, MappingRow],
        host: dict[str, HostRecord],
        host_deleted: set[str],
        remote: dict[str, RemoteRecord],
    ) -> None:
        mapped_remote = {row.remote_id for row in mapping.values()}
        claimed = [
            r.marker.host_id
            for r in remote.values()
            if r.marker is not None
            and r.marker.namespace == self.profile_id
            and r.id not in mapped_remote
            and r.marker.host_id not in host
            and r.marker.host_id not in host_deleted
        ]
        for host_id in claimed:
            contact = self.source.get_contact(self.user_id, host_id)
            if contact is None:
                host_deleted.add(host_id)
            elif isinstance(contact, Unreadable):
                self.unreadable[host_id] = contact.reason
        for record in list(host.values()):
            origin = record.origin
            if (
                record.id in mapping
                or origin is None
                or origin in remote
                or origin in mapped_remote
            ):
                continue
            remote_contact = self.backend.get_contact(origin)
            if remote_contact is not None:
                remote[origin] = self.remote_record(remote_contact)

    def remote_record(self, item: Any) -> RemoteRecord:
        contact: RemoteContact = item
        return RemoteRecord(
            id=contact.id,
            etag=contact.etag,
            view=contact.fields,
            marker=contact.marker,
            deleted=contact.deleted,
            updated=contact.updated,
            in_scope=contact.in_group,
        )

    def fetch_remote(self, remote_id: str) -> RemoteRecord | None:
        contact = self.backend.get_contact(remote_id)
        return self.remote_record(contact) if contact is not None else None

    # -- writes --------------------------------------------------------------------------

    def record_intents(self, actions: Sequence[Action]) -> None:
        creates = [a for a in actions if isinstance(a, CreateRemote)]
        if not creates:
            return
        store = self.ctx.store
        with store.transaction():
            for action in creates:
                intent = PendingCreate(self.profile_id, self.channel, action.host_id, self.ctx.now)
                store.add_pending(intent)

    @property
    def remote_batch_size(self) -> int:
        return self.backend.batch_size

    def write_remote(self, actions: Sequence[Action]) -> list[WriteResult[Any]]:
        writes = [self._contact_write(action) for action in actions]
        return list(self.backend.write_contacts(self.group_id, writes))

    def _contact_write(self, action: Action) -> ContactWrite:
        if isinstance(action, CreateRemote):
            return CreateContact(action.fields, Marker(self.profile_id, action.host_id))
        if isinstance(action, Update):
            marker = Marker(self.profile_id, action.host_id)
            return UpdateContact(action.remote_id, action.fields, marker, action.etag or "")
        assert isinstance(action, DeleteRemote)
        return DeleteContact(action.remote_id, keep=action.keep)

    def create_host(self, action: CreateHost) -> HostWrite:
        contact = self.source.create_contact(
            self.user_id, self.group, action.fields, action.remote_id
        )
        return self._host_write(contact, action.fields)

    def update_host(self, action: Update) -> HostWrite:
        update = ContactUpdate(action.fields, action.to_host)
        contact = self.source.update_contact(self.user_id, action.host_id, update)
        return self._host_write(contact, action.fields)

    def delete_host(self, action: DeleteHost) -> None:
        self.source.remove_from_group(self.user_id, self.group, action.host_id)

    def _host_write(self, contact: Contact, expected: ContactFields) -> HostWrite:
        revision = contact.revision if contact.fields == expected else None
        return HostWrite(contact.id, revision, contact.fields, CONTACT)

    def finish(self, complete: bool) -> None:
        """After a complete listing was applied, older intents have done their work: every
        contact they announced was adopted or is gone. Intents of this run stay."""
        if not complete:
            return
        store = self.ctx.store
        for host_id, intent in store.pending(self.profile_id, self.channel).items():
            if intent.created_at < self.ctx.now:
                store.remove_pending(self.profile_id, self.channel, host_id)

"""The contacts channel: a user's client sync group ↔ a Google contact group of the same name.

What it adds to the channel core: the group (its remote id found, or created, once and
remembered; a dry run only looks it up), group membership as the scope (a client missing
from a complete listing of the group left it), and ids chosen by the remote side: every
create is preceded by a journaled intent, and while an intent is outstanding the next run
lists the group in full and adopts the contact carrying our marker instead of creating it
again. A contact Google renamed (listed under a new resource name naming the old one) keeps
its pair, moved to the new name; so does a pair whose contact is gone while the group holds
one unpaired contact carrying calsync's marker for the client. What the mapping rows do not
say is remembered beside them: which clients came from a contact the Google user made (such a
contact is never deleted, only unlabelled).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

from calsync.backends import (
    ContactsBackend,
    ContactWrite,
    CreateContact,
    DeleteContact,
    RemoteContact,
    RemoteListing,
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
from calsync.engine.channel import ChannelAdapter
from calsync.engine.context import ChannelSnapshot, HostWrite, MappingLoader, RunContext, digest
from calsync.engine.plans import PlanRules
from calsync.engine.reads import answer_of, listing_of
from calsync.engine.records import HostRecord, RemoteRecord, Snapshot
from calsync.errors import NotFound
from calsync.ids import creation_token
from calsync.model import Channel, Contact, ContactFields, Marker, RecordKind
from calsync.sources import ContactSource, ContactUpdate, HostChanges, Unreadable
from calsync.state.base import MappingHead, RemoteGroup

__all__ = ["ContactsSync"]

logger = logging.getLogger(__name__)


class ContactsSync(ChannelAdapter[ContactFields, Contact, RemoteContact]):
    """The contacts channel of one profile."""

    channel = Channel.CONTACTS
    fields_cls = ContactFields
    host_listing_is_scope = True
    records_origins = True

    def __init__(self, ctx: RunContext, source: ContactSource, backend: ContactsBackend) -> None:
        super().__init__(ctx)
        self.source = source
        self.backend = backend
        group = ctx.profile.options.client_group
        if not group:
            raise ValueError("the contacts channel needs a client sync group")
        self.group = group
        self.inbound = ctx.profile.options.inbound_contacts
        self._group_id: str | None = None
        self._group_lost = False  # the remembered group was deleted in Google this run
        #: contacts of pairs leaving the sync group that the Google user made (kept)
        self._users_own: set[str] = set()

    def config_digest(self) -> str:
        return digest(self.group, self.inbound)

    def rules(self) -> PlanRules[ContactFields]:
        options = self.ctx.profile.options
        return PlanRules(
            channel=self.channel,
            fields_cls=ContactFields,
            namespace=self.profile_id,
            inbound=self.inbound,
            field_rules=options.field_rules,
            conflict_policy=options.conflict_policy,
            deletion_rules=options.deletion_rules,
            remote_id_for=lambda host_id: None,
            # until a run under a new sync group has applied both sides, its contacts out of
            # the Google group were not taken out by anyone: they are put in it
            scope_changed=self.cursors.options_changed(self.config_digest()),
        )

    # -- the group -----------------------------------------------------------------------

    def group_id(self) -> str | None:
        """The remote group's id, found (or created, except in a dry run) once and remembered.
        ``None`` only in a dry run when the group does not exist yet."""
        if self._group_id is not None:
            return self._group_id
        store = self.ctx.store
        known = None if self._group_lost else self.cursors.stored.remote_group
        if known is not None and known.name == self.group:
            self._group_id = known.id
        elif self.ctx.dry_run:
            self._group_id = self.backend.find_group(self.group)
        else:
            with self.ctx.remote_writes():  # it may make the group: checked as a write is
                self._group_id = self.backend.ensure_group(self.group)
            store.set_remote_group(self.profile_id, RemoteGroup(self.group, self._group_id))
        return self._group_id

    def _writable_group_id(self) -> str:
        group_id = self.group_id()
        if group_id is None:  # only a dry run may lack the group, and it writes nothing
            raise RuntimeError("the contact group is needed for a write")
        return group_id

    # -- what the rows do not say ------------------------------------------------------

    def snapshot(self, rows: MappingLoader, full: bool) -> ChannelSnapshot[ContactFields]:
        taken = super().snapshot(rows, full)
        snapshot = self._mark_users_own(taken.snapshot, taken.mapping)
        if snapshot is taken.snapshot:
            return taken
        return attrs.evolve(taken, snapshot=snapshot, read_failures=self.read_failures)

    def _mark_users_own(
        self, snapshot: Snapshot[ContactFields], mapping: Mapping[str, MappingHead]
    ) -> Snapshot[ContactFields]:
        """Clients gone from the sync group (or from the studio) whose contact the Google
        user made (the client was made from it: recorded then, or the client still says so)
        have that contact shown without calsync's marker, which calsync put on it only to
        pair it: the plan then takes it out of the group and never deletes it.

        In a run that finds the studio gone back in time, such a client the studio no longer
        has at all (:meth:`_lost_to_the_restore`) is brought back instead
        (:meth:`~calsync.engine.channel.ChannelAdapter.bring_back_lost`): the plan makes it
        again from its contact, which stays in the group."""
        gone = {h: mapping[h].remote_id for h in snapshot.host_deleted if h in mapping}
        if not gone:
            return snapshot
        origins = self.ctx.store.get_origins(self.profile_id, self.channel, gone)
        own = {h for h, remote_id in gone.items() if origins.get(h) == remote_id}
        lost = self._lost_to_the_restore(snapshot, own, gone)
        rest = [h for h in gone if h not in own]
        if rest:  # clients out of the group but still in the studio
            found = self.host_items(rest)
            own.update(
                h for h, c in found.items() if isinstance(c, Contact) and c.remote_id == gone[h]
            )
        if not own:
            return snapshot
        remote, deleted = dict(snapshot.remote), set(snapshot.host_deleted)
        brought_back: dict[str, str] = {}
        for host_id in sorted(own):
            remote_id = gone[host_id]
            record = remote.get(remote_id)
            if record is None:
                read, record = self._read_remote(remote_id, host_id, {})
                if not read:  # unknown this run: neither side is touched for it
                    deleted.discard(host_id)
                    continue
                record = record or RemoteRecord(remote_id, "", None, deleted=True)
            self._users_own.add(remote_id)
            remote[remote_id] = attrs.evolve(record, marker=None)
            if host_id in lost and _live_in_group(record):
                brought_back[host_id] = remote_id
        marked = attrs.evolve(snapshot, remote=remote, host_deleted=frozenset(deleted))
        return self.bring_back_lost(marked, brought_back)

    def _lost_to_the_restore(
        self,
        snapshot: Snapshot[ContactFields],
        made_from: Collection[str],
        gone: Mapping[str, str],
    ) -> set[str]:
        """The clients gone from the group in a run that finds the studio gone back in time
        that calsync made from the Google user's contact (``made_from``: the store's origin
        names the pair's contact) and that the studio no longer has at all: the restore lost
        them. Not one the studio still has (out of the group: taking its contact out of the
        group is held, as any deletion the restore led to), nor one whose contact a client
        in the group names as its origin (made again already, by a run that stopped before
        recording it: that client takes the pair back). Only with inbound contacts (the
        plan makes clients from contacts only then)."""
        if not snapshot.host_rewound or not self.inbound or not made_from:
            return set()
        named = {record.origin for record in snapshot.host.values() if record.origin}
        candidates = [h for h in sorted(made_from) if gone[h] not in named]
        if not candidates:
            return set()
        still_there = self.host_items(candidates)
        return {h for h in candidates if h not in still_there}

    def fetch_remote(self, remote_id: str) -> RemoteRecord[ContactFields] | None:
        record = super().fetch_remote(remote_id)
        if record is not None and remote_id in self._users_own:
            return attrs.evolve(record, marker=None)  # read again: still the user's own
        return record

    # -- reading -------------------------------------------------------------------------

    def host_cursor(self) -> str | None:
        return self.source.change_cursor(self.user_id, self.group)

    def host_changes(self, cursor: str) -> HostChanges[Contact | Unreadable]:
        return self.source.changes_since(self.user_id, self.group, cursor)

    def host_listing(self) -> Iterable[Contact | Unreadable]:
        return listing_of(self.source.list_group(self.user_id, self.group), "list_group")

    def host_items(self, host_ids: Sequence[str]) -> Mapping[str, Contact | Unreadable]:
        found: dict[str, Contact | Unreadable] = {}
        for host_id in host_ids:
            contact = self.source.get_contact(self.user_id, host_id)
            if contact is not None:
                found[host_id] = contact
        return found

    def host_revision(self, item: Contact) -> str | None:
        return item.revision

    def host_record(self, item: Contact) -> HostRecord[ContactFields]:
        return HostRecord(
            id=item.id,
            kind=RecordKind.CONTACT,
            view=item.fields,
            revision=item.revision,
            updated=item.updated,
            origin=item.remote_id,
        )

    def list_remote(self, cursor: str | None) -> RemoteListing[RemoteContact]:
        group_id = self.group_id()
        if group_id is None:  # a dry run before the group exists: it is empty
            return RemoteListing((), complete=True, cursor=None)
        try:
            return self.backend.list_contacts(group_id, cursor)
        except NotFound:
            if self.ctx.dry_run:
                return RemoteListing((), complete=True, cursor=None)
            # the group was deleted in Google: make it again and list it from scratch
            self._forget_group()
            return self.backend.list_contacts(self._writable_group_id(), None)

    def renamed(self, listing: RemoteListing[RemoteContact]) -> dict[str, str]:
        """Contacts listed under a new id (Google changes a contact's resource name when it
        links the contact to a profile, and lists it under the new one naming the old)."""
        return {
            previous: contact.id for contact in listing.items for previous in contact.previous_ids
        }

    def successors(
        self,
        mapping: Mapping[str, MappingHead],
        remote: Mapping[str, RemoteRecord[ContactFields]],
        leaving: Collection[str],
    ) -> dict[str, str]:
        """A paired contact found gone, while the group holds one unpaired contact carrying
        calsync's marker for the same client, is followed there rather than restored beside
        it: the contact was given a new resource name (no listing said so), or the user put
        back a copy of it. (Not for a client leaving the sync: that contact is left to the
        Google user, as any copy is.)"""
        claims: dict[str, list[str]] = {}
        for record in remote.values():
            marker = record.marker
            if (
                marker is not None
                and marker.namespace == self.profile_id
                and _live_in_group(record)
            ):
                claims.setdefault(marker.host_id, []).append(record.id)
        found: dict[str, str] = {}
        for host_id, (*others, remote_id) in claims.items():
            row = mapping.get(host_id)
            if row is None or others or row.remote_id == remote_id or host_id in leaving:
                continue
            gone = remote.get(row.remote_id)
            if gone is not None and gone.deleted:
                found[row.remote_id] = remote_id
        return found

    def get_remote(self, remote_id: str) -> RemoteContact | None:
        return self.backend.get_contact(remote_id)

    def remote_record(self, item: RemoteContact) -> RemoteRecord[ContactFields]:
        return RemoteRecord(
            id=item.id,
            etag=item.etag,
            view=item.fields,
            marker=item.marker,
            deleted=item.deleted,
            updated=item.updated,
            in_scope=item.in_group,
        )

    def in_scope_and_readable(self, item: RemoteContact) -> bool:
        return not item.deleted and item.in_group and item.fields is not None

    def made_by_us(self, remote_id: str, marker: Marker) -> bool:
        # contacts have remote-chosen ids: only the token of a create's journaled intent, on
        # the contact that create made, proves it (a copy of an older contact carries an older
        # token, or none); once the pair is recorded the intent and the proof are gone
        intent = self.cursors.pending().get(marker.host_id)
        if intent is None or marker.made is None:
            return False
        return marker.made == creation_token(self.profile_id, marker.host_id, intent.created_at)

    # -- writes --------------------------------------------------------------------------

    @property
    def remote_batch_size(self) -> int:
        return self.backend.batch_size

    def write_remote(
        self, actions: Sequence[Action[ContactFields]]
    ) -> list[WriteResult[RemoteContact]]:
        writes = [self._contact_write(action) for action in actions]
        try:
            return list(self.backend.write_contacts(self._writable_group_id(), writes))
        except NotFound:
            if self._group_lost:
                raise
            # the group was deleted in Google since the listing (while empty, no contact
            # left it to say so): make it again, and write there
            self._forget_group()
            return list(self.backend.write_contacts(self._writable_group_id(), writes))

    def _forget_group(self) -> None:
        """The remembered group is gone: the next use makes it again."""
        self.ctx.store.set_remote_group(self.profile_id, None)
        self._group_id, self._group_lost = None, True

    def _contact_write(self, action: Action[ContactFields]) -> ContactWrite:
        if isinstance(action, CreateRemote):
            made = creation_token(self.profile_id, action.host_id, self.ctx.now)
            return CreateContact(action.fields, Marker(self.profile_id, action.host_id, made))
        if isinstance(action, Update):
            marker = Marker(self.profile_id, action.host_id)
            return UpdateContact(action.remote_id, action.fields, marker, action.etag or "")
        if isinstance(action, DeleteRemote):
            return DeleteContact(action.remote_id, keep=action.keep)
        raise TypeError(f"not a remote write: {action.describe()}")

    def create_host(self, action: CreateHost[ContactFields]) -> HostWrite[ContactFields]:
        answer = self.source.create_contact(
            self.user_id, self.group, action.fields, action.remote_id
        )
        contact = answer_of(answer, Contact, "create_contact")
        # (the contact is the Google user's: the executor has it remembered, with the chunk's
        # pairs, so that calsync never deletes it: made_from)
        return self._host_write(contact, action.fields)

    def update_host(self, action: Update[ContactFields]) -> HostWrite[ContactFields]:
        update = ContactUpdate(action.fields, action.to_host)
        contact = self.source.update_contact(self.user_id, action.host_id, update)
        return self._host_write(answer_of(contact, Contact, "update_contact"), action.fields)

    def delete_host(self, action: DeleteHost) -> None:
        self.source.remove_from_group(self.user_id, self.group, action.host_id)

    def _host_write(self, contact: Contact, expected: ContactFields) -> HostWrite[ContactFields]:
        revision = contact.revision if contact.fields == expected else None
        return HostWrite(contact.id, revision, contact.fields, RecordKind.CONTACT)


def _live_in_group(record: RemoteRecord[ContactFields]) -> bool:
    return record.in_scope and not record.deleted and record.view is not None

"""The planner's deletions (see :mod:`calsync.engine.planner`): a host item deleted (its remote
mirror deleted, or the pair forgotten when it is gone on both sides); a remote item deleted
(the host item restored to it, deleted, or unlinked, as the deletion rules say) or out of the
scope (put in it, its fields merged as any pair's); a remote item calsync made for a host
item that is gone (an orphan: deleted only when calsync provably made it) or that left the
sync scope (a stray: taken out of the scope and kept)."""

from __future__ import annotations

from collections.abc import Mapping

from calsync.engine.actions import CreateRemote, DeleteHost, DeleteRemote, Forget, News, Update
from calsync.engine.context import whole
from calsync.engine.fields import decode_base, encode_base
from calsync.engine.pairing import Pairing
from calsync.engine.plans import PlanRules
from calsync.engine.records import F, HostRecord, RemoteRecord, Snapshot
from calsync.model import Channel, Marker, RecordKind
from calsync.policies import RemoteDeletion
from calsync.state.base import MappingHead, MappingRow

__all__ = ["DeletionPlanning", "unlinked_pairs"]


class DeletionPlanning(Pairing[F]):
    """The steps of the planner that delete, restore, forget or set aside."""

    def _host_deleted(self, host_id: str) -> None:
        row = self.mapping.get(host_id)
        if row is None or host_id in self.done_hosts:
            return
        self.done_hosts.add(host_id)
        self.done_remotes.add(row.remote_id)
        remote = self.snapshot.remote.get(row.remote_id)
        channel = self.rules.channel
        if remote is not None and (remote.deleted or not remote.in_scope):
            self.actions.append(Forget(channel, host_id, "deleted on both sides"))
            return
        etag = remote.etag if remote is not None else row.remote_etag
        shown = remote.view if remote is not None and remote.view is not None else None
        if shown is None and isinstance(row, MappingRow):
            shown = decode_base(row.base, self.rules.fields_cls)
        name = _named(shown, host_id) if shown is not None else ""
        kept = self._kept(remote)
        self.actions.append(
            DeleteRemote(
                channel,
                host_id,
                row.remote_id,
                row.kind,
                etag,
                kept,
                name=name,
                news=None if kept else self._lost_remote_change(remote, row, name),
            )
        )

    def _lost_remote_change(
        self, remote: RemoteRecord[F] | None, row: MappingHead, name: str
    ) -> News | None:
        """What to tell when an item deleted in the studio had been changed in Google since
        the last sync: the change goes with the deletion, and the user should know (as when
        an item changed in the studio goes with its event deleted in Google)."""
        if remote is None or remote.view is None or not isinstance(row, MappingRow):
            return None  # (not listed: unchanged in Google since the last sync)
        if remote.etag == row.remote_etag or encode_base(remote.view) == row.base:
            return None
        kind = "unlinked appointment" if row.kind is RecordKind.UNLINKED else row.kind.value
        return News(
            f"the {kind} {name or row.host_id} was changed in Google, but deleted in the studio",
            "its Google event has been deleted, and the change with it",
            "its Google event would be deleted, and the change with it",
        )

    def _kept(self, remote: RemoteRecord[F] | None) -> bool:
        """Whether the contact of a client gone from the sync group (or from the studio) is
        kept, taken out of the group: when the rules say so, and always when it is the
        Google user's own (it carries no calsync marker: the contacts channel reads a
        contact the Google user made, and the studio's client was made from, so), which
        calsync never deletes."""
        if self.rules.channel is not Channel.CONTACTS:
            return False
        users_own = remote is not None and remote.marker is None
        return users_own or not self.rules.deletion_rules.delete_removed_contacts

    def _orphan(self, remote: RemoteRecord[F], marker: Marker) -> None:
        journaled = remote.view == self.snapshot.intents.get(marker.host_id)
        if not remote.provably_ours and not journaled and self._users_own(remote):
            self.copies.append(remote)  # a copy the Google user made: their event now
            return
        if not remote.provably_ours:
            self.warnings.append(
                f"left remote item {remote.id} in place: it carries calsync's marker for "
                f"{marker.host_id!r}, which is gone, but calsync did not create it"
            )
            return
        # as the pair's deletion would have gone: a contact is only taken out of the group
        # unless the rules delete removed contacts
        contacts = self.rules.channel is Channel.CONTACTS
        keep = contacts and not self.rules.deletion_rules.delete_removed_contacts
        self.warnings.append(
            f"remote item {remote.id} is to be "
            f"{'taken out of the sync group' if keep else 'deleted'}: calsync made it for host "
            f"item {marker.host_id}, which is gone or no longer synced"
        )
        kind = RecordKind.CONTACT if contacts else RecordKind.SESSION
        self.actions.append(
            DeleteRemote(
                self.rules.channel,
                marker.host_id,
                remote.id,
                kind,
                remote.etag,
                keep,
                orphan=True,
                name=_named(remote.view, marker.host_id) if remote.view is not None else "",
            )
        )

    def _stray(self, remote: RemoteRecord[F], marker: Marker) -> None:
        """An unpaired item named for a host item out of the scope (a contact made for a
        client just before it left the sync group, the make unrecorded): it leaves the scope
        as its pair would have, unlabelled and kept (whoever made it)."""
        news = News(
            f"remote item {remote.id} carries calsync's marker for {marker.host_id!r}, who is "
            "not in the sync group",
            "it was taken out of the sync group",
            "it would be taken out of the sync group",
        )
        kind = RecordKind.CONTACT if self.rules.channel is Channel.CONTACTS else RecordKind.SESSION
        self.actions.append(
            DeleteRemote(
                self.rules.channel,
                marker.host_id,
                remote.id,
                kind,
                remote.etag,
                keep=True,
                orphan=True,
                news=news,
                name=_named(remote.view, marker.host_id) if remote.view is not None else "",
            )
        )

    def _remote_deleted(
        self, host: HostRecord[F] | None, remote: RemoteRecord[F], row: MappingRow
    ) -> None:
        kind = host.kind if host is not None else row.kind
        rule = self._gone_rule(kind, remote)
        channel = self.rules.channel
        if rule is RemoteDeletion.UNLINK:
            self.actions.append(Forget(channel, row.host_id, "deleted remotely; link dropped"))
            return
        if rule is RemoteDeletion.DELETE_HOST:
            shown = host.view if host is not None else decode_base(row.base, self.rules.fields_cls)
            name = _named(shown, row.host_id)
            self.actions.append(DeleteHost(channel, row.host_id, row.remote_id, kind, name=name))
            return
        fields = host.view if host is not None else decode_base(row.base, self.rules.fields_cls)
        revision = host.revision if host is not None else row.host_revision
        host_id = host.id if host is not None else row.host_id
        # a converted item takes its predecessor's pair over (``replaces``)
        replaces = row.host_id if host_id != row.host_id else None
        what = f"{kind.value} {_named(fields, host_id)}"
        restored = self.claimed_by_marker.get(row.host_id)
        view = restored.view if restored is not None else None
        if restored is not None and view is not None and self._same_item(restored, row, fields):
            # restored already (by a run that crashed before recording it), or re-setup
            # finds our item: adopting it is never a loss, creating another is a duplicate
            self.done_remotes.add(restored.id)
            current = host or HostRecord(row.host_id, kind, fields, revision)
            self._adopt(current, restored, view, replaces)
            return
        if remote.deleted or remote.view is None:
            # told once the restore is made: a create that fails is an error, not news
            news = News(
                f"the {what} was deleted in Google", "it has been restored", "it would be restored"
            )
            # under the pair's id (contacts: the remote side chooses): calsync's own for the
            # item, or that of the event Google made, which the backend restores as what
            # Google says it is (an occurrence confirmed again in its series, a single event
            # revived under its id), or, when that cannot be, creates under calsync's id
            own = self.rules.remote_id_for(host_id)
            remote_id = row.remote_id if own is not None else None
            self.actions.append(
                CreateRemote(
                    channel, host_id, kind, fields, remote_id, revision, True, replaces, news=news
                )
            )
            return
        self._put_back(host, remote, remote.view, row, what, replaces)

    def _put_back(
        self,
        host: HostRecord[F] | None,
        remote: RemoteRecord[F],
        remote_view: F,
        row: MappingRow,
        what: str,
        replaces: str | None,
    ) -> None:
        """A live remote item of a pair out of the scope: a contact the Google user took out
        of the group, or one not in the group the studio syncs now (its sync group changed).
        The write puts it in the scope (an update always puts a contact in the group) and
        brings the pair to its merge, as any pair's: an edit on either side since the last
        sync is kept, and a field both changed is a conflict for the policy."""
        base = decode_base(row.base, self.rules.fields_cls)
        kind = host.kind if host is not None else row.kind
        fields, to_host, conflicts = self.three_way.merge(
            kind, base, host.view if host is not None else base, remote_view, host, remote
        )
        if self.rules.channel is Channel.CONTACTS:
            news = News(
                f"the {what} was not in the Google group",
                "it has been put in it",
                "it would be put in it",
            )
        else:
            news = News(
                f"the {what} was not an ordinary event in Google",
                "it has been written again",
                "it would be written again",
            )
        self.actions.append(
            Update(
                self.rules.channel,
                host.id if host is not None else row.host_id,
                row.remote_id,
                kind,
                fields,
                True,
                frozenset(to_host),
                remote.etag,
                host.revision if host is not None else row.host_revision,
                tuple(conflicts),
                replaces,
                news=news,
            )
        )

    def _users_own(self, remote: RemoteRecord[F]) -> bool:
        """Whether an unpaired event carrying our marker that calsync did not provably make
        comes in as the Google user's own (a copy they made): with inbound calendar sync.
        (Contacts are never copied so: People has no duplicate.)"""
        calendar = self.rules.channel is Channel.CALENDAR
        return calendar and self.rules.inbound and remote.in_scope and remote.view is not None

    def _same_item(self, claimant: RemoteRecord[F], row: MappingRow, fields: F) -> bool:
        """Whether the live remote item claiming a pair whose remote item was deleted is that
        item again: one calsync provably made (a restore that crashed before its record), or
        one holding what the pair last agreed on, the host item's values or a journaled
        create's (a verbatim copy, or a restore under an id the remote side chose). A copy
        the remote user changed is theirs: the restore leaves it, and it comes in as theirs."""
        if claimant.provably_ours:
            return True
        intent = self.snapshot.intents.get(row.host_id)
        agreed = decode_base(row.base, self.rules.fields_cls)
        return claimant.view in (agreed, fields) or claimant.view == intent

    def _gone_rule(self, kind: RecordKind, remote: RemoteRecord[F]) -> RemoteDeletion:
        """The rule for a pair whose remote item is deleted or out of the scope."""
        if self.rules.scope_changed and not remote.deleted and remote.view is not None:
            return RemoteDeletion.RESTORE  # out of a scope the user has just changed
        return self._deletion_rule(kind)

    def _deletion_rule(self, kind: RecordKind) -> RemoteDeletion:
        rules = self.rules.deletion_rules
        if kind is RecordKind.UNLINKED and not self.rules.inbound:
            return RemoteDeletion.UNLINK
        rule = rules.for_kind(kind)
        if rule is RemoteDeletion.DELETE_HOST and not self.rules.inbound:
            return RemoteDeletion.RESTORE
        return rule


def unlinked_pairs(
    snapshot: Snapshot[F], mapping: Mapping[str, MappingHead], rules: PlanRules[F]
) -> dict[str, F]:
    """The pairs a plan of ``snapshot`` unlinks (their remote item deleted or out of the
    scope, and the rules say ``UNLINK``), by host id, each with the fields of its host item as
    it stays: what a channel remembers so that the item is not sent again unchanged."""
    gone = [r for r in snapshot.remote.values() if r.deleted or not r.in_scope or r.view is None]
    if not gone:
        return {}
    planning = DeletionPlanning(snapshot, mapping, rules)
    unlinked: dict[str, F] = {}
    for remote in gone:
        head = planning.by_remote.get(remote.id)
        if head is None or head.host_id in snapshot.host_deleted:
            continue
        host = snapshot.host.get(head.host_id)
        kind = host.kind if host is not None else head.kind
        if planning._gone_rule(kind, remote) is RemoteDeletion.UNLINK:
            unlinked[head.host_id] = (
                host.view if host is not None else decode_base(whole(head).base, rules.fields_cls)
            )
    return unlinked


def _named(fields: object, host_id: str) -> str:
    """``'Headshots - Priya Shah' (session-2)``: what a user recognises, then the id."""
    name = getattr(fields, "title", None)
    if name is None:
        parts = (getattr(fields, a, "") for a in ("given_name", "family_name", "organization"))
        name = " ".join(p for p in parts if p)
    return f"{name!r} ({host_id})" if name else host_id

"""The planner: a pure function from what both sides hold now to a list of actions.

``plan(snapshot, mapping, rules)`` looks at each item once:

* a host item and its remote mirror are merged **field by field, three ways** against the base
  stored at the last sync: a field changed on one side travels to the other (as its direction
  allows); a field changed on both sides to different values is a conflict for the policy;
  equal values are converged whatever the base says;
* a side is unchanged when its revision (host) or etag (remote) is the one recorded, or when
  its fields encode to the recorded base — so a quiet run costs lookups, and an etag or
  revision that moved without a content change is recorded, never merged;
* deletions are only ever taken from *explicit* evidence the snapshot collected (a tombstone,
  or an absence that a direct read confirmed); an item merely missing from a listing is not in
  the snapshot at all, so the planner cannot delete it;
* a remote item carrying calsync's marker but no mapping is deleted only when calsync provably
  made it (``RemoteRecord.provably_ours``) and its host item is gone; anything else is left
  alone with a warning;
* an item adopted after a crash is merged against the journaled intent's fields, so a remote
  edit made since is an edit, not overwritten;
* a run that would delete too much of one side has those deletions *held* (DeletionRules).

The planner never performs I/O; the executor does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from functools import cached_property

from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Forget,
    Link,
    News,
    Update,
)
from calsync.engine.context import whole
from calsync.engine.deletions import DeletionPlanning, _named
from calsync.engine.fields import decode_base, encode_base
from calsync.engine.plans import Plan, PlanRules, deletion_key, hold_mass_deletions
from calsync.engine.records import F, HostRecord, RemoteRecord, Snapshot
from calsync.model import Channel, Marker, RecordKind
from calsync.policies import Direction, RemoteDeletion
from calsync.state.base import MappingHead, MappingRow

__all__ = ["LOST_BY_THE_HOST", "Plan", "PlanRules", "plan"]  # (Plan, PlanRules: in .plans)

#: The reason a channel forgets the pair of a host item that a host gone back in time lost,
#: when it can prove the item was made from the pair's remote item, the remote user's own (the
#: calendar channel: an unlinked appointment; the contacts channel: the store's origin of the
#: client names the contact, and the studio no longer has the client). The plan makes the
#: item again from it (``CreateHost``) instead of forgetting the pair: the channel drops the
#: lost pair itself when the host has made the item, in the commit that records the new pair
#: (a create that fails, or a run that stops first, leaves the pair, and the next run, the
#: host still behind its cursor, tries again). See
#: :meth:`~calsync.engine.channel.ChannelAdapter.bring_back_lost`.
LOST_BY_THE_HOST = "lost by the host; made again from its remote item"


def plan(
    snapshot: Snapshot[F],
    mapping: Mapping[str, MappingHead],
    rules: PlanRules[F],
    *,
    confirm_deletions: bool | Collection[str] = False,
    mapped: int | Callable[[], int] | None = None,
) -> Plan[F]:
    """Plan one channel of one profile. Pure: same inputs, same plan.

    ``confirm_deletions``: the deletions let through whatever their number (``True``: all;
    else their :func:`~calsync.engine.plans.deletion_key`, as an earlier plan held them).

    ``mapping`` may hold only the rows the snapshot's items can touch (a run over change
    feeds); ``mapped`` is then how many rows the channel has in all (default: ``mapping``'s),
    or how to count them when the plan deletes something.
    """
    planner = _Planner(snapshot, mapping, rules)
    planner.run()
    if snapshot.host_rewound:
        planner.bring_back()
    total = len(mapping) if mapped is None else mapped
    actions, rewound = hold_rewound_deletions(planner.actions, snapshot, confirm_deletions)
    actions, held = hold_mass_deletions(actions, total, rules.deletion_rules, confirm_deletions)
    warnings = list(planner.warnings)
    if rewound:
        warnings.append(
            f"{len(rewound)} items are no longer in the studio, which went back in time "
            "(restored from a backup?): they are kept in Google. Add them to the studio "
            "again, or confirm these deletions to delete them from Google too"
        )
    if held:
        warnings.append(
            f"{len(held)} deletions held: they exceed the mass-deletion limit; "
            "confirm them to let them happen"
        )
    return Plan(tuple(actions), tuple(rewound + held), tuple(warnings))


def hold_rewound_deletions(
    actions: list[Action[F]],
    snapshot: Snapshot[F],
    confirmed: bool | Collection[str],
) -> tuple[list[Action[F]], list[DeleteRemote | DeleteHost]]:
    """When the host went back in time, hold every remote deletion its absences led to,
    whatever their number: an item the host lost with its restore is no deletion the user
    asked for, and Google may hold the only copy of it. Held as a mass deletion is (the
    user confirms them by :func:`~calsync.engine.plans.deletion_key`). So is, in any run,
    the deletion of the pair of an item lost under an id the host gave again
    (``Snapshot.host_reused``)."""
    if not (snapshot.host_rewound or snapshot.host_reused) or confirmed is True:
        return actions, []
    let_through = frozenset(confirmed) if confirmed is not False else frozenset()
    kept: list[Action[F]] = []
    held: list[DeleteRemote | DeleteHost] = []
    for action in actions:
        if (
            isinstance(action, DeleteRemote)
            and (snapshot.host_rewound or action.host_id in snapshot.host_reused)
            and deletion_key(action) not in let_through
        ):
            held.append(action)
        else:
            kept.append(action)
    return kept, held


class _Planner(DeletionPlanning[F]):
    """Plans each host item, then each host deletion, then each remote item not yet paired."""

    def run(self) -> None:
        for host in self.snapshot.host.values():
            self._host_item(host)
        for host_id in sorted(self.snapshot.host_deleted):
            self._host_deleted(host_id)
        for host_id, reason in self.snapshot.forgotten.items():
            if host_id in self.mapping and host_id not in self.done_hosts:
                self.done_hosts.add(host_id)
                self.actions.append(Forget(self.rules.channel, host_id, reason))
        for remote in self.snapshot.remote.values():
            if remote.id not in self.done_remotes:
                self._remote_item(remote)
        if self.copies:
            self._copies_come_in()

    def bring_back(self) -> None:
        """The host went back in time and lost items made from the remote user's own (an
        unlinked appointment, made from a Google user's event; a client, made from a contact
        the Google user added to the group): the channel forgets each lost pair with
        :data:`LOST_BY_THE_HOST`, and the plan makes the item again from its remote item
        instead (``CreateHost``), which is never deleted from the remote side nor held for
        the user. The channel drops the lost pair as it makes the item, in the executor's
        commit that records the new one; no ``Forget`` comes before it. The bring-backs go
        first, so that the executor's first chunk makes them (the evidence that the host
        went back stays until they are made)."""
        if not self.rules.inbound:
            return
        back: list[Action[F]] = []
        rest: list[Action[F]] = []
        for action in self.actions:
            made = self._brought_back(action)
            if made is None:
                rest.append(action)
            else:
                back.append(made)
        self.actions = back + rest

    def _brought_back(self, action: Action[F]) -> CreateHost[F] | None:
        """What brings back the lost item ``action`` forgets the pair of, or ``None``: not
        one (or its remote item is gone too: the pair is forgotten)."""
        if not isinstance(action, Forget) or action.reason != LOST_BY_THE_HOST:
            return None
        head = self.mapping.get(action.host_id)
        if head is None:
            return None
        remote = self.snapshot.remote.get(head.remote_id)
        etag: str | None
        if remote is not None and (remote.deleted or not remote.in_scope):
            return None  # (gone from the remote side too: nothing to bring back)
        if remote is not None and remote.view is not None:
            view, etag = remote.view, remote.etag
        else:  # unchanged remotely since the last sync (not listed)
            row = whole(head)
            view, etag = decode_base(row.base, self.rules.fields_cls), row.remote_etag
        if etag is None:
            return None
        name = _named(view, head.host_id)
        if self.rules.channel is Channel.CONTACTS:
            self.warnings.append(
                f"the client {name} is no longer in the studio, which went back in time: it "
                "was made again from the Google user's contact it came from"
            )
        else:
            self.warnings.append(
                f"the unlinked appointment {name} is no longer in the studio, which went back "
                "in time: it was made again from its Google event"
            )
        return CreateHost(self.rules.channel, head.remote_id, view, etag)

    def _copies_come_in(self) -> None:
        """Copies made in Google come in last, unless a restore took one over (whatever the
        listing's order: the original's tombstone may be listed after its copy)."""
        taken = {a.remote_id for a in self.actions if isinstance(a, Update | Link)}
        for copy in self.copies:
            if copy.id not in taken and copy.view is not None:
                self.actions.append(CreateHost(self.rules.channel, copy.id, copy.view, copy.etag))

    # -- host side -----------------------------------------------------------------------

    def _host_item(self, host: HostRecord[F]) -> None:
        if host.id in self.done_hosts:
            return
        self.done_hosts.add(host.id)
        row = self.mapping.get(host.id)
        replaces = host.replaces if row is None else None
        taken_back = replaces is None and row is None and self._lost_holder(host) is not None
        if taken_back:
            replaces = self._lost_holder(host)
        twin = self.lost_twins.get(host.id) if replaces is None and row is None else None
        if twin is not None and self._adoptable(host) is None:
            replaces = twin
        else:
            twin = None
        if replaces is not None and self._takes_over(host, replaces):
            row = self.mapping[replaces]
            self.done_hosts.add(replaces)
            self.successors[replaces] = host.id
        else:
            replaces = None
        if row is None:
            self._unmapped_host_item(host)
            return
        self.done_remotes.add(row.remote_id)
        remote = self.snapshot.remote.get(row.remote_id)
        if taken_back and replaces is not None:
            contacts = self.rules.channel is Channel.CONTACTS
            self.warnings.append(
                f"item {replaces} is no longer in the studio, which went back in time: its "
                f"Google {'contact' if contacts else 'event'}, which {host.kind.value} "
                f"{_named(host.view, host.id)} came from, is kept and paired with that item "
                "again"
            )
            if self._stale(host, whole(row)):
                self._bring_forward(host, remote, whole(row), replaces)
                return
        elif twin is not None and replaces is not None:
            lost = decode_base(whole(row).base, self.rules.fields_cls)
            self.warnings.append(
                f"the client {_named(lost, replaces)} is no longer in the studio, which went "
                f"back in time: the client {host.id}, the same in every synced field, takes "
                "its place, and its Google contact is kept and paired with it"
            )
        self._reconcile(host, remote, row, replaces)

    def _lost_holder(self, host: HostRecord[F]) -> str | None:
        """In a run where the host went back in time: the host item that holds the pair of
        the remote item the unpaired ``host`` came from, when the host lost it with its
        restore (an unlinked appointment converted into a session after the backup, say).
        ``host`` takes that pair back, as the host's loss undid the conversion; written
        again, its event would be a duplicate of the one the pair keeps."""
        if not self.snapshot.host_rewound or host.origin is None:
            return None
        head = self.by_remote.get(host.origin)
        if head is None or head.host_id not in self.snapshot.host_deleted:
            return None
        return head.host_id

    @cached_property
    def lost_twins(self) -> dict[str, str]:
        """In a run where the host went back in time (the contacts channel): the unpaired
        host items that take over the pair of a client the host lost, by host id. A client
        made again under a new id (from another user's contact, or by staff) cannot always
        be proven the lost one (no origin of this profile names its contact); one whose
        synced fields encode to exactly the stored base of one lost pair, which no other
        unpaired client matches, is taken for it: its contact is kept and paired with it,
        rather than held for deletion while a second contact is made. Anything less sure
        (two lost pairs or two clients alike, a field that differs) is left as any new
        client and lost pair are. A lost pair here is one whose deletion a host gone back in
        time holds: its remote item is live and in scope and carries calsync's marker (not
        the Google user's own contact, whose pair keeps what tells so), no host item names
        it as its origin or predecessor (that one takes it back), and no id given again
        holds it. Not for calendar items: identical titles and times are common."""
        snapshot = self.snapshot
        if not snapshot.host_rewound or self.rules.channel is not Channel.CONTACTS:
            return {}
        named = {h.origin for h in snapshot.host.values() if h.origin is not None}
        named.update(h.replaces for h in snapshot.host.values() if h.replaces is not None)
        lost: dict[str, list[str]] = {}
        for host_id in sorted(snapshot.host_deleted - snapshot.host_reused):
            head = self.mapping.get(host_id)
            if head is None or host_id in named or head.remote_id in named:
                continue
            remote = snapshot.remote.get(head.remote_id)
            if remote is not None and (remote.deleted or not remote.in_scope):
                continue  # (gone on both sides: the pair is forgotten)
            if remote is not None and remote.marker is None:
                continue  # (the Google user's own contact: what tells so stays with its pair)
            lost.setdefault(whole(head).base, []).append(host_id)
        if not lost:
            return {}
        unpaired: dict[str, list[str]] = {}
        for host in snapshot.host.values():
            if host.id not in self.mapping:
                unpaired.setdefault(encode_base(host.view), []).append(host.id)
        return {
            new[0]: gone[0]
            for base, gone in lost.items()
            if len(gone) == 1 and len(new := unpaired.get(base, [])) == 1
        }

    def _takes_over(self, host: HostRecord[F], replaces: str) -> bool:
        """Whether ``host``, converted from ``replaces``, takes its pair over: only one item
        can (two naming one predecessor is the host's mistake: the second is a new item)."""
        if replaces not in self.mapping or replaces in self.snapshot.host:
            return False
        first = self.successors.get(replaces)
        if first is None and replaces not in self.done_hosts:
            return True
        if first is not None:
            self.warnings.append(
                f"item {host.id} was synced as a new item: it replaces {replaces}, as item "
                f"{first} does, which took its place"
            )
        return False

    def _unmapped_host_item(self, host: HostRecord[F]) -> None:
        remote = self._adoptable(host)
        if remote is None:
            self.actions.append(self._create(host, self.rules.remote_id_for(host.id)))
            return
        self.done_remotes.add(remote.id)
        if remote.deleted and self._deletion_lost(host, remote):
            name = _named(host.view, host.id)
            self.warnings.append(
                f"the unlinked appointment {name} came back with the studio's backup, but its "
                "Google event was deleted since: it is deleted from the studio again"
            )
            self.actions.append(
                DeleteHost(self.rules.channel, host.id, remote.id, host.kind, name=name)
            )
            return
        if remote.deleted or remote.view is None:
            # no pair says this profile synced them: a gone origin is no deletion the user
            # meant for the studio (a calendar switched back, an item reassigned from another
            # user); the item is written again
            self.actions.append(self._create(host, self.rules.remote_id_for(host.id) or None))
            return
        self._adopt(host, remote, remote.view)

    def _deletion_lost(self, host: HostRecord[F], remote: RemoteRecord[F]) -> bool:
        """Whether an unpaired unlinked appointment is one the host lost the deletion of: the
        host went back in time, and the Google event it came from was deleted after the
        host's copy last changed (Google's deletion is the newer version, which stands, as
        the deletion rules say it does for a pair)."""
        return (
            self.snapshot.host_rewound
            and host.kind is RecordKind.UNLINKED
            and remote.id == host.origin
            and host.updated is not None
            and remote.updated is not None
            and _earlier(host.updated, remote.updated)
            and self._deletion_rule(host.kind) is RemoteDeletion.DELETE_HOST
        )

    def _adoptable(self, host: HostRecord[F]) -> RemoteRecord[F] | None:
        """The unpaired remote item ``host`` is to be paired with: the live one it came from
        (its origin; a converted item keeps its predecessor's), else one carrying its marker
        (or its predecessor's), else its origin's tombstone, or ``None``."""
        origin = self._origin(host)
        if origin is not None and not origin.deleted and origin.view is not None:
            return origin
        claimed = self.claimed_by_marker.get(host.id)
        if claimed is None and host.replaces is not None:
            # converted while unpaired (e.g. after a calendar switch): the event of the item
            # it replaces follows it, as a conversion always does
            claimed = self.claimed_by_marker.get(host.replaces)
        return claimed or origin

    def _origin(self, host: HostRecord[F]) -> RemoteRecord[F] | None:
        origin = host.origin
        if origin is None or origin in self.by_remote or origin in self.done_remotes:
            return None
        return self.snapshot.remote.get(origin)

    def _taken_by_another_profile(self, kind: RecordKind, remote: RemoteRecord[F]) -> bool:
        """Whether another profile has stamped the pair's event as its own item (two users
        converted one event of a shared calendar, and theirs was written first): it carries
        their marker, and ``kind`` would carry ours. (An unlinked appointment's event carries
        no marker: it may share one. A copy of a colleague's event carries no other
        profile's marker by now: the channel dropped it, as that profile does not sync it.)"""
        marker = remote.marker
        return (
            self.rules.channel is Channel.CALENDAR
            and kind is not RecordKind.UNLINKED
            and marker is not None
            and marker.namespace != self.rules.namespace
        )

    # -- remote side ---------------------------------------------------------------------

    def _remote_item(self, remote: RemoteRecord[F]) -> None:
        self.done_remotes.add(remote.id)
        row = self.by_remote.get(remote.id)
        if row is not None:
            if row.host_id not in self.done_hosts:
                self.done_hosts.add(row.host_id)
                self._reconcile(None, remote, row, None)
            return
        if remote.deleted or remote.view is None:
            return
        marker = remote.marker
        if marker is None:
            if self.rules.inbound and remote.in_scope:
                self.actions.append(
                    CreateHost(self.rules.channel, remote.id, remote.view, remote.etag)
                )
            return
        if marker.namespace != self.rules.namespace:
            return  # another profile's item
        if not remote.in_scope:
            # out of the sync scope (a contact out of the sync group: taken out by calsync
            # when its client left, or by the user): not synced, nothing to do or to tell
            return
        if marker.host_id in self.snapshot.host_deleted:
            self._orphan(remote, marker)
        elif marker.host_id in self.snapshot.host_out_of_scope:
            self._stray(remote, marker)
        elif self._copy_of_a_pair(remote, marker):
            # the Google user duplicated one of our events (the copy carries its private
            # marker): a new event of theirs, which comes in as any Google-made event does
            self.copies.append(remote)
        elif (row := self.mapping.get(marker.host_id)) is not None and row.remote_id != remote.id:
            # a second item for a paired host item (a contact restored from Google's trash
            # after calsync restored it, a merge's survivor): left in place, and named
            self.warnings.append(
                f"left remote item {remote.id} in place: it carries calsync's marker for "
                f"{marker.host_id!r}, which is synced with remote item {row.remote_id}"
            )
        # else ours, but the host side is unknown this run: left alone

    def _copy_of_a_pair(self, remote: RemoteRecord[F], marker: Marker) -> bool:
        """An unpaired event carrying the marker of a host item paired with another event,
        which calsync did not make: a copy made in Google (:meth:`_users_own`)."""
        if remote.provably_ours or not self._users_own(remote):
            return False
        row = self.mapping.get(marker.host_id)
        return row is not None and row.remote_id != remote.id

    def _leave_to_another_profile(
        self, host: HostRecord[F] | None, remote: RemoteRecord[F], row: MappingRow
    ) -> None:
        """The pair's event is another profile's now (two users converted one event of a
        shared calendar, and it carries their marker): the pair ends, the event is left to
        them, and this item gets one of its own, as a new item would."""
        kind = host.kind if host is not None else row.kind
        fields = host.view if host is not None else decode_base(row.base, self.rules.fields_cls)
        host_id = host.id if host is not None else row.host_id
        revision = host.revision if host is not None else row.host_revision
        news = News(
            f"the {kind.value} {host_id} was synced with Google event {remote.id}, which "
            "another user's sync has made their own session's",
            "it has been given an event of its own; that one is left to them",
            "it would be given an event of its own; that one would be left to them",
        )
        self.actions.append(
            CreateRemote(
                self.rules.channel,
                host_id,
                kind,
                fields,
                self.rules.remote_id_for(host_id),
                revision,
                replaces=row.host_id if host_id != row.host_id else None,
                news=news,
            )
        )

    # -- pairs ---------------------------------------------------------------------------

    def _unchanged(
        self, revision: str | None, recorded: str | None, view: F, row: MappingRow
    ) -> bool:
        if revision is not None and revision == recorded:
            return True
        return encode_base(view) == row.base

    def _stale(self, host: HostRecord[F], row: MappingRow) -> bool:
        """Whether the host's copy of a pair is older than the pair's last sync, in a run
        where the host went back in time: what differs is the host's loss, not its edit."""
        return (
            self.snapshot.host_rewound
            and host.updated is not None
            and _earlier(host.updated, row.synced_at)
        )

    def _bring_forward(
        self,
        host: HostRecord[F],
        remote: RemoteRecord[F] | None,
        row: MappingRow,
        replaces: str | None = None,
    ) -> None:
        """A host item older than its last sync (the host went back in time): Google keeps
        the version both sides last agreed on, or its own edit since; the host takes the
        fields that sync both ways, and the others wait for the studio's next edit of the
        item (its old revision is recorded, so it is not taken for an edit again).
        ``replaces``: the lost item whose pair ``host`` takes back."""
        base = decode_base(row.base, self.rules.fields_cls)
        remote_view = remote.view if remote is not None and remote.view is not None else base
        etag = remote.etag if remote is not None else row.remote_etag
        names = self.three_way.names
        differing = [n for n in names if getattr(host.view, n) != getattr(remote_view, n)]
        to_host = frozenset(
            name
            for name in differing
            if self.rules.field_rules.direction(host.kind, name, self.rules.inbound)
            is not Direction.OUT
        )
        what = f"{host.kind.value} {_named(remote_view, host.id)}"
        kept = "Google's newer version was kept"
        if to_host:
            kept += " and brought back to the studio"
        if len(to_host) < len(differing):
            kept += "; the studio's older one is sent again when the item is next edited there"
        self.warnings.append(
            f"the studio's copy of the {what} is older than its last sync (the studio went "
            f"back in time): {kept}"
        )
        channel = self.rules.channel
        if to_host:
            self.actions.append(
                Update(
                    channel,
                    host.id,
                    row.remote_id,
                    host.kind,
                    remote_view,
                    False,
                    to_host,
                    etag,
                    host.revision,
                    replaces=replaces,
                )
            )
        else:
            self.actions.append(
                Link(
                    channel,
                    host.id,
                    row.remote_id,
                    host.kind,
                    remote_view,
                    etag,
                    host.revision,
                    replaces=replaces,
                )
            )

    def _reconcile(
        self,
        host: HostRecord[F] | None,
        remote: RemoteRecord[F] | None,
        head: MappingHead,
        replaces: str | None,
    ) -> None:
        row = whole(head)  # the snapshot read the whole rows of the pairs it holds
        if remote is not None and (remote.deleted or not remote.in_scope or remote.view is None):
            self._remote_deleted(host, remote, row)
            return
        if remote is not None and self._taken_by_another_profile(
            host.kind if host is not None else row.kind, remote
        ):
            self._leave_to_another_profile(host, remote, row)
            return
        host_changed = host is not None and (
            replaces is not None
            or not self._unchanged(host.revision, row.host_revision, host.view, row)
        )
        if host is not None and host_changed and replaces is None and self._stale(host, row):
            self._bring_forward(host, remote, row)
            return
        remote_changed = remote is not None and (
            remote.view is not None
            and not self._unchanged(remote.etag, row.remote_etag, remote.view, row)
        )
        etag = remote.etag if remote is not None else row.remote_etag
        revision = host.revision if host is not None else row.host_revision
        kind = host.kind if host is not None else row.kind
        host_id = host.id if host is not None else row.host_id
        channel = self.rules.channel
        if not host_changed and not remote_changed:
            if replaces is None and etag == row.remote_etag and revision == row.host_revision:
                return
            if replaces is None:  # only an etag or revision moved: record it
                fields = decode_base(row.base, self.rules.fields_cls)
                self.actions.append(
                    Link(channel, host_id, row.remote_id, kind, fields, etag, revision)
                )
                return
        base = decode_base(row.base, self.rules.fields_cls)
        host_view = host.view if host is not None else base
        remote_view = remote.view if remote is not None and remote.view is not None else base
        fields, to_host, conflicts = self.three_way.merge(
            kind, base, host_view, remote_view, host, remote
        )
        to_remote = fields != remote_view or (
            (remote is not None or replaces is not None)
            and self._needs_marker(kind, host_id, remote)
        )
        if to_remote or to_host:
            self.actions.append(
                Update(
                    channel,
                    host_id,
                    row.remote_id,
                    kind,
                    fields,
                    to_remote,
                    frozenset(to_host),
                    etag,
                    revision,
                    tuple(conflicts),
                    replaces,
                )
            )
        elif replaces is not None or etag != row.remote_etag or revision != row.host_revision:
            self.actions.append(
                Link(channel, host_id, row.remote_id, kind, fields, etag, revision, replaces)
            )


def _earlier(first: datetime, second: datetime) -> bool:
    """Whether ``first`` is an earlier instant than ``second``: two aware times of one
    ``tzinfo`` compare by wall time in Python, ``fold`` ignored (PEP 495), so a time in the
    repeated hour of a DST change would pass for earlier than one before it."""
    return first.astimezone(UTC) < second.astimezone(UTC)

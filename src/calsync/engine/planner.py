"""The planner: a pure function from what both sides hold now to a list of actions.

``plan(snapshot, mapping, rules)`` looks at each item once:

* a host item and its remote mirror are merged **field by field, three ways** against the base
  stored at the last sync: a field changed on one side travels to the other (as its direction
  allows); a field changed on both sides to different values is a conflict for the policy;
  equal values are converged whatever the base says;
* the host revision and remote etag let unchanged pairs be skipped without decoding anything,
  so a quiet run over 100k items costs dictionary lookups;
* deletions are only ever taken from *explicit* evidence the snapshot collected (a tombstone,
  or an absence that a direct read confirmed); an item merely missing from a listing is not in
  the snapshot at all, so the planner cannot delete it;
* a run that would delete too much of one side has those deletions *held* (DeletionRules).

The planner never performs I/O; the executor does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from attrs import field, frozen

from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Forget,
    Link,
    ResolvedConflict,
    Update,
)
from calsync.engine.fields import decode_base, field_names
from calsync.model import Channel, ContactFields, EventFields, Marker
from calsync.policies import (
    ConflictPolicy,
    DeletionRules,
    Direction,
    FieldConflict,
    FieldRules,
    RemoteDeletion,
    Side,
    resolve,
)
from calsync.state.base import MappingRow

__all__ = ["HostRecord", "Plan", "PlanRules", "RemoteRecord", "Snapshot", "plan"]

UNLINKED = "unlinked"
CONTACT = "contact"


@frozen
class HostRecord:
    """A host item as the planner sees it: ``view`` holds the fields Google should show."""

    id: str
    kind: str
    view: Any
    revision: str | None = None
    updated: datetime | None = None
    replaces: str | None = None
    origin: str | None = None


@frozen
class RemoteRecord:
    """A remote item as the planner sees it (``view`` is ``None`` for a tombstone)."""

    id: str
    etag: str
    view: Any | None
    marker: Marker | None = None
    deleted: bool = False
    updated: datetime | None = None
    in_scope: bool = True


@frozen
class Snapshot:
    """What the snapshot phase established about both sides.

    Attributes:
        host: host items to consider, by id (all of them, or only changed ones).
        host_deleted: host ids confirmed deleted (by a change feed or a direct read).
        remote: remote items seen, by id, tombstones included.
        forgotten: mapped host ids to drop without touching either side, with the reason
            (they left the window).
    """

    host: Mapping[str, HostRecord]
    host_deleted: frozenset[str] = frozenset()
    remote: Mapping[str, RemoteRecord] = field(factory=dict)
    forgotten: Mapping[str, str] = field(factory=dict)


@frozen
class PlanRules:
    """Everything the planner needs to know about the profile."""

    channel: Channel
    namespace: str
    inbound: bool
    field_rules: FieldRules
    conflict_policy: ConflictPolicy
    deletion_rules: DeletionRules
    remote_id_for: Callable[[str], str | None]


@frozen
class Plan:
    """The actions to perform, the deletions held back, and warnings for the user."""

    actions: tuple[Action, ...]
    held: tuple[Action, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[ResolvedConflict, ...]:
        """Every conflict the plan resolves."""
        return tuple(c for a in self.actions if isinstance(a, Update) for c in a.conflicts)


def plan(
    snapshot: Snapshot,
    mapping: Mapping[str, MappingRow],
    rules: PlanRules,
    *,
    confirm_deletions: bool = False,
) -> Plan:
    """Plan one channel of one profile. Pure: same inputs, same plan."""
    planner = _Planner(snapshot, mapping, rules)
    planner.run()
    actions, held = _hold_mass_deletions(
        planner.actions, len(mapping), rules.deletion_rules, confirm_deletions
    )
    warnings = list(planner.warnings)
    if held:
        warnings.append(
            f"{len(held)} deletions held: they exceed the mass-deletion limit; "
            "confirm them to let them happen"
        )
    return Plan(tuple(actions), tuple(held), tuple(warnings))


def _hold_mass_deletions(
    actions: list[Action], mapped: int, rules: DeletionRules, confirmed: bool
) -> tuple[list[Action], list[Action]]:
    """Split off the deletions of each kind that exceed the mass-deletion limit.

    Linear in the actions: held deletions are told apart by kind, never looked up by
    (attrs) equality in a list, which made 16k held deletions take 20 s.
    """
    if confirmed:
        return actions, []
    held: list[Action] = []
    held_kinds: list[type] = []
    for kind in (DeleteRemote, DeleteHost):
        deletions = [a for a in actions if isinstance(a, kind)]
        if rules.holds(len(deletions), mapped):
            held.extend(deletions)
            held_kinds.append(kind)
    if not held:
        return actions, []
    kinds = tuple(held_kinds)
    return [a for a in actions if not isinstance(a, kinds)], held


class _Planner:
    def __init__(
        self, snapshot: Snapshot, mapping: Mapping[str, MappingRow], rules: PlanRules
    ) -> None:
        self.snapshot = snapshot
        self.mapping = mapping
        self.rules = rules
        self.fields_cls: type[EventFields | ContactFields] = (
            EventFields if rules.channel is Channel.CALENDAR else ContactFields
        )
        self.names = field_names(rules.channel)
        self.done_hosts: set[str] = set()
        self.done_remotes: set[str] = set()
        self.actions: list[Action] = []
        self.warnings: list[str] = []

    @cached_property
    def by_remote(self) -> dict[str, MappingRow]:
        """Mapping rows by remote id (built only when a remote item or adoption needs it)."""
        return {row.remote_id: row for row in self.mapping.values()}

    @cached_property
    def claimed_by_marker(self) -> dict[str, RemoteRecord]:
        """Unmapped live remote items carrying this profile's marker, by the host id named."""
        return {
            r.marker.host_id: r
            for r in self.snapshot.remote.values()
            if r.marker is not None
            and r.marker.namespace == self.rules.namespace
            and not r.deleted
            and r.id not in self.by_remote
        }

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

    # -- host side -----------------------------------------------------------------------

    def _host_item(self, host: HostRecord) -> None:
        if host.id in self.done_hosts:
            return
        self.done_hosts.add(host.id)
        row = self.mapping.get(host.id)
        replaces = host.replaces if row is None else None
        if replaces is not None and replaces in self.mapping and replaces not in self.snapshot.host:
            row = self.mapping[replaces]
            self.done_hosts.add(replaces)
        else:
            replaces = None
        if row is None:
            self._unmapped_host_item(host)
            return
        self.done_remotes.add(row.remote_id)
        self._reconcile(host, self.snapshot.remote.get(row.remote_id), row, replaces)

    def _unmapped_host_item(self, host: HostRecord) -> None:
        remote = self._adoptable(host)
        if remote is None:
            channel = self.rules.channel
            remote_id = self.rules.remote_id_for(host.id)
            self.actions.append(
                CreateRemote(channel, host.id, host.kind, host.view, remote_id, host.revision)
            )
            return
        self.done_remotes.add(remote.id)
        if remote.deleted and host.kind == UNLINKED and self.rules.inbound:
            self.actions.append(DeleteHost(self.rules.channel, host.id, remote.id, host.kind))
            return
        if remote.deleted:
            remote_id = self.rules.remote_id_for(host.id) or None
            self.actions.append(
                CreateRemote(
                    self.rules.channel, host.id, host.kind, host.view, remote_id, host.revision
                )
            )
            return
        self._adopt(host, remote)

    def _adoptable(self, host: HostRecord) -> RemoteRecord | None:
        origin = host.origin
        if origin is not None and origin not in self.by_remote:
            remote = self.snapshot.remote.get(origin)
            if remote is not None:
                return remote
        return self.claimed_by_marker.get(host.id)

    def _adopt(self, host: HostRecord, remote: RemoteRecord) -> None:
        values, to_host, _ = self._merge(host.kind, None, host.view, remote.view, host, remote)
        fields = self.fields_cls(**values)
        to_remote = fields != remote.view or self._needs_marker(host.kind, host.id, remote)
        if to_remote or to_host:
            self.actions.append(
                Update(
                    self.rules.channel,
                    host.id,
                    remote.id,
                    host.kind,
                    fields,
                    to_remote,
                    frozenset(to_host),
                    remote.etag,
                    host.revision,
                )
            )
            return
        self.actions.append(
            Link(
                self.rules.channel,
                host.id,
                remote.id,
                host.kind,
                fields,
                remote.etag,
                host.revision,
                adopted=True,
            )
        )

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
        keep = channel is Channel.CONTACTS and not self.rules.deletion_rules.delete_removed_contacts
        self.actions.append(DeleteRemote(channel, host_id, row.remote_id, row.kind, etag, keep))

    # -- remote side ---------------------------------------------------------------------

    def _remote_item(self, remote: RemoteRecord) -> None:
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
        if marker is not None:
            if marker.namespace == self.rules.namespace and marker.host_id in (
                self.snapshot.host_deleted
            ):
                self.warnings.append(
                    f"removed remote item {remote.id}: its host item {marker.host_id} is gone"
                )
                self.actions.append(
                    DeleteRemote(
                        self.rules.channel, marker.host_id, remote.id, "orphan", remote.etag
                    )
                )
            return  # ours but the host side is unknown, or another profile's item
        if self.rules.inbound and remote.in_scope:
            self.actions.append(CreateHost(self.rules.channel, remote.id, remote.view, remote.etag))

    # -- pairs ---------------------------------------------------------------------------

    def _reconcile(
        self,
        host: HostRecord | None,
        remote: RemoteRecord | None,
        row: MappingRow,
        replaces: str | None,
    ) -> None:
        if remote is not None and (remote.deleted or not remote.in_scope):
            self._remote_deleted(host, remote, row)
            return
        host_changed = host is not None and (
            host.revision is None or host.revision != row.host_revision or replaces is not None
        )
        remote_changed = remote is not None and remote.etag != row.remote_etag
        if not host_changed and not remote_changed:
            return
        base = decode_base(row.base, self.fields_cls)
        host_view = host.view if host is not None else base
        remote_view = remote.view if remote is not None else base
        kind = host.kind if host is not None else row.kind
        host_id = host.id if host is not None else row.host_id
        values, to_host, conflicts = self._merge(kind, base, host_view, remote_view, host, remote)
        fields = self.fields_cls(**values)
        to_remote = fields != remote_view or (
            (remote is not None or replaces is not None)
            and self._needs_marker(kind, host_id, remote)
        )
        etag = remote.etag if remote is not None else row.remote_etag
        revision = host.revision if host is not None else row.host_revision
        channel = self.rules.channel
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

    def _needs_marker(self, kind: str, host_id: str, remote: RemoteRecord | None) -> bool:
        if kind == UNLINKED:
            return False
        expected = Marker(self.rules.namespace, host_id)
        return remote is None or remote.marker != expected

    def _merge(
        self,
        kind: str,
        base: Any | None,
        host_view: Any,
        remote_view: Any,
        host: HostRecord | None,
        remote: RemoteRecord | None,
    ) -> tuple[dict[str, Any], set[str], list[ResolvedConflict]]:
        values: dict[str, Any] = {}
        to_host: set[str] = set()
        conflicts: list[ResolvedConflict] = []
        for name in self.names:
            host_value = getattr(host_view, name)
            remote_value = getattr(remote_view, name)
            if host_value == remote_value:
                values[name] = host_value
                continue
            direction = self.rules.field_rules.direction(kind, name, self.rules.inbound)
            winner = self._winner(direction, name, base, host_value, remote_value, host, remote)
            if isinstance(winner, ResolvedConflict):
                conflicts.append(winner)
                winner = winner.winner
            if winner is Side.HOST:
                values[name] = host_value
            else:
                values[name] = remote_value
                to_host.add(name)
        return values, to_host, conflicts

    def _winner(
        self,
        direction: Direction,
        name: str,
        base: Any | None,
        host_value: Any,
        remote_value: Any,
        host: HostRecord | None,
        remote: RemoteRecord | None,
    ) -> Side | ResolvedConflict:
        if direction is Direction.OUT or base is None:
            return Side.HOST
        if direction is Direction.IN:
            return Side.REMOTE
        base_value = getattr(base, name)
        host_changed = host_value != base_value
        remote_changed = remote_value != base_value
        if host_changed != remote_changed:
            return Side.HOST if host_changed else Side.REMOTE
        conflict = FieldConflict(
            item_id=host.id if host is not None else (remote.id if remote else "?"),
            field=name,
            base=base_value,
            host=host_value,
            remote=remote_value,
            host_updated=host.updated if host is not None else None,
            remote_updated=remote.updated if remote is not None else None,
        )
        return ResolvedConflict(conflict, resolve(self.rules.conflict_policy, conflict))

    def _remote_deleted(
        self, host: HostRecord | None, remote: RemoteRecord, row: MappingRow
    ) -> None:
        kind = host.kind if host is not None else row.kind
        rule = self._deletion_rule(kind)
        channel = self.rules.channel
        if rule is RemoteDeletion.UNLINK:
            self.actions.append(Forget(channel, row.host_id, "deleted remotely; link dropped"))
            return
        if rule is RemoteDeletion.DELETE_HOST:
            self.actions.append(DeleteHost(channel, row.host_id, row.remote_id, kind))
            return
        fields = host.view if host is not None else decode_base(row.base, self.fields_cls)
        revision = host.revision if host is not None else row.host_revision
        what = f"{'contact' if channel is Channel.CONTACTS else kind} {_named(fields, row.host_id)}"
        if remote.deleted:
            self.warnings.append(f"the {what} was deleted in Google; it has been restored")
            remote_id = row.remote_id if channel is Channel.CALENDAR else None
            self.actions.append(
                CreateRemote(channel, row.host_id, kind, fields, remote_id, revision, restore=True)
            )
            return
        self.warnings.append(f"the {what} left the Google group; it was put back")
        self.actions.append(
            Update(
                channel,
                row.host_id,
                row.remote_id,
                kind,
                fields,
                True,
                frozenset(),
                remote.etag,
                revision,
            )
        )

    def _deletion_rule(self, kind: str) -> RemoteDeletion:
        rules = self.rules.deletion_rules
        if kind == UNLINKED:
            return rules.unlinked if self.rules.inbound else RemoteDeletion.UNLINK
        if kind == CONTACT:
            rule = rules.contact
        else:
            rule = rules.session if kind == "session" else rules.appointment
        if rule is RemoteDeletion.DELETE_HOST and not self.rules.inbound:
            return RemoteDeletion.RESTORE
        return rule


def _named(fields: Any, host_id: str) -> str:
    """``'Headshots - Priya Shah' (session-2)``: what a user recognises, then the id."""
    name = getattr(fields, "title", None)
    if name is None:
        parts = (getattr(fields, a, "") for a in ("given_name", "family_name", "organization"))
        name = " ".join(p for p in parts if p)
    return f"{name!r} ({host_id})" if name else host_id

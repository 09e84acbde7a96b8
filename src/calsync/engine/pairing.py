"""What every part of the planner shares (see :mod:`calsync.engine.planner`): the run's state
(the actions and warnings so far, the items done on each side), the mapped pairs by remote id,
the unpaired remote items by the host id their marker names, and how a host item is paired
with a new remote item (created) or with one already there (adopted)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Generic

from calsync.engine.actions import Action, CreateRemote, Link, Update
from calsync.engine.fields import field_names
from calsync.engine.merge import ThreeWay
from calsync.engine.plans import PlanRules
from calsync.engine.records import F, HostRecord, RemoteRecord, Snapshot
from calsync.model import Channel, Marker, RecordKind
from calsync.state.base import MappingHead

__all__ = ["Pairing"]


class Pairing(Generic[F]):
    """The planner's state, and the pairing steps its host, remote and deletion parts share."""

    def __init__(
        self, snapshot: Snapshot[F], mapping: Mapping[str, MappingHead], rules: PlanRules[F]
    ) -> None:
        self.snapshot: Snapshot[F] = snapshot
        self.mapping = mapping
        self.rules: PlanRules[F] = rules
        self.three_way: ThreeWay[F] = ThreeWay(
            field_names(rules.fields_cls), rules.field_rules, rules.inbound, rules.conflict_policy
        )
        self.done_hosts: set[str] = set()
        self.done_remotes: set[str] = set()
        self.actions: list[Action[F]] = []
        self.warnings: list[str] = []
        #: unpaired remote items copied in the remote service from one of ours (with its
        #: marker), planned as the remote side's own once everything else is
        self.copies: list[RemoteRecord[F]] = []
        #: the item that took each converted item's pair over this run, by the replaced id
        self.successors: dict[str, str] = {}

    @cached_property
    def by_remote(self) -> dict[str, MappingHead]:
        """Mapping rows by remote id (built only when a remote item or adoption needs it)."""
        return {row.remote_id: row for row in self.mapping.values()}

    @cached_property
    def claimed_by_marker(self) -> dict[str, RemoteRecord[F]]:
        """Unmapped live remote items carrying this profile's marker, by the host id named;
        where two claim one host item, the one calsync provably made."""
        claimed: dict[str, RemoteRecord[F]] = {}
        for remote in self.snapshot.remote.values():
            marker = remote.marker
            if (
                marker is None
                or marker.namespace != self.rules.namespace
                or remote.deleted
                or remote.id in self.by_remote
            ):
                continue
            known = claimed.get(marker.host_id)
            if known is None or (remote.provably_ours and not known.provably_ours):
                claimed[marker.host_id] = remote
        return claimed

    def _create(self, host: HostRecord[F], remote_id: str | None) -> CreateRemote[F]:
        return CreateRemote(
            self.rules.channel, host.id, host.kind, host.view, remote_id, host.revision
        )

    def _adopt(
        self,
        host: HostRecord[F],
        remote: RemoteRecord[F],
        remote_view: F,
        replaces: str | None = None,
    ) -> None:
        """Pair ``host`` with the unpaired ``remote`` (and drop the pair of the item it
        ``replaces``, a converted item taking its predecessor's place)."""
        # after a crash between a create and its record, the journaled fields are the base
        base = self.snapshot.intents.get(host.id)
        fields, to_host, conflicts = self.three_way.merge(
            host.kind, base, host.view, remote_view, host, remote
        )
        channel = self.rules.channel
        # a contact out of the sync group is put back in as it is adopted
        to_remote = (
            fields != remote_view
            or self._needs_marker(host.kind, host.id, remote)
            or (channel is Channel.CONTACTS and not remote.in_scope)
        )
        if to_remote or to_host:
            self.actions.append(
                Update(
                    channel,
                    host.id,
                    remote.id,
                    host.kind,
                    fields,
                    to_remote,
                    frozenset(to_host),
                    remote.etag,
                    host.revision,
                    tuple(conflicts),
                    replaces,
                )
            )
            return
        self.actions.append(
            Link(
                channel,
                host.id,
                remote.id,
                host.kind,
                fields,
                remote.etag,
                host.revision,
                replaces,
                adopted=True,
            )
        )

    def _needs_marker(self, kind: RecordKind, host_id: str, remote: RemoteRecord[F] | None) -> bool:
        if kind is RecordKind.UNLINKED:
            return False
        expected = Marker(self.rules.namespace, host_id)
        return remote is None or remote.marker != expected

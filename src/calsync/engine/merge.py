"""The three-way merge of one item's fields: host, remote and the base stored at the last sync.

For each field whose host and remote values differ:

* a field whose direction is one way (``Direction.OUT``/``IN``, from the profile's field
  rules) takes that side's value (the host's, in a pair without a base);
* a field changed on one side only (against the base) takes that side's value;
* a field changed on both sides to different values is a conflict, resolved by the profile's
  :class:`~calsync.policies.ConflictPolicy` and reported; so is a two-way field the sides of
  a pair without a base hold differently (an item adopted on re-setup, or after its pair was
  forgotten): who changed it is unknown.

Equal values are left as they are whatever the base says. Pure: no I/O, no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from attrs import frozen

from calsync.engine.actions import ResolvedConflict
from calsync.engine.fields import replace_values
from calsync.engine.records import F, HostRecord, RemoteRecord
from calsync.model import RecordKind, Timed
from calsync.policies import ConflictPolicy, Direction, FieldConflict, FieldRules, Side, resolve

__all__ = ["ThreeWay"]


@frozen
class ThreeWay(Generic[F]):
    """Merges the fields of one channel's items by the profile's rules."""

    names: Sequence[str]
    field_rules: FieldRules
    inbound: bool
    policy: ConflictPolicy

    def merge(
        self,
        kind: RecordKind,
        base: F | None,
        host_view: F,
        remote_view: F,
        host: HostRecord[F] | None,
        remote: RemoteRecord[F] | None,
    ) -> tuple[F, set[str], list[ResolvedConflict]]:
        """The merged fields, the names the host must take, and the conflicts resolved."""
        taken: dict[str, object] = {}
        shown: dict[str, object] = {}  # the remote side's, where no side needs writing
        conflicts: list[ResolvedConflict] = []
        for name in self.names:
            host_value = getattr(host_view, name)
            remote_value = getattr(remote_view, name)
            if host_value == remote_value:
                continue
            if base is None and _same_moments(host_value, remote_value):
                # the same instants shown in another zone (the calendar's zone changed): no
                # one's edit, and nothing to write to either side
                shown[name] = remote_value
                continue
            direction = self.field_rules.direction(kind, name, self.inbound)
            winner = self._winner(direction, name, base, host_value, remote_value, host, remote)
            if isinstance(winner, ResolvedConflict):
                conflicts.append(winner)
                winner = winner.winner
            if winner is Side.REMOTE:
                taken[name] = remote_value
        chosen = taken | shown
        merged = replace_values(host_view, chosen) if chosen else host_view
        return merged, set(taken), conflicts

    def _winner(
        self,
        direction: Direction,
        name: str,
        base: F | None,
        host_value: object,
        remote_value: object,
        host: HostRecord[F] | None,
        remote: RemoteRecord[F] | None,
    ) -> Side | ResolvedConflict:
        if direction is Direction.OUT or (base is None and direction is Direction.IN):
            return Side.HOST
        if direction is Direction.IN:
            return Side.REMOTE
        base_value = getattr(base, name) if base is not None else None
        if base is not None:
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
        return ResolvedConflict(conflict, resolve(self.policy, conflict))


def _same_moments(host_value: object, remote_value: object) -> bool:
    """Two timed spans over the same instants (which differ only in the zone they show)."""
    return (
        isinstance(host_value, Timed)
        and isinstance(remote_value, Timed)
        and host_value.bounds() == remote_value.bounds()
    )

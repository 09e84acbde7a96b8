"""What a plan is: the rules a channel is planned under, the plan itself, and the
mass-deletion hold applied to every plan (see :mod:`calsync.engine.planner`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Generic

from attrs import frozen

from calsync.engine.actions import Action, DeleteHost, DeleteRemote, ResolvedConflict, Update
from calsync.engine.records import F
from calsync.model import Channel
from calsync.policies import ConflictPolicy, DeletionRules, FieldRules

__all__ = ["Plan", "PlanRules", "deletion_key", "hold_mass_deletions"]


@frozen
class PlanRules(Generic[F]):
    """Everything the planner needs to know about the profile's channel."""

    channel: Channel
    fields_cls: type[F]
    namespace: str
    inbound: bool
    field_rules: FieldRules
    conflict_policy: ConflictPolicy
    deletion_rules: DeletionRules
    remote_id_for: Callable[[str], str | None]
    #: the scope changed since the pairs were recorded (the contacts' sync group was
    #: switched): a live remote item out of the scope is no one's doing, and is put in it
    #: whatever the deletion rules say
    scope_changed: bool = False


@frozen
class Plan(Generic[F]):
    """The actions to perform, the deletions held back, and warnings for the user."""

    actions: tuple[Action[F], ...]
    held: tuple[DeleteRemote | DeleteHost, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[ResolvedConflict, ...]:
        """Every conflict the plan resolves."""
        return tuple(c for a in self.actions if isinstance(a, Update) for c in a.conflicts)


def deletion_key(action: DeleteRemote | DeleteHost) -> str:
    """What names a deletion across runs: its side and the pair (a confirmation lets through
    the deletions a run held, by these keys)."""
    side = "remote" if isinstance(action, DeleteRemote) else "host"
    return f"{side}\x1f{action.host_id}\x1f{action.remote_id}"


def hold_mass_deletions(
    actions: list[Action[F]],
    mapped: int | Callable[[], int],
    rules: DeletionRules,
    confirmed: bool | Collection[str],
) -> tuple[list[Action[F]], list[DeleteRemote | DeleteHost]]:
    """Hold each side's deletions when they are a mass deletion; linear in the actions.
    ``mapped`` (how many pairs the channel has) is asked for only when there are deletions.

    ``confirmed``: ``True`` lets every deletion through; a collection of
    :func:`deletion_key` lets those through (the deletions an earlier run held and the user
    confirmed), and holds the others as any run would, counted without the confirmed ones.
    """
    if confirmed is True:
        return actions, []
    let_through = frozenset(confirmed) if confirmed is not False else frozenset()

    def weighed(action: Action[F]) -> bool:
        return isinstance(action, DeleteRemote | DeleteHost) and (
            not let_through or deletion_key(action) not in let_through
        )

    remote = [a for a in actions if isinstance(a, DeleteRemote) and weighed(a)]
    host = [a for a in actions if isinstance(a, DeleteHost) and weighed(a)]
    if not remote and not host:
        return actions, []
    total = mapped() if callable(mapped) else mapped
    held_types: set[type] = set()
    if rules.holds(len(remote), total):
        held_types.add(DeleteRemote)
    if rules.holds(len(host), total):
        held_types.add(DeleteHost)
    if not held_types:
        return actions, []
    kept = [a for a in actions if type(a) not in held_types or not weighed(a)]
    held: list[DeleteRemote | DeleteHost] = []
    if DeleteRemote in held_types:
        held.extend(remote)
    if DeleteHost in held_types:
        held.extend(host)
    return kept, held

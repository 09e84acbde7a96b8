"""Conflict policies and deletion rules.

A *conflict* is one field that both sides changed, to different values, since the last sync.
A policy looks at a :class:`FieldConflict` and answers which side wins — or ``None`` to pass
the decision on. Policies compose like tenacity's stop and wait policies::

    policy = merge_fields(when=google_wins) | newest_wins | host_wins

``a | b`` asks ``a`` first and falls back to ``b`` when ``a`` abstains. Any plain callable
``(FieldConflict) -> Side | None`` is accepted wherever a policy is. Every conflict is reported,
whoever wins.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from attrs import field, frozen

from calsync.model import RecordKind

__all__ = [
    "ConflictPolicy",
    "DeletionRules",
    "Direction",
    "FieldConflict",
    "FieldRules",
    "PolicyLike",
    "RemoteDeletion",
    "Side",
    "abstain",
    "as_policy",
    "google_wins",
    "host_wins",
    "merge_fields",
    "newest_wins",
    "resolve",
]

logger = logging.getLogger(__name__)


class Side(enum.Enum):
    """One side of a sync: the host application or the remote service (Google)."""

    HOST = "host"
    REMOTE = "remote"

    __hash__ = object.__hash__  # (see calsync.model.Channel)


@frozen
class FieldConflict:
    """Both sides changed ``field`` of one item since the last sync.

    ``host_updated``/``remote_updated`` are the sides' modification times when known.
    """

    item_id: str
    field: str
    base: Any
    host: Any
    remote: Any
    host_updated: datetime | None = None
    remote_updated: datetime | None = None


PolicyLike: TypeAlias = "ConflictPolicy | Callable[[FieldConflict], Side | None]"


class ConflictPolicy:
    """Base class of conflict policies: subclass and implement ``__call__``."""

    def __call__(self, conflict: FieldConflict) -> Side | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __or__(self, other: PolicyLike) -> ConflictPolicy:
        return _Chain((*_links(self), *_links(as_policy(other))))

    def __ror__(self, other: PolicyLike) -> ConflictPolicy:
        return _Chain((*_links(as_policy(other)), *_links(self)))


def _links(policy: ConflictPolicy) -> tuple[ConflictPolicy, ...]:
    """A chain's policies, so ``a | b | c`` is one flat chain (as tenacity's ``stop_any``)."""
    return policy.policies if isinstance(policy, _Chain) else (policy,)


@frozen
class _Chain(ConflictPolicy):
    policies: tuple[ConflictPolicy, ...]

    def __repr__(self) -> str:
        return " | ".join(repr(p) for p in self.policies)

    def __call__(self, conflict: FieldConflict) -> Side | None:
        for policy in self.policies:
            side = policy(conflict)
            if side is not None:
                return side
        return None


@frozen
class _Fixed(ConflictPolicy):
    side: Side | None
    name: str

    def __call__(self, conflict: FieldConflict) -> Side | None:
        return self.side

    def __repr__(self) -> str:
        return self.name


@frozen
class _Callable(ConflictPolicy):
    function: Callable[[FieldConflict], Side | None]

    def __call__(self, conflict: FieldConflict) -> Side | None:
        return self.function(conflict)


class _NewestWins(ConflictPolicy):
    """The side changed most recently wins; abstains when either time is unknown or equal.

    Times are compared as instants. A time that is not a timezone-aware datetime cannot be
    compared with the other side's: the policy abstains and logs a warning (calsync reports
    and skips a host item with such a time before it comes to a conflict, so one reaching
    here is a bug of a backend or of a custom caller, never a reason to fail a run)."""

    def __call__(self, conflict: FieldConflict) -> Side | None:
        if conflict.host_updated is None or conflict.remote_updated is None:
            return None
        host = _instant(conflict.host_updated, "the host's", conflict)
        remote = _instant(conflict.remote_updated, "Google's", conflict)
        if host is None or remote is None or host == remote:
            return None
        return Side.HOST if host > remote else Side.REMOTE

    def __repr__(self) -> str:
        return "newest_wins"


def _instant(moment: object, whose: str, conflict: FieldConflict) -> datetime | None:
    """``moment`` as a UTC instant, or ``None`` (with a warning) when it is not an aware
    datetime."""
    if not isinstance(moment, datetime):
        problem = f"{whose} time is {type(moment).__name__}, not a datetime"
    elif moment.tzinfo is None or moment.utcoffset() is None:
        problem = f"{whose} time has no time zone"
    else:
        return moment.astimezone(UTC)
    logger.warning(
        "newest_wins cannot tell which side of %s (%s) changed last: %s; it abstains",
        conflict.item_id,
        conflict.field,
        problem,
    )
    return None


@frozen
class _MergeFields(ConflictPolicy):
    per_field: Mapping[str, ConflictPolicy]
    fallback: ConflictPolicy | None

    def __call__(self, conflict: FieldConflict) -> Side | None:
        policy = self.per_field.get(conflict.field, self.fallback)
        return policy(conflict) if policy is not None else None


def as_policy(policy: PolicyLike) -> ConflictPolicy:
    """Wrap a plain callable as a :class:`ConflictPolicy` (policies pass through)."""
    if isinstance(policy, ConflictPolicy):
        return policy
    if callable(policy):
        return _Callable(policy)
    raise TypeError(f"not a conflict policy: {policy!r}")


#: The host's value wins.
host_wins: ConflictPolicy = _Fixed(Side.HOST, "host_wins")
#: Google's value wins.
google_wins: ConflictPolicy = _Fixed(Side.REMOTE, "google_wins")
#: Never decides; the neutral element of ``|``.
abstain: ConflictPolicy = _Fixed(None, "abstain")
#: The most recently changed side wins; abstains when a time is unknown (or not an aware
#: datetime, with a warning).
newest_wins: ConflictPolicy = _NewestWins()


def merge_fields(fallback: PolicyLike | None = None, **per_field: PolicyLike) -> ConflictPolicy:
    """Decide per field: ``merge_fields(when=google_wins, title=host_wins, fallback=newest_wins)``.

    Fields not named go to ``fallback`` (or abstain when there is none).
    """
    return _MergeFields(
        {name: as_policy(p) for name, p in per_field.items()},
        as_policy(fallback) if fallback is not None else None,
    )


def resolve(policy: PolicyLike, conflict: FieldConflict) -> Side:
    """Ask ``policy``; when every policy abstains, the host wins (the safe default)."""
    return as_policy(policy)(conflict) or Side.HOST


class Direction(enum.Enum):
    """Which way a field syncs."""

    #: Host → Google only; a Google edit is put back to the host's value.
    OUT = "out"
    #: Both ways; an edit on either side travels, both edits are a conflict.
    BOTH = "both"
    #: Google → host only.
    IN = "in"


_TEMPLATED = {
    "title": Direction.OUT,
    "description": Direction.OUT,
    "location": Direction.OUT,
    "when": Direction.BOTH,
}
_TWO_WAY_EVENT = dict.fromkeys(_TEMPLATED, Direction.BOTH)


def _directions(value: Mapping[str, Direction]) -> Mapping[str, Direction]:
    return dict(value)


@frozen
class FieldRules:
    """The direction of each synced field, per kind of item.

    Defaults (DESIGN.md): host-made items have their text rendered from templates and sent out
    only, their times two-way; unlinked appointments and contacts are two-way throughout. When
    the user has inbound sync off, every field is out-only.
    """

    session: Mapping[str, Direction] = field(default=_TEMPLATED, converter=_directions)
    appointment: Mapping[str, Direction] = field(default=_TEMPLATED, converter=_directions)
    unlinked: Mapping[str, Direction] = field(default=_TWO_WAY_EVENT, converter=_directions)
    contact: Mapping[str, Direction] = field(factory=dict, converter=_directions)

    def direction(self, kind: RecordKind, name: str, inbound: bool) -> Direction:
        """The direction of field ``name`` for an item of ``kind``."""
        if not inbound:
            return Direction.OUT
        return self.for_kind(kind).get(name, Direction.BOTH)

    def for_kind(self, kind: RecordKind) -> Mapping[str, Direction]:
        """The directions of an item of ``kind``, by field name."""
        return _of_kind(kind, self.session, self.appointment, self.unlinked, self.contact)


_T = TypeVar("_T")


def _of_kind(kind: RecordKind, session: _T, appointment: _T, unlinked: _T, contact: _T) -> _T:
    """The one of four per-kind settings that applies to ``kind``."""
    by_kind = {
        RecordKind.SESSION: session,
        RecordKind.APPOINTMENT: appointment,
        RecordKind.UNLINKED: unlinked,
        RecordKind.CONTACT: contact,
    }
    return by_kind[kind]


class RemoteDeletion(enum.Enum):
    """What to do when an item is deleted in Google but still exists in the host."""

    #: Put the event back in Google and warn the user.
    RESTORE = "restore"
    #: Delete the host item too.
    DELETE_HOST = "delete_host"
    #: Forget the link, touching neither side; the host item stays and is not sent again
    #: until it is edited in the host, or the Google user brings its item back (restores the
    #: event, puts the contact back in the group: it still carries calsync's marker, which
    #: links them again).
    UNLINK = "unlink"


@frozen
class DeletionRules:
    """Deletion rules per item kind, plus the mass-deletion hold.

    Host deletions always delete the remote item calsync mirrors — but a contact the Google
    user made (its client came from it) is only taken out of the group. A remote deletion follows
    the rule for the host item's kind. Unlinked appointments are deleted in the host only when
    inbound calendar sync is on; otherwise the link is dropped.

    A run that would delete more than ``max_fraction`` of a side's mapped items *and* more than
    ``min_count`` items — or every mapped item of a side — is held: the deletions are reported
    and not executed until the host confirms them.
    """

    session: RemoteDeletion = RemoteDeletion.RESTORE
    appointment: RemoteDeletion = RemoteDeletion.RESTORE
    unlinked: RemoteDeletion = RemoteDeletion.DELETE_HOST
    contact: RemoteDeletion = RemoteDeletion.RESTORE
    #: What removing a client from the host group does to its Google contact:
    #: ``True`` deletes the contact calsync made, ``False`` keeps it but removes the group label.
    #: A contact the Google user made (the client came from it) is never deleted: whatever
    #: this says, it is kept and only unlabelled, also when the client is deleted.
    delete_removed_contacts: bool = True
    max_fraction: float = 0.2
    min_count: int = 5

    def for_kind(self, kind: RecordKind) -> RemoteDeletion:
        """The rule for a remote deletion of an item of ``kind``."""
        return _of_kind(kind, self.session, self.appointment, self.unlinked, self.contact)

    def holds(self, deletions: int, mapped: int) -> bool:
        """True when ``deletions`` of ``mapped`` items is a mass deletion to hold."""
        if deletions == 0:
            return False
        if deletions >= mapped > 1:
            return True
        return deletions > self.min_count and deletions > self.max_fraction * mapped

"""The report of one sync run: what happened, what was held, what went wrong.

Every run returns a :class:`SyncReport`. Hosts show it to the user; the processor mails it.
``to_dict()`` gives a JSON-ready form; ``summary()`` a few readable lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Link,
    Update,
)
from calsync.engine.records import F
from calsync.model import AllDay, Channel, Timed
from calsync.policies import Side
from calsync.timezones import zone_info

__all__ = [
    "PLANNED_SHOWN",
    "ConflictNote",
    "HeldDeletion",
    "ItemError",
    "SyncReport",
    "display",
    "would_count",
]

#: How many planned actions a report describes (``SyncReport.planned``); the rest are counted
#: in ``planned_total``. An initial sync plans one action per item: describing 100k of them
#: held about 10 MB for a list nobody reads in full.
PLANNED_SHOWN = 1_000


def display(value: object) -> str:
    """A field value as people read it (times in the item's own zone)."""
    if isinstance(value, Timed):
        zone = zone_info(value.zone)
        start, end = value.start.astimezone(zone), value.end.astimezone(zone)
        end_text = end.strftime("%H:%M") if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        return f"{start:%Y-%m-%d %H:%M}-{end_text} {value.zone}"
    if isinstance(value, AllDay):
        last = value.end - timedelta(days=1)
        return f"{value.start} (all day)" if last == value.start else f"{value.start}..{last}"
    if isinstance(value, tuple):
        return ", ".join(display(v) for v in value)
    if hasattr(value, "number"):
        return str(value.number)
    if hasattr(value, "address"):
        return str(value.address)
    return str(value)


#: The operations counted per side.
OPERATIONS = ("created", "updated", "deleted", "restored")


def would_count(actions: Iterable[Action[F]]) -> Counter[str]:
    """What performing ``actions`` would count, keyed as :attr:`SyncReport.counts`."""
    counts: Counter[str] = Counter()
    for action in actions:
        if isinstance(action, CreateRemote):
            counts["remote.restored" if action.restore else "remote.created"] += 1
        elif isinstance(action, Update):
            if action.to_remote:
                counts["remote.updated"] += 1
            if action.to_host:
                counts["host.updated"] += 1
        elif isinstance(action, DeleteRemote):
            # a kept contact is updated (out of the group), not deleted
            counts["remote.updated" if action.keep else "remote.deleted"] += 1
        elif isinstance(action, CreateHost):
            counts["host.created"] += 1
        elif isinstance(action, DeleteHost):
            counts["host.deleted"] += 1
        elif isinstance(action, Link):
            counts["adopted" if action.adopted else "linked"] += 1
        else:
            counts["forgotten"] += 1
    return counts


@frozen
class ItemError:
    """One item that could not be synced this run (it is retried next run).

    ``transient``: Google could not take the item now (a 5xx, a timeout, a rate limit:
    :class:`~calsync.errors.TransientError`), as opposed to an error that stays until someone
    acts (the item refused, the studio's item unreadable).
    """

    channel: Channel
    item: str
    action: str
    message: str
    transient: bool = False

    def to_dict(self) -> dict[str, str | bool]:
        return {
            "channel": self.channel.value,
            "item": self.item,
            "action": self.action,
            "message": self.message,
            "transient": self.transient,
        }


@frozen
class HeldDeletion:
    """A deletion not performed until the user confirms it: the run would delete too much
    of ``side``, or the host went back in time (restored from a backup) and no longer has
    the item."""

    channel: Channel
    side: Side
    item: str
    description: str

    @classmethod
    def of(cls, action: DeleteRemote | DeleteHost) -> HeldDeletion:
        """The held deletion ``action``: a remote deletion deletes on Google's side."""
        side = Side.REMOTE if isinstance(action, DeleteRemote) else Side.HOST
        return cls(action.channel, side, action.host_id, action.describe())

    def to_dict(self) -> dict[str, str]:
        return {
            "channel": self.channel.value,
            "side": self.side.value,
            "item": self.item,
            "description": self.description,
        }


@frozen
class ConflictNote:
    """A field both sides changed, both values, and who won."""

    channel: Channel
    item: str
    field: str
    host: str
    remote: str
    winner: Side

    def to_dict(self) -> dict[str, str]:
        return {
            "channel": self.channel.value,
            "item": self.item,
            "field": self.field,
            "host": self.host,
            "remote": self.remote,
            "winner": self.winner.value,
        }


@define
class SyncReport:
    """What one run of one profile did.

    ``counts`` is keyed ``"<side>.<operation>"`` (``"remote.created"``, ``"host.updated"``, …)
    plus ``"adopted"``, ``"linked"`` and ``"forgotten"``, which write neither side;
    ``channel_counts`` holds the same writes by channel, keyed
    ``"<channel>.<side>.<operation>"`` (``"contacts.remote.created"``). A Google contact
    kept and taken out of the group (``delete_removed_contacts=False``) counts as
    ``"remote.updated"``: it is not deleted.

    ``planned`` describes the first :data:`PLANNED_SHOWN` actions the run planned (in a dry
    run: what it would do); ``planned_total`` counts them all.

    ``not_authorised`` lists the channels that waited because the Google authorisation does
    not give access to them (:class:`~calsync.errors.AccessNotGranted`: Contacts not
    allowed); a warning tells the user what to do, and the other channel synced as usual.

    ``unavailable`` lists the channels whose sync stopped because Google could not answer now
    (a :class:`~calsync.errors.TransientError`: a 5xx, a timeout, a rate limit, after
    calsync's own retries); each is in ``fatal`` too, and the next run tries again.
    """

    profile_id: str
    started_at: datetime
    dry_run: bool = False
    finished_at: datetime | None = None
    counts: Counter[str] = field(factory=Counter)
    channel_counts: Counter[str] = field(factory=Counter)
    #: in a dry run: what the run would have done, keyed as ``counts``
    would: Counter[str] = field(factory=Counter)
    conflicts: list[ConflictNote] = field(factory=list)
    warnings: list[str] = field(factory=list)
    errors: list[ItemError] = field(factory=list)
    held: list[HeldDeletion] = field(factory=list)
    planned: list[str] = field(factory=list)
    planned_total: int = 0
    fatal: str | None = None
    calendar_gone: bool = False
    needs_reauth: bool = False
    initial_sync_completed: bool = False
    not_authorised: list[Channel] = field(factory=list)
    unavailable: list[Channel] = field(factory=list)

    def count(self, side: Side, operation: str, channel: Channel | None = None) -> int:
        """How many ``operation`` (created/updated/deleted/restored) happened on ``side``
        (in ``channel``; ``None``: in both)."""
        if channel is None:
            return self.counts[f"{side.value}.{operation}"]
        return self.channel_counts[f"{channel.value}.{side.value}.{operation}"]

    def note_planned(self, actions: Sequence[Action[F]]) -> None:
        """Count ``actions`` and describe them while fewer than :data:`PLANNED_SHOWN` are. In
        a dry run, tell their news as what would be done (a run tells it once each is)."""
        room = max(PLANNED_SHOWN - len(self.planned), 0)
        self.planned.extend(action.describe() for action in actions[:room])
        self.planned_total += len(actions)
        if self.dry_run:
            self.warnings.extend(
                action.news.told(dry_run=True)
                for action in actions
                if isinstance(action, CreateRemote | Update | DeleteRemote)
                and action.news is not None
            )

    @property
    def writes(self) -> int:
        """Writes made to either side (state-only bookkeeping is not counted)."""
        return sum(self.count(side, op) for side in Side for op in OPERATIONS)

    @property
    def ok(self) -> bool:
        """True when the run finished with no error of any kind."""
        return self.fatal is None and not self.errors

    @property
    def has_problems(self) -> bool:
        """True when the user should hear about this run (errors, warnings, holds, conflicts)."""
        return (
            bool(self.fatal or self.errors or self.warnings or self.held or self.conflicts)
            or self.calendar_gone
            or self.needs_reauth
        )

    def summary(self) -> str:
        """A few readable lines for people."""
        lines = [f"Profile {self.profile_id}{' (dry run)' if self.dry_run else ''}:"]
        for side, label in ((Side.REMOTE, "Google"), (Side.HOST, "studio")):
            if self.dry_run:
                would = (self.would[f"{side.value}.{op}"] for op in OPERATIONS)
                ops = ", ".join(f"{n} {op}" for n, op in zip(would, OPERATIONS, strict=True))
                lines.append(f"  {label}: would be {ops}")
            else:
                ops = ", ".join(f"{self.count(side, op)} {op}" for op in OPERATIONS)
                lines.append(f"  {label}: {ops}")
        lines.append(
            f"  conflicts: {len(self.conflicts)}, warnings: {len(self.warnings)}, "
            f"errors: {len(self.errors)}, held deletions: {len(self.held)}"
        )
        if self.fatal:
            lines.append(f"  FAILED: {self.fatal}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        lines.extend(f"  error: {e.item}: {e.action}: {e.message}" for e in self.errors)
        lines.extend(f"  held: {h.description}" for h in self.held)
        lines.extend(
            f"  conflict: {c.item} {c.field}: studio {c.host!r} vs Google {c.remote!r} "
            f"-> {'studio' if c.winner is Side.HOST else 'Google'} kept"
            for c in self.conflicts
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:  # the JSON boundary: values of every JSON type
        """A JSON-ready form of the report."""
        return {
            "profile_id": self.profile_id,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": dict(sorted(self.counts.items())),
            "channel_counts": dict(sorted(self.channel_counts.items())),
            "would": dict(sorted(self.would.items())),
            "writes": self.writes,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "warnings": list(self.warnings),
            "errors": [e.to_dict() for e in self.errors],
            "held_deletions": [h.to_dict() for h in self.held],
            "planned": list(self.planned),
            "planned_total": self.planned_total,
            "fatal": self.fatal,
            "calendar_gone": self.calendar_gone,
            "needs_reauth": self.needs_reauth,
            "not_authorised": [channel.value for channel in self.not_authorised],
            "unavailable": [channel.value for channel in self.unavailable],
            "initial_sync_completed": self.initial_sync_completed,
        }

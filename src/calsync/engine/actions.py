"""The plan: frozen action records.

The planner turns (host snapshot, remote snapshot, mapping, rules) into a tuple of these; the
executor is the only code that performs them. A dry run is the plan itself. Every action names
the host id and/or remote id it is about and describes itself in a sentence for reports.

Actions that carry field values are generic over the channel's field record ``F``
(:class:`~calsync.model.EventFields` or :class:`~calsync.model.ContactFields`).
"""

from __future__ import annotations

from typing import Generic, TypeAlias

from attrs import field, frozen

from calsync.engine.records import F
from calsync.model import Channel, RecordKind
from calsync.policies import FieldConflict, Side

__all__ = [
    "Action",
    "CreateHost",
    "CreateRemote",
    "DeleteHost",
    "DeleteRemote",
    "Forget",
    "Link",
    "News",
    "ResolvedConflict",
    "Update",
]


@frozen
class ResolvedConflict:
    """A field both sides changed, and which side the policy chose."""

    conflict: FieldConflict
    winner: Side


@frozen
class News:
    """What the user is told of a remote write that mends what calsync found in Google (an
    item deleted there and restored, a contact put in the group or taken out of it):
    ``found``, then ``done`` once the write succeeded — the executor tells it then, and a
    write that fails is an error instead — or, in a dry run, ``would``."""

    found: str
    done: str
    would: str

    def told(self, *, dry_run: bool = False) -> str:
        """The sentence for the report's warnings."""
        return f"{self.found}; {self.would if dry_run else self.done}"


@frozen
class CreateRemote(Generic[F]):
    """Create the remote mirror of a host item.

    ``remote_id`` is the deterministic id (calendar) — or the id of a deleted remote item
    being restored — or ``None`` when the remote side chooses ids (contacts). An intent is
    journaled before every create. ``restore`` marks the re-creation of an item deleted
    remotely; ``news`` is told once the item is made.
    """

    channel: Channel
    host_id: str
    kind: RecordKind
    fields: F
    remote_id: str | None
    host_revision: str | None
    restore: bool = False
    #: the host id whose pair this item takes over (a converted item restoring its event)
    replaces: str | None = None
    #: told in the report once the write succeeded (what is said, not what is done: two
    #: actions that do the same are equal whatever they say)
    news: News | None = field(default=None, eq=False, kw_only=True)

    def describe(self) -> str:
        verb = "restore" if self.restore else "create"
        return f"{verb} remote {self.channel.value} item for host {self.kind.value} {self.host_id}"


@frozen
class Update(Generic[F]):
    """Bring a synced pair to ``fields``: write the remote side when ``to_remote``, write the
    host fields named in ``to_host``, then store ``fields`` as the new base.

    ``replaces`` is the old host id when the pair moves to a converted item. ``news`` is told
    once the remote side is written (only an update that writes it carries news).
    """

    channel: Channel
    host_id: str
    remote_id: str
    kind: RecordKind
    fields: F
    to_remote: bool
    to_host: frozenset[str]
    etag: str | None
    host_revision: str | None
    conflicts: tuple[ResolvedConflict, ...] = ()
    replaces: str | None = None
    news: News | None = field(default=None, eq=False, kw_only=True)

    def describe(self) -> str:
        parts = []
        if self.to_remote:
            parts.append("remote")
        if self.to_host:
            parts.append("host (" + ", ".join(sorted(self.to_host)) + ")")
        where = " and ".join(parts) or "nothing"
        return f"update {where} for {self.kind.value} {self.host_id}"


@frozen
class DeleteRemote:
    """Delete the remote item of a pair (the host item was deleted). ``keep`` keeps a contact
    and only removes its group label. ``orphan`` marks an unmapped remote item calsync
    provably made for a host item that is gone. ``news`` is told once it is done."""

    channel: Channel
    host_id: str
    remote_id: str
    kind: RecordKind
    etag: str | None
    keep: bool = False
    orphan: bool = False
    news: News | None = field(default=None, eq=False, kw_only=True)
    #: what a user recognises the item by (``'Wedding - Ann Smith' (s1)``), when known
    name: str = field(default="", eq=False, kw_only=True)

    def describe(self) -> str:
        verb = "unlabel" if self.keep else "delete"
        what = "orphaned remote" if self.orphan else "remote"
        host = self.name or self.host_id
        return f"{verb} {what} {self.channel.value} item {self.remote_id} (host {host})"


@frozen
class CreateHost(Generic[F]):
    """Bring a remote-made item into the host (an unlinked appointment, or a new client)."""

    channel: Channel
    remote_id: str
    fields: F
    etag: str

    def describe(self) -> str:
        what = "unlinked appointment" if self.channel is Channel.CALENDAR else "client"
        return f"create host {what} from remote {self.remote_id}"


@frozen
class DeleteHost:
    """Delete a host item (calendar) or take a client out of the sync group (contacts),
    because its remote item was deleted."""

    channel: Channel
    host_id: str
    remote_id: str
    kind: RecordKind
    #: what a user recognises the item by (``'Lunch with the florist' (u1)``), when known
    name: str = field(default="", eq=False, kw_only=True)

    def describe(self) -> str:
        host = self.name or self.host_id
        if self.channel is Channel.CONTACTS:
            return f"remove client {host} from the sync group"
        return f"delete host {self.kind.value} {host}"


@frozen
class Link(Generic[F]):
    """Record a pair without writing either side: both already agree (an adopted item after a
    re-setup, a converged edit, or an etag that moved without a content change)."""

    channel: Channel
    host_id: str
    remote_id: str
    kind: RecordKind
    fields: F
    etag: str | None
    host_revision: str | None
    replaces: str | None = None
    adopted: bool = False

    def describe(self) -> str:
        verb = "adopt" if self.adopted else "record"
        return f"{verb} {self.kind.value} {self.host_id} ↔ remote {self.remote_id}"


@frozen
class Forget:
    """Drop a pair from the mapping, touching neither side (it left the window, or the rules
    say to unlink it)."""

    channel: Channel
    host_id: str
    reason: str

    def describe(self) -> str:
        return f"forget {self.host_id}: {self.reason}"


#: One step of a plan over field record ``F``.
Action: TypeAlias = (
    CreateRemote[F] | Update[F] | DeleteRemote | CreateHost[F] | DeleteHost | Link[F] | Forget
)

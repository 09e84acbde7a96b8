"""What the engine needs from one channel (calendar or contacts) of one profile.

A channel adapter does the channel's I/O: it takes the snapshot (reading both sides and
confirming every absence before it may count as a deletion), turns actions into writes on each
side, and stores its cursors. The planner and executor are shared by both channels.
"""

from __future__ import annotations

import abc
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import define, frozen

from calsync.backends import WriteResult
from calsync.engine.actions import Action, CreateHost, DeleteHost, Update
from calsync.engine.planner import HostRecord, PlanRules, RemoteRecord, Snapshot
from calsync.engine.report import SyncReport
from calsync.model import Channel
from calsync.profile import SyncProfile
from calsync.state.base import MappingRow, StateStore

__all__ = ["ChannelAdapter", "ChannelSnapshot", "HostWrite", "Progress", "RunContext"]

#: A progress callback: ``(profile_id, channel, done, total)``.
Progress = Callable[[str, str, int, int], None]

logger = logging.getLogger(__name__)


@define
class RunContext:
    """What every part of one run shares."""

    profile: SyncProfile
    store: StateStore
    report: SyncReport
    now: datetime
    #: remote writes per batch; ``None``: as many as the backend takes (its ``batch_size``)
    batch_size: int | None = None
    #: called as ``progress(profile_id, channel, done, total)`` while actions are applied
    progress: Progress | None = None


@frozen
class ChannelSnapshot:
    """A snapshot plus what to store once it has been applied."""

    snapshot: Snapshot
    host_cursor: str | None
    remote_cursor: str | None
    warnings: tuple[str, ...] = ()


@frozen
class HostWrite:
    """The host item after a host write: its id, revision and the view calsync derives."""

    host_id: str
    revision: str | None
    view: Any
    kind: str


def digest(*parts: object) -> str:
    """A short stable digest of ``parts`` (for option fingerprints)."""
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class ChannelAdapter(abc.ABC):
    """One channel of one profile: its I/O, for the shared planner and executor."""

    channel: Channel

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def profile_id(self) -> str:
        return self.ctx.profile.id

    # -- cursors -------------------------------------------------------------------------

    def cursor(self, side: str) -> str | None:
        return self.ctx.store.get_cursor(self.profile_id, f"{side}:{self.channel.value}")

    def needs_full_listing(self) -> bool:
        """A full listing of both sides is needed: first sync, changed options, or intents."""
        if self.ctx.profile.options.initial_sync_pending:
            return True
        return self.cursor("config") != self.config_digest()

    def commit_cursors(
        self, snapshot: ChannelSnapshot, *, advance_host: bool, advance_remote: bool
    ) -> None:
        """Store the cursors the snapshot was taken at, for the sides that were fully applied."""
        store, pid, name = self.ctx.store, self.profile_id, self.channel.value
        with store.transaction():
            if advance_host:
                store.set_cursor(pid, f"host:{name}", snapshot.host_cursor)
            if advance_remote:
                store.set_cursor(pid, f"remote:{name}", snapshot.remote_cursor)
            if advance_host and advance_remote:
                store.set_cursor(pid, f"config:{name}", self.config_digest())

    def forget(self) -> None:
        """Drop this channel's mapping and cursors (start over)."""
        store, pid, name = self.ctx.store, self.profile_id, self.channel.value
        with store.transaction():
            for host_id in store.mappings(pid, self.channel):
                store.delete_mapping(pid, self.channel, host_id)
            for host_id in store.pending(pid, self.channel):
                store.remove_pending(pid, self.channel, host_id)
            for side in ("host", "remote", "config", "group"):
                store.set_cursor(pid, f"{side}:{name}", None)

    # -- what each channel provides ------------------------------------------------------

    @abc.abstractmethod
    def config_digest(self) -> str:
        """A digest of the options the cursors depend on; a change forces a full listing."""

    @abc.abstractmethod
    def rules(self) -> PlanRules:
        """The planner's rules for this channel."""

    @abc.abstractmethod
    def snapshot(self, mapping: Mapping[str, MappingRow], full: bool) -> ChannelSnapshot:
        """Read both sides (in full when ``full``) and confirm absences."""

    @property
    @abc.abstractmethod
    def remote_batch_size(self) -> int:
        """How many remote writes the backend takes at once."""

    @abc.abstractmethod
    def write_remote(self, actions: Sequence[Action]) -> list[WriteResult[Any]]:
        """Perform the remote writes of ``actions``, one result each, in order."""

    @abc.abstractmethod
    def fetch_remote(self, remote_id: str) -> RemoteRecord | None:
        """Read one remote item again (after a precondition failure)."""

    @abc.abstractmethod
    def remote_record(self, item: Any) -> RemoteRecord:
        """The planner's record of a remote item returned by a write."""

    @abc.abstractmethod
    def create_host(self, action: CreateHost) -> HostWrite:
        """Create the host item for a remote-made item."""

    @abc.abstractmethod
    def update_host(self, action: Update) -> HostWrite:
        """Apply the host part of ``action``."""

    @abc.abstractmethod
    def delete_host(self, action: DeleteHost) -> None:
        """Delete (or ungroup) a host item."""

    def record_intents(self, actions: Sequence[Action]) -> None:  # noqa: B027 - optional
        """Record create intents before remote creates without client-chosen ids."""

    def finish(self, complete: bool) -> None:  # noqa: B027 - optional
        """Called after the plan of a snapshot was applied (``complete``: a full listing)."""

    def host_record(self, host_id: str, snapshot: Snapshot) -> HostRecord | None:
        """The host record of ``host_id`` in ``snapshot``, if any."""
        return snapshot.host.get(host_id)

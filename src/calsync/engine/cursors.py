"""What one run of a channel reads and writes of the store's bookkeeping: the change cursors of
both sides, the digest of the options they were taken under, and the intents journaled by
earlier runs. Each is read once; a cursor or digest is written back only when it moved, so a
quiet run writes nothing (on a database server: fewer statements, no dead row versions)."""

from __future__ import annotations

import json
from collections.abc import Collection

import attrs

from calsync.model import Channel
from calsync.policies import Side
from calsync.state.base import PendingCreate, StateStore, SyncState

__all__ = ["ChannelCursors"]


class ChannelCursors:
    """The bookkeeping of one channel of one profile, for one run."""

    def __init__(self, store: StateStore, profile_id: str, channel: Channel) -> None:
        self.store, self.profile_id, self.channel = store, profile_id, channel
        self._stored: SyncState | None = None
        self._pending: dict[str, PendingCreate] | None = None

    @property
    def stored(self) -> SyncState:
        """The cursors and options digest as stored (both cursors and the digest in one read)."""
        if self._stored is None:
            self._stored = self.store.get_sync_state(self.profile_id, self.channel)
        return self._stored

    def forget(self) -> None:
        """Read again on next use (the channel was started over)."""
        self._stored, self._pending = None, None

    def cursor(self, side: Side) -> str | None:
        """Where ``side``'s change feed was last read up to (``None``: list in full)."""
        stored = self.stored
        return stored.host_cursor if side is Side.HOST else stored.remote_cursor

    def pending(self) -> dict[str, PendingCreate]:
        """The intents journaled by earlier runs (this run's own come after the read)."""
        if self._pending is None:
            self._pending = self.store.pending(self.profile_id, self.channel)
        return self._pending

    def options_changed(self, digest: str) -> bool:
        """Whether the cursors were taken under other options than those of ``digest``."""
        return self.stored.config_digest != digest

    def held(self) -> frozenset[str]:
        """The deletions the last run held (their :func:`~calsync.engine.plans.deletion_key`):
        what a confirmation lets through."""
        held = self.stored.held
        return frozenset(json.loads(held)) if held else frozenset()

    def record_held(self, keys: Collection[str]) -> None:
        """Store the deletions this run held (written only when they changed)."""
        value = json.dumps(sorted(keys)) if keys else None
        if value != self.stored.held:
            self.store.set_held(self.profile_id, self.channel, value)
            self._stored = attrs.evolve(self.stored, held=value)

    def reached(self) -> str | None:
        """The host's change-feed position after the last run's own writes to the host."""
        return self.stored.host_reached

    def record_reached(self, cursor: str | None) -> None:
        """Store (``None``: forget) the host's position after this run's writes to it."""
        if cursor != self.stored.host_reached:
            self.store.set_host_reached(self.profile_id, self.channel, cursor)
            self._stored = attrs.evolve(self.stored, host_reached=cursor)

    def unsettle(self, digest: str) -> None:
        """Before a run writes under options other than those the cursors were taken under,
        drop the stored digest: until a run under the new options ends clean, every run lists
        both sides in full, whatever its options. Otherwise a run that failed half way, then a
        switch back to the old options (the old sync group, say), would read the feeds from the
        old cursors and never see the pairs recorded under the new options leave its scope."""
        stored = self.stored
        if stored.config_digest is not None and stored.config_digest != digest:
            self.store.set_config_digest(self.profile_id, self.channel, None)
            self._stored = attrs.evolve(stored, config_digest=None)

    def commit(
        self,
        host_cursor: str | None,
        remote_cursor: str | None,
        digest: str,
        *,
        advance_host: bool,
        advance_remote: bool,
    ) -> None:
        """Store the cursors of the sides that were fully applied, and the options digest
        when both were; what this run read unchanged is not written again."""
        store, pid, channel = self.store, self.profile_id, self.channel
        stored = self._stored  # None: not read this run (a full listing was due)
        with store.transaction():
            if advance_host and (stored is None or stored.host_cursor != host_cursor):
                store.set_sync_cursor(pid, channel, Side.HOST, host_cursor)
            if advance_remote and (stored is None or stored.remote_cursor != remote_cursor):
                store.set_sync_cursor(pid, channel, Side.REMOTE, remote_cursor)
            both = advance_host and advance_remote
            if both and (stored is None or stored.config_digest != digest):
                store.set_config_digest(pid, channel, digest)

"""What one run of a channel reads and writes of the store's bookkeeping: the change cursors of
both sides, the digest of the options they were taken under, and the intents journaled by
earlier runs. Each is read once; a cursor or digest is written back only when it moved, so a
quiet run writes nothing (on a database server: fewer statements, no dead row versions)."""

from __future__ import annotations

from calsync.model import Channel
from calsync.policies import Side
from calsync.state.base import PendingCreate, StateStore

__all__ = ["ChannelCursors"]


class ChannelCursors:
    """The bookkeeping of one channel of one profile, for one run."""

    def __init__(self, store: StateStore, profile_id: str, channel: Channel) -> None:
        self.store, self.profile_id, self.channel = store, profile_id, channel
        self._cursors: dict[Side, str | None] = {}
        self._digest: list[str | None] = []  # the stored digest, once read
        self._pending: dict[str, PendingCreate] | None = None

    def cursor(self, side: Side) -> str | None:
        """Where ``side``'s change feed was last read up to (``None``: list in full)."""
        if side not in self._cursors:
            self._cursors[side] = self.store.get_sync_cursor(self.profile_id, self.channel, side)
        return self._cursors[side]

    def pending(self) -> dict[str, PendingCreate]:
        """The intents journaled by earlier runs (this run's own come after the read)."""
        if self._pending is None:
            self._pending = self.store.pending(self.profile_id, self.channel)
        return self._pending

    def options_changed(self, digest: str) -> bool:
        """Whether the cursors were taken under other options than those of ``digest``."""
        if not self._digest:
            self._digest = [self.store.get_config_digest(self.profile_id, self.channel)]
        return self._digest[0] != digest

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
        with store.transaction():
            if advance_host and not self._read_as(Side.HOST, host_cursor):
                store.set_sync_cursor(pid, channel, Side.HOST, host_cursor)
            if advance_remote and not self._read_as(Side.REMOTE, remote_cursor):
                store.set_sync_cursor(pid, channel, Side.REMOTE, remote_cursor)
            if advance_host and advance_remote and self._digest != [digest]:
                store.set_config_digest(pid, channel, digest)

    def _read_as(self, side: Side, cursor: str | None) -> bool:
        return side in self._cursors and self._cursors[side] == cursor

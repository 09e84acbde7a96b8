"""A state file from before version 5 marked a channel calsync was stopping by a blank token
hash (and kept the time of its failed stop in one process's memory): the upgrade makes it a
stopping row, its stop due at once, and leaves the other channels as they were."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from pathlib import Path

from calsync import SqliteStateStore, SyncOptions, SyncProfile
from calsync.push import PushChannels
from calsync.testing.contracts.state import T0

OPEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class Version4Store(SqliteStateStore):
    """The store as calsync wrote it before channels said they were stopping."""

    SCHEMA_VERSION = 4
    _MIGRATIONS = SqliteStateStore._MIGRATIONS[:4]


def test_a_channel_with_a_blank_token_hash_becomes_a_stopping_channel_due_for_its_stop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    expires, created = (T0 + timedelta(days=7)).isoformat(), T0.isoformat()
    with closing(Version4Store(path)) as old:
        for channel_id, token_hash in (("ch-stopping", ""), ("ch-open", OPEN)):
            old._conn.execute(
                "INSERT INTO push_channels VALUES (?, 'alice', 'cal', ?, ?, ?, ?, NULL)",
                (channel_id, f"res-{channel_id}", token_hash, expires, created),
            )

    with SqliteStateStore(path) as store:
        stopping, kept = store.get_push_channel("ch-stopping"), store.get_push_channel("ch-open")
        push = PushChannels(store, "https://sync.studio.example/n", clock=lambda: T0)

        assert stopping is not None
        assert kept is not None
        assert (stopping.stopping, stopping.stop_tried_at) == (True, None)
        assert push.stop_due(stopping)
        assert (kept.stopping, kept.stop_tried_at, kept.token_hash) == (False, None, OPEN)
        assert push.due_in(SyncProfile("alice", "alice", "cal", SyncOptions())) == 0.0

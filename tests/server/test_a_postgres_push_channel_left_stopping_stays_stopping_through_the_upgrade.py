"""A PostgreSQL schema from before version 5 marked a channel calsync was stopping by a blank
token hash (and kept the time of its failed stop in one process's memory): ``calsync
migrate`` makes it a stopping row, its stop due at once, and leaves the other channels as they
were."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync.errors import SchemaVersionError
from calsync.push import PushChannels
from calsync.server.database import Database
from calsync.state.postgres import PostgresStateStore, migrate_schema
from calsync.testing.contracts.state import T0

OPEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_a_channel_with_a_blank_token_hash_becomes_a_stopping_channel_due_for_its_stop(
    database: Database,
) -> None:
    assert migrate_schema(database, target=4) == 4  # as the previous calsync left it
    with database.transaction() as conn:
        for channel_id, token_hash in (("ch-stopping", ""), ("ch-open", OPEN)):
            conn.execute(
                "INSERT INTO push_channels VALUES ('t', %s, 'alice', 'cal', %s, %s, %s, %s, NULL)",
                (channel_id, f"res-{channel_id}", token_hash, T0 + timedelta(days=7), T0),
            )
    with pytest.raises(SchemaVersionError, match="version 4"):
        PostgresStateStore(database, tenant="t")

    store = PostgresStateStore(database, tenant="t", migrate=True)

    stopping, kept = store.get_push_channel("ch-stopping"), store.get_push_channel("ch-open")
    assert stopping is not None
    assert kept is not None
    assert (stopping.stopping, stopping.stop_tried_at) == (True, None)
    assert PushChannels(store, "https://sync.example/n", clock=lambda: T0).stop_due(stopping)
    assert (kept.stopping, kept.stop_tried_at, kept.token_hash) == (False, None, OPEN)

"""Fixtures for engine tests: a world per state store implementation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_world import World, make_world

from calsync import MemoryStateStore, SqliteStateStore, StateStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
    else:
        with SqliteStateStore(tmp_path / "state.sqlite3") as sqlite_store:
            yield sqlite_store


@pytest.fixture
def world(store: StateStore) -> World:
    return make_world(store, inbound_calendar=True)

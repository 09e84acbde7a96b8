"""The in-memory state store against the StateStore contract."""

from __future__ import annotations

import pytest

from calsync.state import MemoryStateStore, StateStore
from calsync.testing.contracts.state import StateStoreContract


class TestMemoryStateStore(StateStoreContract):
    @pytest.fixture
    def store(self) -> StateStore:
        return MemoryStateStore()

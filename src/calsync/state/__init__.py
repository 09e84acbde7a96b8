"""Persistent sync state: the contract and its implementations."""

from __future__ import annotations

from calsync.state.base import (
    Lease,
    MappingHead,
    MappingRow,
    PendingCreate,
    PushChannel,
    RemoteGroup,
    SentNotice,
    StateStore,
    StoredHead,
    SyncState,
)
from calsync.state.memory import MemoryStateStore
from calsync.state.sqlite import SqliteStateStore

__all__ = [
    "Lease",
    "MappingHead",
    "MappingRow",
    "MemoryStateStore",
    "PendingCreate",
    "PushChannel",
    "RemoteGroup",
    "SentNotice",
    "SqliteStateStore",
    "StateStore",
    "StoredHead",
    "SyncState",
]

"""Persistent sync state: the contract and its implementations."""

from __future__ import annotations

from calsync.state.base import (
    Lease,
    MappingRow,
    PendingCreate,
    PushChannel,
    RemoteGroup,
    SentNotice,
    StateStore,
)
from calsync.state.memory import MemoryStateStore
from calsync.state.sqlite import SqliteStateStore

__all__ = [
    "Lease",
    "MappingRow",
    "MemoryStateStore",
    "PendingCreate",
    "PushChannel",
    "RemoteGroup",
    "SentNotice",
    "SqliteStateStore",
    "StateStore",
]

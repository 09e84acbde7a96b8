"""The reconciliation engine: snapshot → plan (pure) → apply (journaled) → report."""

from __future__ import annotations

from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Forget,
    Link,
    ResolvedConflict,
    Update,
)
from calsync.engine.planner import Plan, PlanRules, plan
from calsync.engine.records import HostRecord, RemoteRecord, Snapshot
from calsync.engine.report import ConflictNote, HeldDeletion, ItemError, SyncReport
from calsync.engine.sync import SyncEngine

__all__ = [
    "Action",
    "ConflictNote",
    "CreateHost",
    "CreateRemote",
    "DeleteHost",
    "DeleteRemote",
    "Forget",
    "HeldDeletion",
    "HostRecord",
    "ItemError",
    "Link",
    "Plan",
    "PlanRules",
    "RemoteRecord",
    "ResolvedConflict",
    "Snapshot",
    "SyncEngine",
    "SyncReport",
    "Update",
    "plan",
]

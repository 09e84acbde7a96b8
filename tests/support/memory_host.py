"""A host factory for CLI tests: in-memory adapters shared per ``name`` within a process."""

from __future__ import annotations

from typing import Any

from studio_world import session

from calsync import SyncOptions, SyncProfile, Wording
from calsync.config import Host
from calsync.testing import MemoryContactSource, MemoryProfileStore, MemoryScheduleSource

HOSTS: dict[str, Host] = {}


def open_host(options: dict[str, Any]) -> Host:
    """Two users with one session each, both with a calendar chosen; ``preferences`` names
    the host's preferences screen in messages to users."""
    name = str(options.get("name", "default"))
    wording = Wording(preferences=str(options.get("preferences", Wording().preferences)))
    if name not in HOSTS:
        schedule = MemoryScheduleSource()
        profiles = MemoryProfileStore()
        for user in ("ann", "ben"):
            schedule.add(user, session(f"{user}-1"))
            profiles.put(
                SyncProfile(
                    f"cli.{user}", user, "primary", SyncOptions(wording=wording), email=f"{user}@x"
                )
            )
        HOSTS[name] = Host(schedule, profiles, MemoryContactSource())
    return HOSTS[name]

"""A host factory for CLI tests: in-memory adapters shared per ``name`` within a process."""

from __future__ import annotations

from pathlib import Path
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


def write_config(directory: Path, name: str, base_url: str, more: str = "") -> Path:
    """A ``calsync.toml`` in ``directory`` for the host ``name`` of :func:`open_host`, with
    Google at ``base_url`` (tokens in ``tokens.sqlite3``) and the TOML ``more`` after."""
    path = directory / "calsync.toml"
    path.write_text(
        f"""
state = "state.sqlite3"
host = "memory_host:open_host"

[host_options]
name = "{name}"

[google]
client_id = "demo-client"
client_secret = "demo-secret"
tokens = "tokens.sqlite3"
base_url = "{base_url}"
{more}""",
        encoding="utf-8",
    )
    return path

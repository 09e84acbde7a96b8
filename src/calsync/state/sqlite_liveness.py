"""Whether the holder of a SQLite store's lease is still alive: an OS file lock per profile.

A lease lasts its time to live (ten minutes in the processor) because a runner that dies
cannot give it back; the next run waits that long. On one machine calsync can do better: a
runner holds an exclusive ``flock`` on the profile's lock file (``<state file>.locks/``) from
before it writes the lease until after it deletes it, and the operating system lets the lock
go when the process ends, however it ends (SIGKILL, a crash, the power). So a lease whose
holder's lock is free was left by a dead process, and is taken over at once.

Only a holder that locked the file on this machine counts: each writes its id and the host's
name into the file once it holds the lock, and a lease is taken over only when the file names
its holder and this host (a runner of a calsync without these locks, on a system without
``flock``, or on another computer sharing the file, whose lock this machine may not see,
keeps its lease until it expires).
Without ``fcntl`` (Windows) nothing is locked and leases expire as before. A lock that
cannot be taken or written is never an error: the lease then works by its time alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

__all__ = ["HolderLocks"]

logger = logging.getLogger(__name__)


class HolderLocks:
    """The lock files of one SQLite state file (none for an in-memory database). Not
    thread-safe: the store calls it under its own lock."""

    def __init__(self, database: str) -> None:
        usable = fcntl is not None and database not in ("", ":memory:")
        self.directory = Path(f"{database}.locks") if usable else None
        #: the locks this store holds: profile id -> (holder, open lock file)
        self._held: dict[str, tuple[str, IO[str]]] = {}

    def lock(self, profile_id: str, holder: str) -> str | None:
        """Lock the profile's file for ``holder`` (before its lease is written).

        Returns:
            The holder the file named before (``""`` when none, when it locked on another
            host, or when ``holder`` held it already), or ``None`` when the lock is not
            ours: another live runner holds it, or locking is not possible here.
        """
        held = self._held.get(profile_id)
        if held is not None:
            return "" if held[0] == holder else None
        file = self._open(profile_id)
        if file is None:
            return None
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            file.seek(0)
            before, _, host = file.read().partition("\n")
            file.seek(0)
            file.truncate()
            file.write(f"{holder}\n{socket.gethostname()}")
            file.flush()
        except OSError:  # held by a live runner (or the file cannot be written)
            file.close()
            return None
        self._held[profile_id] = (holder, file)
        return before if host == socket.gethostname() else ""

    def holds(self, profile_id: str, holder: str) -> bool:
        """Whether this store holds the profile's lock for ``holder``."""
        held = self._held.get(profile_id)
        return held is not None and held[0] == holder

    def unlock(self, profile_id: str, holder: str) -> None:
        """Let the lock go, if ``holder`` holds it (after its lease is deleted, or when it
        did not get the lease)."""
        if self.holds(profile_id, holder):
            self._held.pop(profile_id)[1].close()  # (the last descriptor: the flock goes)

    def unlock_all(self) -> None:
        for _, file in self._held.values():
            file.close()
        self._held.clear()

    def _open(self, profile_id: str) -> IO[str] | None:
        if self.directory is None:
            return None
        name = hashlib.sha256(profile_id.encode()).hexdigest()[:32]
        try:
            self.directory.mkdir(exist_ok=True)
            descriptor = os.open(self.directory / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            return os.fdopen(descriptor, "r+", encoding="utf-8")
        except OSError as exc:
            logger.debug("no lock file for a lease (%s): it lasts its time", exc)
            return None

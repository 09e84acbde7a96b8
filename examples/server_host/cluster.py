"""Real processes for the server example and its tests: studios seeded on disk, a settings
file for :mod:`server_host.worker`, and ``celery worker`` processes started and killed.

Every name that touches a shared service carries a prefix (Redis keys, the Celery queue, the
broker's own keys, the PostgreSQL schema), so several runs on one machine never meet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from studio.adapters import StudioProfiles
from studio.db import Studio

from calsync.testing import GoogleEmulator
from calsync.tokens import StoredToken, TokenStore
from server_host.studios import seed_studio, studio_name

EXAMPLES = Path(__file__).resolve().parents[1]


def seed_studios(
    workdir: Path, google: GoogleEmulator, tokens: TokenStore, studios: int, users: int,
    today: date,
) -> dict[str, str]:  # fmt: skip
    """One database per studio, by studio name (:func:`~server_host.studios.studio_name`);
    every user's Google tokens saved as after the consent. A user's id, and so their profile
    id, is drawn by the studio: :func:`~server_host.studios.profile_of` finds it."""
    paths: dict[str, str] = {}
    for number in range(1, studios + 1):
        name = studio_name(number)
        path = workdir / f"{name}.sqlite3"
        with Studio(path) as studio:
            profiles = StudioProfiles(studio, name)
            for user, email in seed_studio(studio, number, users, today).items():
                access, refresh = google.issue_tokens(email)
                tokens.save(profiles.profile_id(user), StoredToken(refresh, access))
        paths[name] = str(path)
    return paths


def worker_environment(
    settings_path: Path, *, broker: str, queue: str, prefix: str, visibility_timeout: float,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    """The environment of a worker (and of the process that enqueues)."""
    options: dict[str, object] = {"visibility_timeout": visibility_timeout}
    if broker.startswith("redis"):
        # restore a dead worker's unacknowledged task within a second of its timeout
        options |= {"global_keyprefix": f"{prefix}:", "unacked_restore_interval": 1,
                    "unacked_restore_throttle": 1}  # fmt: skip
    env = {
        "CALSYNC_WORKER_SETUP": "server_host.worker:worker_setup",
        "CALSYNC_SERVER_SETTINGS": str(settings_path),
        "CALSYNC_BROKER_URL": broker,
        "CALSYNC_QUEUE": queue,
        "CALSYNC_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        "CALSYNC_SOFT_TIME_LIMIT": "60",
        "CALSYNC_TIME_LIMIT": "90",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")]),
    }
    return env | (extra or {})


class WorkerProcess:
    """One ``celery worker`` process. The solo pool runs one task at a time in the worker
    process itself (so killing it kills the task); the prefork pool runs tasks in child
    processes and is the one that enforces time limits."""

    def __init__(
        self, name: str, env: dict[str, str], log: Path, *, pool: str = "solo",
        concurrency: int = 1,
    ) -> None:  # fmt: skip
        self.name = name
        self.log = log
        command = [
            sys.executable, "-m", "celery", "-A", "calsync.celery", "worker", f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-n", f"{name}-{uuid.uuid4().hex[:8]}@%h",  # never a name an earlier run used
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-Q", env["CALSYNC_QUEUE"], "-l", "INFO",
        ]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        try:
            wait_for(lambda: " ready." in self.text(), timeout, f"worker {self.name} to start")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; its log ends:\n{self.text()[-2000:]}") from None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, the lease left behind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def synced(self) -> list[str]:
        """The profiles this worker synced (its log's ``syncing profile`` lines)."""
        marker = "syncing profile "
        return [
            line.split(marker, 1)[1].split()[0]
            for line in self.text().splitlines()
            if marker in line
        ]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)

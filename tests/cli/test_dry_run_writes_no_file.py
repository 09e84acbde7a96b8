"""``calsync dry-run PROFILE`` is the plan a sync would carry out, written nowhere: no file
changes, not the token file (a refreshed access token stays in memory), not the state file, and
none is made (a setup that never synced gets no state file, one without tokens no token file;
a state file of an older schema is read from an upgraded copy, not upgraded itself)."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from operator_world import Demo

from calsync import SqliteStateStore
from calsync.cli import main
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def demo(tmp_path: Path, google: GoogleEmulator) -> Demo:
    google.reset()
    google.clear_faults()
    demo = Demo(tmp_path, google)
    demo.connect(ann(demo))
    return demo


def ann(demo: Demo) -> str:
    """Ann's profile id (her studio user id is drawn when the demo studio is made)."""
    return demo.profile_ids["ann"]


def files(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` by name, with a digest of its bytes."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def events_in_google(demo: Demo) -> object:
    account = demo.google.account(demo.accounts[ann(demo)])
    return {cid: c.events for cid, c in account.calendars.items()}


def test_a_dry_run_after_the_access_token_expired_leaves_every_file_as_it_was(
    demo: Demo, google: GoogleEmulator
) -> None:
    assert demo.calsync("sync", ann(demo)).returncode == 0
    google.expire_access_tokens()  # the dry run must refresh it: an hour after the last run
    before, remote = files(demo.directory), events_in_google(demo)

    dry = demo.calsync("dry-run", ann(demo))

    assert dry.returncode == 0, dry.stderr
    assert files(demo.directory) == before
    assert events_in_google(demo) == remote


def test_a_dry_run_leaves_a_state_file_in_rollback_journal_mode_as_it_was(
    demo: Demo, google: GoogleEmulator
) -> None:
    """Opened as a store, the file would be switched to WAL (its header rewritten)."""
    assert demo.calsync("sync", ann(demo)).returncode == 0
    state = demo.directory / "calsync.sqlite3"
    with closing(sqlite3.connect(state)) as conn:  # as restored from a copy, say
        conn.execute("PRAGMA journal_mode=DELETE")
    before = files(demo.directory)

    dry = demo.calsync("dry-run", ann(demo))

    assert dry.returncode == 0, dry.stderr
    assert files(demo.directory) == before


def test_a_dry_run_of_a_setup_that_never_synced_plans_everything_and_makes_no_state_file(
    demo: Demo,
) -> None:
    before = files(demo.directory)

    dry = demo.calsync("dry-run", ann(demo))

    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout
    assert files(demo.directory) == before


class Version3Store(SqliteStateStore):
    """A state file as calsync wrote it at schema version 3."""

    SCHEMA_VERSION = 3
    _MIGRATIONS = SqliteStateStore._MIGRATIONS[:3]


def test_a_dry_run_reads_a_state_file_of_an_older_schema_and_leaves_it_unupgraded(
    demo: Demo,
) -> None:
    state = demo.directory / "calsync.sqlite3"
    with closing(Version3Store(state)):
        pass
    before = files(demo.directory)

    dry = demo.calsync("dry-run", ann(demo))

    assert dry.returncode == 0, dry.stderr
    assert "would create" in dry.stdout
    assert files(demo.directory) == before
    with closing(sqlite3.connect(state)) as conn:
        assert conn.execute("SELECT value FROM meta").fetchall() == [("3",)]


def test_a_dry_run_of_a_user_without_tokens_makes_neither_a_token_nor_a_state_file(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config = tmp_path / "calsync.toml"
    config.write_text(  # no token file: nobody has connected Google; Google is never reached
        f'host = "memory_host:open_host"\n[host_options]\nname = "{request.node.name}"\n'
        '[google]\nclient_id = "i"\nclient_secret = "s"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )

    assert main(["--config", str(config), "dry-run", "cli.ann"]) == 0

    assert sorted(path.name for path in tmp_path.iterdir()) == ["calsync.toml"]


KILLED_WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "wal":  # committed, still in the write-ahead log
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE left_by_a_killed_runner (x)")
    conn.execute("INSERT INTO left_by_a_killed_runner VALUES (1)")
else:  # a transaction under way, in a hot rollback journal
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA cache_size=1")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE left_by_a_killed_runner (x)")
    for _ in range(2000):
        conn.execute("INSERT INTO left_by_a_killed_runner VALUES (?)", ("x" * 500,))
os.kill(os.getpid(), 9)
"""


@pytest.mark.parametrize("journal", ["wal", "rollback"])
def test_a_dry_run_leaves_the_journal_a_killed_runner_left_as_it_was(
    demo: Demo, google: GoogleEmulator, journal: str
) -> None:
    """A runner killed mid-write leaves its write-ahead log (or a hot rollback journal)
    beside the state file: the dry run reads them through a copy, never folds them into the
    file nor deletes them (the next runner does)."""
    assert demo.calsync("sync", ann(demo)).returncode == 0
    state = demo.directory / "calsync.sqlite3"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(state), journal], check=False)
    assert killed.returncode == -signal.SIGKILL
    before = files(demo.directory)
    assert any(name.endswith(("-wal", "-journal")) for name in before)

    dry = demo.calsync("dry-run", ann(demo))

    assert dry.returncode == 0, dry.stderr
    assert files(demo.directory) == before

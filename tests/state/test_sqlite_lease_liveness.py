"""A lease of the SQLite store whose holder's process has ended is taken over at once, not
after its time to live; a live holder's lease, and one whose holder never locked its file,
still keep everyone else out until they expire (calsync.state.sqlite_liveness)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from calsync.errors import StateError
from calsync.state import SqliteStateStore
from calsync.testing.contracts.state import T0

TTL = timedelta(minutes=10)

_HOLDER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta
    from calsync.state import SqliteStateStore

    store = SqliteStateStore(sys.argv[1])
    now = datetime.fromisoformat(sys.argv[2])
    lease = store.acquire_lease("studio.u1", "runner-a", timedelta(minutes=10), now)
    print("held" if lease is not None else "refused", flush=True)
    sys.stdin.readline()  # until the test lets it go, or kills it
    store.release_lease("studio.u1", "runner-a")
    print("released", flush=True)
    """
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def holder(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the profile's lease (``runner-a``)."""
    SqliteStateStore(path).close()  # the file exists before the holder opens it
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), T0.isoformat()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.communicate()


def test_a_live_holders_lease_keeps_another_runner_out(
    path: Path, holder: subprocess.Popen[str]
) -> None:
    with SqliteStateStore(path) as store:
        assert store.acquire_lease("studio.u1", "runner-b", TTL, T0 + timedelta(minutes=1)) is None


def test_a_lease_left_by_a_killed_process_is_taken_over_before_it_expires(
    path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)

    with SqliteStateStore(path) as store:
        lease = store.acquire_lease("studio.u1", "runner-b", TTL, T0 + timedelta(minutes=1))
        assert lease is not None
        assert store.get_lease("studio.u1") == lease
        # and runner-b's own lease is as safe as any: a third runner stays out
        with SqliteStateStore(path) as other:
            later = T0 + timedelta(minutes=2)
            assert other.acquire_lease("studio.u1", "runner-c", TTL, later) is None


def test_a_lease_locked_on_another_computer_sharing_the_file_lasts_until_it_expires(
    path: Path, holder: subprocess.Popen[str]
) -> None:
    """A file lock may not be seen from another computer (a network share): a holder that
    locked elsewhere is never taken for dead."""
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    (lock_file,) = Path(f"{path}.locks").iterdir()
    assert lock_file.read_text(encoding="utf-8") == f"runner-a\n{socket.gethostname()}"
    lock_file.write_text("runner-a\nanother-computer", encoding="utf-8")

    with SqliteStateStore(path) as store:
        during = T0 + timedelta(minutes=1)
        assert store.acquire_lease("studio.u1", "runner-b", TTL, during) is None


def test_a_lease_given_back_leaves_nothing_that_lets_its_next_holder_be_taken_over(
    path: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    assert holder.stdout is not None
    holder.stdin.write("done\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"

    with SqliteStateStore(path) as first, SqliteStateStore(path) as second:
        assert first.acquire_lease("studio.u1", "runner-b", TTL, T0) is not None
        assert second.acquire_lease("studio.u1", "runner-c", TTL, T0) is None


def test_a_lease_whose_holder_never_locked_its_file_lasts_until_it_expires(path: Path) -> None:
    """A runner of a calsync before these locks (or on a system without flock) wrote the
    lease without its lock: nothing proves it dead, so its lease runs its course."""
    with SqliteStateStore(path) as earlier:  # a runner that locked: the file names it
        assert earlier.acquire_lease("studio.u1", "runner-x", TTL, T0) is not None
        earlier.release_lease("studio.u1", "runner-x")
    expires = (T0 + TTL).isoformat(timespec="microseconds")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO leases (profile_id, holder, expires_at) VALUES (?, ?, ?)",
            ("studio.u1", "old-runner", expires),
        )

    with SqliteStateStore(path) as store:
        during = T0 + timedelta(minutes=1)
        assert store.acquire_lease("studio.u1", "runner-b", TTL, during) is None
        after = T0 + TTL + timedelta(seconds=1)
        assert store.acquire_lease("studio.u1", "runner-b", TTL, after) is not None


def test_an_in_memory_store_takes_leases_by_their_time_alone() -> None:
    with SqliteStateStore(":memory:") as store:
        assert store.acquire_lease("studio.u1", "runner-a", TTL, T0) is not None
        assert store.acquire_lease("studio.u1", "runner-b", TTL, T0) is None


def test_a_renewal_that_fails_keeps_the_lock_of_the_lease_it_holds(path: Path) -> None:
    """A runner whose renewal failed (the file was busy) still holds its lease: its lock must
    not make it look gone."""
    with SqliteStateStore(path, timeout=0.1) as store, SqliteStateStore(path) as other:
        assert store.acquire_lease("studio.u1", "runner-a", TTL, T0) is not None
        with closing(sqlite3.connect(path)) as blocker:
            blocker.execute("BEGIN IMMEDIATE")  # another process writing, for too long
            with pytest.raises(StateError):
                store.acquire_lease("studio.u1", "runner-a", TTL, T0 + timedelta(minutes=1))
            blocker.rollback()

        later = T0 + timedelta(minutes=2)
        assert other.acquire_lease("studio.u1", "runner-b", TTL, later) is None

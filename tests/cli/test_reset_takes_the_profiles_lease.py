"""``calsync reset PROFILE`` forgets the profile's state under the profile's lease: while a
run of it is in progress (here or at another runner) it waits up to ``--wait`` seconds, then
refuses (exit status 1, as ``sync`` giving up) and forgets nothing, so a run can never write
half of the state back over a reset it did not see."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from calsync import SqliteStateStore
from calsync.cli import main

PROFILE = "cli.ann"


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(
        f'state = "state.sqlite3"\nhost = "memory_host:open_host"\n'
        f'[host_options]\nname = "{request.node.name}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def store(config: Path) -> Iterator[SqliteStateStore]:
    with SqliteStateStore(config.parent / "state.sqlite3") as store:
        store.set_cursor(PROFILE, "calendar:sync_token", "token-1")
        yield store


def take_lease(store: SqliteStateStore) -> None:
    lease = store.acquire_lease(PROFILE, "other-runner", timedelta(minutes=5), datetime.now(UTC))
    assert lease is not None


def test_reset_refuses_while_another_runner_syncs_the_profile_and_forgets_nothing(
    config: Path, store: SqliteStateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    take_lease(store)

    code = main(["--config", str(config), "reset", PROFILE, "--wait", "0"])

    out = capsys.readouterr().out
    assert code == 1
    assert out == (
        f"{PROFILE}: not reset: another runner is syncing this user (waited 0s); nothing was "
        "forgotten, try again when its run has ended\n"
    )
    assert store.get_cursor(PROFILE, "calendar:sync_token") == "token-1"
    lease = store.get_lease(PROFILE)
    assert lease is not None
    assert lease.holder == "other-runner"


def test_reset_waits_for_the_run_in_progress_and_then_forgets(
    config: Path, store: SqliteStateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    take_lease(store)
    ending = threading.Timer(1.5, store.release_lease, (PROFILE, "other-runner"))
    ending.start()
    started = time.monotonic()
    try:
        code = main(["--config", str(config), "reset", PROFILE, "--wait", "30"])
    finally:
        ending.join()

    assert code == 0
    assert time.monotonic() - started >= 1.5
    assert "sync state forgotten" in capsys.readouterr().out
    assert store.get_cursor(PROFILE, "calendar:sync_token") is None
    assert store.get_lease(PROFILE) is None  # released again


def test_reset_holds_the_lease_while_it_forgets(
    config: Path, store: SqliteStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    holders: list[str | None] = []
    forget = SqliteStateStore.forget_profile

    def forget_profile(self: SqliteStateStore, profile_id: str) -> None:
        lease = self.get_lease(profile_id)
        holders.append(lease.holder if lease is not None else None)
        forget(self, profile_id)

    monkeypatch.setattr(SqliteStateStore, "forget_profile", forget_profile)

    assert main(["--config", str(config), "reset", PROFILE]) == 0

    (holder,) = holders
    assert holder is not None
    assert holder != "other-runner"
    assert store.get_lease(PROFILE) is None
    assert store.get_cursor(PROFILE, "calendar:sync_token") is None

"""``calsync sync`` and ``calsync dry-run`` of a user whose sync is off, or who has nothing to
sync, say so and exit 0: that is the user's choice, not a failed sync (exit 1). The dry run
plans nothing for a sync that will not happen, and neither command reaches Google."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from memory_host import HOSTS, open_host

from calsync import SyncProfile
from calsync.cli import main
from calsync.testing import MemoryProfileStore


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(  # Google is never reached: nothing listens on port 9
        f'host = "memory_host:open_host"\n[host_options]\nname = "{request.node.name}"\n'
        '[google]\nclient_id = "i"\nclient_secret = "s"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    open_host({"name": request.node.name})
    return path


def change_ann(name: str, change: Callable[[SyncProfile], SyncProfile]) -> None:
    """What the user does on the host's preferences screen."""
    profiles = HOSTS[name].profiles
    assert isinstance(profiles, MemoryProfileStore)
    ann = next(p for p in profiles.profiles() if p.id == "cli.ann")
    profiles.put(change(ann))


@pytest.mark.parametrize("command", ["sync", "dry-run"])
def test_a_user_whose_sync_is_off_is_skipped_with_exit_status_0(
    config: Path,
    command: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change_ann(request.node.name, lambda ann: attrs.evolve(ann, enabled=False))

    status = main(["--config", str(config), command, "cli.ann"])

    assert (status, capsys.readouterr().out) == (0, "Profile cli.ann: skipped, sync is off\n")


@pytest.mark.parametrize("command", ["sync", "dry-run"])
def test_a_user_with_nothing_to_sync_is_skipped_with_exit_status_0(
    config: Path,
    command: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    change_ann(request.node.name, lambda ann: attrs.evolve(ann, calendar_id=None))

    status = main(["--config", str(config), command, "cli.ann"])

    skipped = "skipped, nothing to sync: no calendar is chosen and contact sync is off"
    assert (status, capsys.readouterr().out) == (0, f"Profile cli.ann: {skipped}\n")

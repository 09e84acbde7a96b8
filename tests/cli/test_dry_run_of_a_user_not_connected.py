"""``calsync dry-run PROFILE`` on a user who has not connected Google says so as ``sync``
does, in the host's words, and exits 0: that waits for the user, it is neither a failure (1)
nor a configuration error (2). Nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from memory_host import HOSTS

from calsync import SqliteStateStore
from calsync.cli import main
from calsync.model import Channel

NOT_CONNECTED = (
    "Profile cli.ann: not connected, no Google account is connected: connect your Google "
    "account in My Account\n"
)


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(  # no token stored for anyone; Google is never reached
        f'host = "memory_host:open_host"\n[host_options]\nname = "{request.node.name}"\n'
        'preferences = "My Account"\n'
        '[google]\nclient_id = "i"\nclient_secret = "s"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    return path


def test_dry_run_of_a_user_without_google_says_so_like_sync_and_exits_0(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dry = main(["--config", str(config), "dry-run", "cli.ann"])
    dry_out, dry_err = capsys.readouterr()
    synced = main(["--config", str(config), "sync", "cli.ann"])
    sync_out, _ = capsys.readouterr()

    assert (dry, dry_out) == (0, NOT_CONNECTED)
    assert "calsync:" not in dry_err
    assert (synced, sync_out) == (0, NOT_CONNECTED)


def test_dry_run_of_a_user_without_google_writes_nothing(
    config: Path, request: pytest.FixtureRequest
) -> None:
    assert main(["--config", str(config), "dry-run", "cli.ann"]) == 0

    with SqliteStateStore(config.parent / "calsync.sqlite3") as store:
        assert store.mappings("cli.ann", Channel.CALENDAR) == {}
        assert store.get_last_run("cli.ann") is None
    profiles = HOSTS[request.node.name].profiles.profiles()
    assert [p.status.value for p in profiles] == ["ok", "ok"]  # the host is not told either

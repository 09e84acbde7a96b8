"""The ``calsync`` command on the server's stores: ``migrate`` brings the PostgreSQL schema up
to date, then every command runs on PostgreSQL state and encrypted PostgreSQL tokens."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from services import POSTGRES_URL

from calsync.cli import main
from calsync.crypto import generate_key
from calsync.state.postgres import PostgresStateStore
from calsync.testing import GoogleEmulator


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.mark.emulator
def test_migrate_then_sync_on_postgres_state_and_tokens(
    tmp_path: Path, pg_schema: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("CALSYNC_TOKEN_KEYS", generate_key())
    with GoogleEmulator() as google:
        config = tmp_path / "calsync.toml"
        config.write_text(
            f"""
host = "memory_host:open_host"
[host_options]
name = "{pg_schema}"
[google]
client_id = "demo-client"
client_secret = "demo-secret"
base_url = "{google.base_url}"
[server]
database = "{POSTGRES_URL}"
schema = "{pg_schema}"
tenant = "studio-a"
""",
            encoding="utf-8",
        )
        # before the migration, the server refuses to run on an old (here: empty) schema
        assert run("--config", str(config), "status")[0] == 2
        assert "calsync migrate" in capsys.readouterr().err
        version = PostgresStateStore.SCHEMA_VERSION
        assert run("--config", str(config), "migrate") == (
            0, f"state schema at version {version}\n"
        )  # fmt: skip
        code, out = run("--config", str(config), "status", "--json")
        assert code == 0
        assert {row["last run"] for row in json.loads(out)} == {"never"}

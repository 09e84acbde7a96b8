"""The ``calsync`` command running the studio example host from a configuration file."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from studio.db import Studio
from studio.host import open_host
from studio.seed import USERS, seed_demo_studio

from calsync.cli import main
from calsync.errors import ConfigurationError
from calsync.google import SqliteTokenStore, StoredToken
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write_config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(
        f"""
state = "calsync.sqlite3"
host = "studio.host:open_host"
host_path = "{EXAMPLES}"

[host_options]
database = "studio.sqlite3"
studio = "lumen"

[google]
client_id = "lumen-desktop"
client_secret = "not-a-secret"
tokens = "tokens.sqlite3"
base_url = "{base_url}"
""",
        encoding="utf-8",
    )
    return path


def test_run_once_syncs_the_studio_database_named_in_the_configuration(tmp_path: Path) -> None:
    with Studio(tmp_path / "studio.sqlite3") as studio:
        seeded = seed_demo_studio(studio, now=datetime.now(UTC))
    tokens = SqliteTokenStore(tmp_path / "tokens.sqlite3")
    with GoogleEmulator() as google:
        for name, user in seeded.users.items():
            access, refresh = google.issue_tokens(USERS[name][1])
            tokens.save(f"lumen.{user}", StoredToken(refresh, access))
        config = write_config(tmp_path, google.base_url)

        assert main(["--config", str(config), "run", "--once"], out=io.StringIO()) == 0
        out = io.StringIO()
        assert main(["--config", str(config), "status", "--json"], out=out) == 0
        ann_events = len(google.account(USERS["ann"][1]).primary.live_events())

    rows = {row["profile"]: row for row in json.loads(out.getvalue())}
    assert set(rows) == {f"lumen.{user}" for user in seeded.users.values()}
    assert ann_events == rows[f"lumen.{seeded.users['ann']}"]["events"] > 0
    with Studio(tmp_path / "studio.sqlite3") as studio:
        assert not studio.google_prefs(seeded.users["ann"]).first_time


def test_a_configuration_without_the_studio_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs database"):
        open_host({"config_dir": str(tmp_path)})

"""The ``calsync`` command against the emulator, with an in-memory host."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from memory_host import write_config

from calsync.cli import main
from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore, StoredToken

pytestmark = pytest.mark.emulator
SUPPORT = Path(__file__).resolve().parents[1] / "support"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def config(tmp_path: Path, google: GoogleEmulator, request: pytest.FixtureRequest) -> Path:
    google.reset()
    tokens = SqliteTokenStore(tmp_path / "tokens.sqlite3")
    for user in ("ann", "ben"):
        access, refresh = google.issue_tokens(f"{user}@studio.example")
        tokens.save(f"cli.{user}", StoredToken(refresh, access))
    return write_config(
        tmp_path, request.node.name, google.base_url, "\n[processor]\ninterval = 60\n"
    )


def run(config: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--config", str(config), *args], out=out)
    return code, out.getvalue()


def test_run_once_syncs_every_user_and_prints_a_report(
    config: Path, google: GoogleEmulator
) -> None:
    code, out = run(config, "run", "--once")

    assert code == 0
    assert "Profile cli.ann:" in out
    assert "Google: 1 created" in out
    assert len(google.account("ann@studio.example").calendar("primary").live_events()) == 1


def test_status_shows_each_profile_after_a_run(config: Path) -> None:
    run(config, "run", "--once")

    code, out = run(config, "status", "--json")

    rows = {row["profile"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["cli.ann"]["events"] == 1
    assert rows["cli.ann"]["last run"] != "never"


def test_dry_run_prints_the_plan_and_writes_nothing(config: Path, google: GoogleEmulator) -> None:
    code, out = run(config, "dry-run", "cli.ben")

    assert code == 0
    assert "would create remote calendar item for host session ben-1" in out
    assert google.account("ben@studio.example").calendar("primary").live_events() == []


def test_dry_run_says_how_many_planned_actions_it_did_not_list(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("calsync.engine.report.PLANNED_SHOWN", 0)

    code, out = run(config, "dry-run", "cli.ben")

    assert code == 0
    assert "would create" not in out
    assert "… and 1 more" in out


def test_reset_then_sync_adopts_instead_of_duplicating(
    config: Path, google: GoogleEmulator
) -> None:
    run(config, "sync", "cli.ann")

    assert run(config, "reset", "cli.ann")[0] == 0
    code, _ = run(config, "sync", "cli.ann")

    assert code == 0
    assert len(google.account("ann@studio.example").calendar("primary").live_events()) == 1


def test_calendars_lists_and_creates_calendars(config: Path) -> None:
    code, created = run(
        config, "calendars", "cli.ann", "--create", "Studio sessions", "--zone", "Europe/Kiev"
    )
    assert code == 0
    assert "created" in created

    code, listed = run(config, "calendars", "cli.ann")

    assert "Studio sessions" in listed
    assert "(primary)" in listed


def test_an_unknown_profile_is_a_clear_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(config, "sync", "cli.nobody")

    assert code == 2
    assert "no profile 'cli.nobody'" in capsys.readouterr().err


def test_a_broken_configuration_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('state = "s.sqlite3"\n', encoding="utf-8")

    assert main(["--config", str(path), "status"]) == 2
    assert "needs 'host'" in capsys.readouterr().err


def test_authorize_runs_the_consent_flow_and_stores_the_token(
    config: Path, google: GoogleEmulator, tmp_path: Path
) -> None:
    SqliteTokenStore(tmp_path / "tokens.sqlite3").delete("cli.ben")
    env = {**os.environ, "PYTHONPATH": str(SUPPORT)}
    command = [sys.executable, "-m", "calsync.cli", "--config", str(config)]
    process = subprocess.Popen(
        [*command, "authorize", "cli.ben", "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Open this address")
        consent = process.stdout.readline().strip()
        # the user consents; Google redirects the browser back to calsync's local server
        with urllib.request.urlopen(consent, timeout=30) as answer:
            assert answer.status == 200
        assert process.wait(timeout=30) == 0
        assert "cli.ben: Google connected" in process.stdout.read()
    finally:
        process.kill()
    token = SqliteTokenStore(tmp_path / "tokens.sqlite3").load("cli.ben")
    assert token is not None
    assert token.refresh_token


def test_the_emulator_subcommand_prints_its_base_url_first() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "calsync.cli", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_user_without_a_token_is_told_in_the_hosts_own_words(
    config: Path, tmp_path: Path
) -> None:
    SqliteTokenStore(tmp_path / "tokens.sqlite3").delete("cli.ben")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[host_options]\n", '[host_options]\npreferences = "My Account"\n'),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(SUPPORT)}

    done = subprocess.run(
        [sys.executable, "-m", "calsync.cli", "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert done.returncode == 0, done.stdout
    assert (
        "Profile cli.ben: not connected, no Google account is connected: connect your Google "
        "account in My Account"
    ) in done.stdout
    assert "Profile cli.ann:\n  Google: 1 created" in done.stdout


def test_the_web_subcommand_serves_notifications_and_opens_a_channel_per_user(
    config: Path, google: GoogleEmulator
) -> None:
    import socket
    import time

    config.write_text(config.read_text().replace("interval = 60", "interval = 60\njitter = 0"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(SUPPORT)}
    command = [sys.executable, "-m", "calsync.cli", "--config", str(config), "web"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--public-url", f"http://127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"serving on http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            delivered = [d for d in google.push.deliveries() if d.outcome == "delivered"]
            if len(delivered) == 2:
                break
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert json.loads(answer.read()) == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=20)
    accounts = sorted(c["account"] for c in google.push.channels())
    assert accounts == ["ann@studio.example", "ben@studio.example"]
    assert [d.state for d in delivered] == ["sync", "sync"]
    rows = json.loads(run(config, "status", "--json")[1])
    assert all(row["push"].startswith("channel until ") for row in rows)
    assert not any(row["push"].endswith("unconfirmed") for row in rows)

"""The server example (``examples/server.py``): many studios on one shared state store, synced
through the Google emulator by runners that race for the same users."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SERVER = Path(__file__).resolve().parents[2] / "examples" / "server.py"
STUDIOS, USERS, RUNNERS = 3, 4, 2  # the 4th user of each studio has sync off
SKIP_REASONS = {"another runner is syncing this user", "synced recently by another runner"}

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def rounds() -> list[dict[str, Any]]:
    """The three rounds of one run: initial sync, after changes, nothing changed."""
    command = [
        sys.executable, str(SERVER), "--json", "--studios", str(STUDIOS), "--users", str(USERS),
        "--runners", str(RUNNERS), "--workers", "2", "--rounds", "3",
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout)
    assert (result["studios"], result["users"], result["runners"]) == (STUDIOS, USERS, RUNNERS)
    rounds: list[dict[str, Any]] = result["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    return rounds


def test_every_eligible_user_is_synced_exactly_once_a_round_across_racing_runners(
    rounds: list[dict[str, Any]],
) -> None:
    eligible = [f"studio{s}.{u}" for s in range(1, STUDIOS + 1) for u in range(1, USERS)]
    for r in rounds:
        assert r["eligible_profiles"] == eligible
        # one entry per sync, sorted: a user synced twice, or never, would show here
        assert r["synced_profiles"] == eligible
        assert r["synced"] == r["eligible"] == len(eligible)
        assert sum(r["synced_by_runner"].values()) == r["synced"]


def test_the_other_runners_skip_each_user_for_the_lease_or_the_recent_sync(
    rounds: list[dict[str, Any]],
) -> None:
    for r in rounds:
        assert set(r["skipped"]) <= SKIP_REASONS
        assert sum(r["skipped"].values()) == (RUNNERS - 1) * r["eligible"]


def test_no_run_reports_an_error(rounds: list[dict[str, Any]]) -> None:
    assert [(r["errors"], r["problems"]) for r in rounds] == [(0, [])] * len(rounds)


def test_the_initial_sync_writes_to_google_and_later_changes_flow_both_ways(
    rounds: list[dict[str, Any]],
) -> None:
    initial, changed, _ = rounds
    assert initial["google_writes"] > 0
    assert changed["google_writes"] > 0  # a session moved, an appointment added, a client edited
    assert changed["studio_writes"] == STUDIOS  # each studio's Google-made event came back


def test_a_quiet_round_writes_nothing(rounds: list[dict[str, Any]]) -> None:
    quiet = rounds[-1]
    assert (quiet["google_writes"], quiet["studio_writes"]) == (0, 0)


def test_every_round_reaches_google_through_the_emulator(rounds: list[dict[str, Any]]) -> None:
    for r in rounds:
        assert r["http_requests"] > 0
        assert r["api_calls"] > 0
    assert rounds[-1]["api_calls"] < rounds[0]["api_calls"]  # a quiet round only lists changes

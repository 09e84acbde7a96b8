"""The server example (``examples/server.py``, ``make demo-server``): celery worker processes
on Redis and PostgreSQL sync every due user exactly once a round, with no duplicate and no quota
refusal, and a worker killed mid-sync leaves its user to the other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from services import require

SERVER = Path(__file__).resolve().parents[2] / "examples" / "server.py"
STUDIOS, USERS = 3, 4  # the 4th user of each studio has sync off: 9 users a round

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    require("PostgreSQL")
    require("Redis")
    command = [sys.executable, str(SERVER), "--json", "--studios", str(STUDIOS),
               "--users", str(USERS), "--rounds", "3", "--kill-round", "2"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=240)
    loaded: dict[str, Any] = json.loads(out.stdout)
    return loaded


def test_every_due_user_is_synced_exactly_once_a_round(result: dict[str, Any]) -> None:
    for r in result["rounds"]:
        assert r["queued"] == STUDIOS * (USERS - 1)
        assert (r["synced_twice"], r["not_synced"]) == ([], [])


def test_no_duplicate_and_no_quota_refusal_in_any_round(result: dict[str, Any]) -> None:
    assert [(r["duplicates_in_google"], r["quota_refusals"]) for r in result["rounds"]] == [
        (0, 0)
    ] * 3
    assert all(r["api_calls"] >= r["http_requests"] > 0 for r in result["rounds"])


def test_the_killed_workers_user_is_finished_by_the_other_worker(result: dict[str, Any]) -> None:
    killed = result["rounds"][1]["killed"]
    assert killed["in_flight"]
    assert set(killed["finished_by"]) == set(killed["in_flight"])
    assert killed["worker"] not in killed["finished_by"].values()
    assert [r["killed"] for r in (result["rounds"][0], result["rounds"][2])] == [None, None]

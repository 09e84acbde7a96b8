"""Every script in benchmarks/ still runs: each at a tiny size, in its own process, as a user
would start it. The numbers are not looked at (benchmarks measure, tests never time); what is
checked is that the script finishes and prints its report. A benchmark broken by a change of
the library's API fails here instead of on the day someone needs its numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from services import require

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

#: script -> (tiny arguments, a line of its report)
TINY = {
    "emulator_batch.py": (["20"], "HTTP"),
    "engine_plan.py": (["1000"], "plan CPU s"),
    "state_store.py": (["500"], "insert, one transaction"),
    "engine_costs.py": (["--items", "1000", "--sqlite-items", "200"], "quiet run"),
    "google_sync_cost.py": (
        ["--items", "100", "--paced-items", "50", "--window", "1"],
        "client CPU of a quiet round",
    ),
    "push_latency.py": (["--users", "2", "--edits", "4", "--spread", "1"], "quiet day"),
    "versus_vdirsyncer.py": (["--quick", "--rounds", "1"], "| 10k | full listing |"),
    "server_round.py": (
        ["--users", "6", "--items", "3", "--workers", "2", "--repeat", "1"],
        "users_per_core_second",
    ),
}
SERVICES = {"server_round.py": ("PostgreSQL", "Redis")}


def test_every_benchmark_has_a_tiny_run() -> None:
    assert sorted(TINY) == sorted(p.name for p in BENCHMARKS.glob("*.py"))


@pytest.mark.parametrize("script", sorted(TINY))
def test_the_benchmark_runs_and_reports(script: str) -> None:
    for service in SERVICES.get(script, ()):
        require(service)
    arguments, expected = TINY[script]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"PYTHONPATH": str(ROOT / "tests" / "support")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout, done.stdout[-3000:]

"""The demo the README promises runs and tells the truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_the_demo_syncs_three_users_and_a_quiet_second_pass_writes_nothing() -> None:
    out = subprocess.run(
        [sys.executable, str(DEMO), "--json"], capture_output=True, text=True, check=True
    )

    runs = json.loads(out.stdout)
    initial, changes, conversion, quiet = runs
    assert set(initial["reports"]) == {"ann", "ben", "cara"}
    assert all(r["counts"].get("remote.created", 0) > 0 for r in initial["reports"].values())
    assert changes["reports"]["ben"]["counts"]["host.created"] == 1
    assert conversion["reports"]["ben"]["counts"]["remote.updated"] == 1
    assert all(r["writes"] == 0 for r in quiet["reports"].values())
    assert all(r["errors"] == [] for run in runs for r in run["reports"].values())

"""The demo ``make demo`` runs tells the truth: a studio synced with the emulator, end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.py"

pytestmark = pytest.mark.emulator


def make_demo_usable() -> bool:
    """``make demo`` would run this interpreter's checkout, without installing anything."""
    stamp = ROOT / ".venv" / ".installed"
    return (
        shutil.which("make") is not None
        and Path(sys.prefix).resolve() == (ROOT / ".venv").resolve()
        and stamp.exists()
        and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime
    )


#: How the rounds below were made: ``make demo ARGS=--json`` when it can run here.
BY_MAKE = make_demo_usable()


@pytest.fixture(scope="module")
def rounds() -> list[dict[str, Any]]:
    if BY_MAKE:
        # the make target a user pipes into jq: its stdout must be the JSON and nothing else
        env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
        command = ["make", "-C", str(ROOT), "--no-print-directory", "demo", "ARGS=--json"]
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    else:
        command = [sys.executable, str(DEMO), "--json"]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    data: list[dict[str, Any]] = json.loads(out.stdout)
    return data


@pytest.mark.skipif(not BY_MAKE, reason="make demo would need to set up .venv first")
def test_make_demo_with_json_prints_json_only(rounds: list[dict[str, Any]]) -> None:
    assert [r["run"] for r in rounds] == [
        "initial sync",
        "changes on both sides",
        "conversion and re-authorisation",
        "nothing changed",
    ]


def test_the_initial_sync_fills_each_users_google_calendar_and_anns_contacts(
    rounds: list[dict[str, Any]],
) -> None:
    users = rounds[0]["users"]

    assert set(users) == {"ann", "ben", "cara"}
    for user in users.values():
        assert user["initial_sync_completed"]
        in_google = user["in_google"]
        assert user["google"]["created"] == in_google["events"] + in_google["contacts"]
    assert users["ann"]["in_google"]["contacts"] == 3
    assert users["ben"]["in_google"]["contacts"] == 0
    # writes go in batches: fewer HTTP requests than API calls
    assert rounds[0]["emulator"]["http_requests"] < rounds[0]["emulator"]["api_calls"]


def test_changes_on_both_sides_reach_the_other_side(rounds: list[dict[str, Any]]) -> None:
    ann, ben = rounds[1]["users"]["ann"], rounds[1]["users"]["ben"]

    assert ann["google"] == {"created": 1, "updated": 2, "deleted": 0, "restored": 1}
    assert ben["studio"]["created"] == 1  # the Google-made event, as an unlinked appointment
    assert ben["studio"]["updated"] == 1  # the appointment moved in Google
    assert any("Headshots" in w and "restored" in w for w in ann["warnings"])


def test_a_revoked_token_stops_only_that_user_and_tells_them_by_email(
    rounds: list[dict[str, Any]],
) -> None:
    cara = rounds[1]["users"]["cara"]

    assert cara["needs_reauth"]
    assert cara["status"] == "needs_reauth"
    subjects = {mail["to"]: mail["subject"] for mail in rounds[1]["emails"]}
    assert "re-authenticate" in subjects["cara@lumen-studio.example"]
    assert all(rounds[1]["users"][u]["failed"] is None for u in ("ann", "ben"))


def test_converting_the_unlinked_appointment_updates_the_same_google_event(
    rounds: list[dict[str, Any]],
) -> None:
    ben = rounds[2]["users"]["ben"]

    assert ben["google"] == {"created": 0, "updated": 1, "deleted": 0, "restored": 0}
    assert ben["in_google"]["events"] == rounds[1]["users"]["ben"]["in_google"]["events"]
    assert rounds[2]["ben_event_after_conversion"] == "Consultation - Sofia Marin"


def test_after_reauthorising_the_user_catches_up_with_what_changed_meanwhile(
    rounds: list[dict[str, Any]],
) -> None:
    cara = rounds[2]["users"]["cara"]

    assert cara["status"] == "ok"
    assert cara["google"]["updated"] == 1  # Harriet's new phone in Cara's session
    # one note that the problem cleared; Ann's one-off warning is not followed by one
    assert rounds[2]["emails"] == [
        {"to": "cara@lumen-studio.example", "subject": "Google Sync is working again"}
    ]


def test_a_run_with_nothing_changed_writes_nothing_and_only_lists(
    rounds: list[dict[str, Any]],
) -> None:
    quiet = rounds[3]

    assert all(user["writes"] == 0 for user in quiet["users"].values())
    assert all(not user["errors"] and not user["warnings"] for user in quiet["users"].values())
    # one listing per calendar (three users) and one for Ann's contacts
    assert quiet["emulator"] == {"http_requests": 4, "api_calls": 4}
    assert quiet["emails"] == []


def test_the_demo_prints_a_readable_report_without_json() -> None:
    out = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, check=True)

    assert "Round 4: nothing changed" in out.stdout
    assert "FAILED: Google refused the saved authorisation" in out.stdout
    assert out.stderr == ""

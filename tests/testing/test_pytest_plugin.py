"""calsync's pytest plugin: a host's failing contract test shows the values it compared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HOST_TEST = '''
import pytest

from calsync.testing.contracts.sources import ScheduleHarness, ScheduleSourceContract
from calsync.testing.host import MemoryScheduleSource


class ForgetfulSchedule(MemoryScheduleSource):
    """A broken adapter: its listings leave every item out."""

    def list_items(self, user_id, window):
        return []


class TestForgetfulSchedule(ScheduleSourceContract):
    @pytest.fixture
    def schedule_harness(self):
        source = ForgetfulSchedule()
        return ScheduleHarness(source, source)
'''


def run_host_tests(tmp_path: Path, *options: str, autoload: bool = True) -> str:
    """pytest over a host's project in ``tmp_path`` (only its own configuration); the output."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_host_adapter.py").write_text(HOST_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
         "-k", "test_listing_returns_the_items_touching_the_window", "test_host_adapter.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def shows_the_values(output: str) -> bool:
    """Whether the failure shows what the contract compared: the items the listing left out."""
    return "Extra items in the left set:" in output and "'contract-inside'" in output


def test_a_failing_contract_assertion_shows_the_values_it_compared(tmp_path: Path) -> None:
    output = run_host_tests(tmp_path)  # the plugin comes in through its entry point

    assert shows_the_values(output), output


def test_the_plugin_module_alone_has_the_contract_suites_rewritten(tmp_path: Path) -> None:
    """Loaded by name with autoloading off, only the plugin's own registration is at work
    (an autoloaded plugin's whole distribution is marked for rewriting by pytest itself)."""
    output = run_host_tests(tmp_path, "-p", "calsync.testing.pytest_plugin", autoload=False)

    assert shows_the_values(output), output


def test_without_calsyncs_plugin_the_failure_is_a_bare_assertion_error(tmp_path: Path) -> None:
    output = run_host_tests(tmp_path, autoload=False)

    assert not shows_the_values(output)
    assert "E       AssertionError\n" in output

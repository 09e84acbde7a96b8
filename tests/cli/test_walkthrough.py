"""docs/cli.md, "Trying it against the emulator", works as written: its commands are read from
the page and run in order, in a fresh directory, as an administrator would type them (a
``name=$(…)`` line through the shell, its output then given for ``"$name"``)."""

from __future__ import annotations

import io
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from operator_world import consent

from calsync.cli import main

pytestmark = pytest.mark.emulator
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "cli.md"
DOC_PORT = "8765"


def walkthrough() -> list[str]:
    """The shell commands of the section, in order."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Trying it against the emulator", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the walkthrough has no sh block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def as_run_here(command: str, port: str, variables: dict[str, str]) -> list[str]:
    """The command with this checkout's tools (``.venv/bin`` is the interpreter running the
    tests), its examples, a free port instead of the page's 8765 (tests run in parallel), and
    the shell variables set before given."""
    words = shlex.split(command.removesuffix("&").replace(DOC_PORT, port))
    bin_dir = Path(sys.executable).parent
    return [
        str(bin_dir / word.removeprefix(".venv/bin/"))
        if word.startswith(".venv/bin/")
        else str(ROOT / word)
        if word.startswith("examples/")
        else variables[word.removeprefix("$")]
        if word.startswith("$")
        else word
        for word in words
    ]


ASSIGNMENT = re.compile(r"(\w+)=\$\((.*)\)")


def shell_output(command: str, port: str, cwd: Path) -> str:
    """What a ``$(…)`` command prints, run by the shell with this checkout's tools."""
    command = command.replace(DOC_PORT, port).replace(
        ".venv/bin/", f"{Path(sys.executable).parent}/"
    )
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    commands = walkthrough()
    port = free_port()
    background: list[subprocess.Popen[str]] = []
    outputs: list[str] = []
    variables: dict[str, str] = {}
    try:
        for command in commands:
            if assignment := ASSIGNMENT.fullmatch(command):
                name, inner = assignment.groups()
                variables[name] = shell_output(inner, port, tmp_path)
                continue
            if command == "kill %1":
                background[0].terminate()
                background[0].wait(timeout=10)
                outputs.append("")
                continue
            argv = as_run_here(command, port, variables)
            if command.endswith("&"):
                process = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
                background.append(process)
                assert process.stdout is not None
                outputs.append(process.stdout.readline())
            elif "authorize" in argv and "--no-browser" in argv:
                started = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
                outputs.append(consent(started))
                assert started.returncode == 0, command
            else:
                done = subprocess.run(
                    argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
                )
                assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
                outputs.append(done.stdout)
    finally:
        for process in background:
            process.kill()
            process.wait(timeout=10)

    emulator, init, before, unconnected, authorised, synced, again, after, _ = outputs
    ann = variables["ann"]
    profiles = re.findall(r"^  (lumen\.\d+): ", init, re.MULTILINE)
    assert emulator.strip() == f"http://127.0.0.1:{port}"
    assert (tmp_path / "demo" / "calsync.toml").is_file()
    assert f"{ann}: Ann Avery" in init
    assert len(set(profiles)) == 3
    assert ann in profiles
    assert before.count("status: ok") == 3
    assert before.count("last run: never") == 3
    assert unconnected.count("connect your Google account in User Preferences") == 3
    assert f"{ann}: Google connected" in authorised
    assert f"Profile {ann}:\n  Google: 9 created" in synced
    assert [p for p in profiles if p in synced] == [ann]
    assert "Google: 0 created" in again
    rows = [line for line in after.splitlines() if line.startswith("profile:")]
    (anns,) = [row for row in rows if row.startswith(f"profile: {ann} ")]
    assert "status: ok" in anns
    assert "events: 6  contacts: 3" in anns
    others = [row for row in rows if row != anns]
    assert len(others) == 2
    assert all("status: not_connected" in row for row in others)


def test_status_on_an_empty_studio_says_there_are_no_profiles(tmp_path: Path) -> None:
    config = tmp_path / "calsync.toml"
    config.write_text(
        f'host = "studio.host:open_host"\nhost_path = "{ROOT / "examples"}"\n'
        '[host_options]\ndatabase = "empty.sqlite3"\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "calsync.cli", "-c", str(config)]

    status = subprocess.run([*command, "status"], capture_output=True, text=True, check=False)
    listing = io.StringIO()
    main(["-c", str(config), "status", "--json"], out=listing)

    assert status.returncode == 0
    assert status.stdout.startswith("no profiles: the host (studio.host:open_host) has no users")
    assert listing.getvalue().strip() == "[]"  # still JSON for scripts

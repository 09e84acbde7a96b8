"""The command's number arguments (``--wait``, ``--port``, ``--debounce``,
``--safety-interval``) are checked when the command line is read: a usage error naming the
argument, exit status 2, never a traceback from deep inside a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from calsync import cli
from calsync.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(
        'host = "memory_host:open_host"\n[host_options]\nname = "arguments"\n'
        '[google]\nclient_id = "i"\nclient_secret = "s"\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(autouse=True)
def commands_that_would_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """``authorize`` waits for a browser and ``web`` serves until interrupted: should they be
    given the arguments, fail at once instead."""

    def taken(app: object, args: object) -> int:
        raise AssertionError(f"the command ran with {args}")

    monkeypatch.setitem(cli.COMMANDS, "authorize", taken)
    monkeypatch.setitem(cli.COMMANDS, "web", taken)


def usage_error(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("wait", ["-5", "nan", "inf", "1e300", "soon", "86401"])
@pytest.mark.parametrize("command", ["sync", "reset"])
def test_a_wait_that_is_not_a_number_of_seconds_up_to_a_day_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str], command: str, wait: str
) -> None:
    last = usage_error(config, capsys, command, "cli.ann", f"--wait={wait}")

    assert last == (
        f"calsync {command}: error: argument --wait: must be a number of seconds from 0 to "
        f"86400, not {wait!r}"
    )


@pytest.mark.parametrize("port", ["-1", "65536", "99999", "http"])
def test_a_port_outside_0_to_65535_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    authorize = usage_error(config, capsys, "authorize", "cli.ann", f"--port={port}")
    web = usage_error(config, capsys, "web", "--public-url", "https://x", f"--port={port}")

    assert authorize.endswith(f"argument --port: must be a port from 0 to 65535, not {port!r}")
    assert web.endswith(f"argument --port: must be a port from 0 to 65535, not {port!r}")


@pytest.mark.parametrize(
    ("argument", "value", "bounds"),
    [
        ("--debounce", "nan", "from 0 to 3600"),
        ("--debounce", "-1", "from 0 to 3600"),
        ("--safety-interval", "0", "from 1 to 604800"),
        ("--safety-interval", "inf", "from 1 to 604800"),
    ],
)
def test_the_web_commands_seconds_are_checked(
    config: Path, capsys: pytest.CaptureFixture[str], argument: str, value: str, bounds: str
) -> None:
    last = usage_error(config, capsys, "web", "--public-url", "https://x", f"{argument}={value}")

    assert last.endswith(
        f"argument {argument}: must be a number of seconds {bounds}, not {value!r}"
    )


def test_a_wait_within_a_day_is_taken(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--config", str(config), "reset", "cli.ann", "--wait", "0"])

    assert code == 0
    assert "cli.ann: sync state forgotten" in capsys.readouterr().out

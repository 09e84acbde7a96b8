"""``[smtp] password_env`` names a variable the service's environment sets: the commands that
send email (``run``, ``sync``, ``web``) refuse to start without it, since every problem email
would fail to log in; an operator's shell need not hold it to look (``status``) or to try
(``dry-run``)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from memory_host import write_config

from calsync.cli import main
from calsync.config import Config
from calsync.errors import ConfigurationError

VARIABLE = "CALSYNC_TEST_SMTP_PASSWORD"
UNSET = (
    f"[smtp] password_env names {VARIABLE}, but the environment has no {VARIABLE} (or it is "
    "empty): set it where calsync runs, or remove password_env"
)


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(VARIABLE, raising=False)
    more = f'\n[smtp]\nhost = "mail.example"\nusername = "studio"\npassword_env = "{VARIABLE}"\n'
    return write_config(tmp_path, request.node.name, "http://127.0.0.1:9", more)


def run(config: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--config", str(config), *args], out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("value", [None, ""])
def test_the_notifier_of_a_configuration_whose_password_variable_is_unset_is_refused(
    config: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv(VARIABLE, value)
    loaded = Config.load(config)

    with pytest.raises(ConfigurationError, match=f"^{re.escape(UNSET)}$"):
        loaded.notifier()


def test_the_password_comes_from_the_variable_when_it_is_set(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, "s3cret")

    notifier = Config.load(config).notifier()

    assert notifier is not None
    assert notifier.settings.password == "s3cret"


@pytest.mark.parametrize("command", [["run", "--once"], ["sync", "cli.ann"]])
def test_a_command_that_sends_email_refuses_to_start_without_the_password(
    config: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out = run(config, *command)

    assert code == 2
    assert f"calsync: {UNSET}" in capsys.readouterr().err
    assert out == ""  # (nothing synced)


def test_status_shows_the_profiles_without_the_password(config: Path) -> None:
    code, out = run(config, "status")

    assert code == 0
    assert "profile: cli.ann" in out


def test_a_dry_run_needs_no_password(config: Path) -> None:
    code, out = run(config, "dry-run", "cli.ann")  # (no Google token stored for ann)

    assert code == 0
    assert "Profile cli.ann: not connected" in out

"""The configuration file: paths relative to it, secrets from the environment, clear errors."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from calsync import config as config_module
from calsync.config import Config
from calsync.errors import ConfigurationError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(path: Path) -> subprocess.CompletedProcess[str]:
    """``calsync -c PATH status`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "calsync.cli", "-c", str(path), "status"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_paths_are_relative_to_the_file_and_the_smtp_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_SMTP_PASSWORD", "s3cret")
    path = write(
        tmp_path,
        """
host = "studio.host:open_host"
[google]
client_id = "id"
client_secret = "secret"
[smtp]
host = "smtp.studio.example"
port = 465
security = "ssl"
username = "sync"
password_env = "STUDIO_SMTP_PASSWORD"
ca_file = "certs/studio-ca.pem"
""",
    )

    config = Config.load(path)

    assert config.state == tmp_path / "calsync.sqlite3"
    assert config.google is not None
    assert config.google.tokens == tmp_path / "tokens.sqlite3"
    assert config.smtp is not None
    assert config.smtp.password == "s3cret"
    assert config.smtp.ca_file == str(tmp_path / "certs" / "studio-ca.pem")
    assert (config.smtp.port, config.smtp.security) == (465, "ssl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('state = "s.sqlite3"', "needs 'host'"),
        ('host = "h:f"\n[google]\ntokens = "t"', "client_secrets, or client_id"),
        ('host = "h:f"\n[smtp]\nhost = "m"\nsecurity = "tls"', "security must be"),
        ('host = "h:f"\nstate = 3', "'state' must be text"),
        ("host = ", "not valid TOML"),
        ('host = "h:f"\n[processor]\ninterval = "often"', "[processor] interval must be a number"),
        ('host = "h:f"\n[processor]\nworkers = 2.5', "[processor] workers must be a whole"),
        (
            'host = "h:f"\n[processor]\njitter = -1',
            "[processor] jitter must be at least 0 and less than 1, not -1",
        ),
        ('host = "h:f"\n[smtp]\nhost = "m"\nport = "smtp"', "[smtp] port must be a whole"),
        (
            'host = "h:f"\n[google]\nclient_id = "i"\nclient_secret = "s"\ncalls_per_minute = true',
            "[google] calls_per_minute must be a whole",
        ),
    ],
)
def test_a_wrong_key_is_a_configuration_error_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Config.load(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('host = "h:f"\nstat = "x.sqlite3"', "unknown key 'stat' (did you mean 'state'?)"),
        (
            'host = "h:f"\n[processor]\nintervall = 5',
            "[processor] unknown key 'intervall' (did you mean 'interval'?)",
        ),
        (
            'host = "h:f"\n[procesor]\ninterval = 5',
            "unknown section [procesor] (did you mean [processor]?)",
        ),
        (
            'host = "h:f"\n[google]\nclient_id = "i"\ncalls_per_min = 60',
            "[google] unknown key 'calls_per_min' (did you mean 'calls_per_minute'?)",
        ),
        ('host = "h:f"\n[smtp]\nhost = "m"\nuser = "u"', "[smtp] unknown key 'user'"),
        ('host = "h:f"\n[server]\ntennant = "a"', "[server] unknown key 'tennant'"),
        ('host = "h:f"\nverbose = true', "unknown key 'verbose'"),
    ],
)
def test_an_unknown_or_misspelled_key_or_section_is_an_error_suggesting_the_known_one(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Config.load(write(tmp_path, text))


def test_the_host_options_are_the_hosts_own_and_take_any_key(tmp_path: Path) -> None:
    config = Config.load(write(tmp_path, 'host = "h:f"\n[host_options]\nstat = 1\nextra = "x"'))

    assert config.host_options == {"stat": 1, "extra": "x"}


def test_the_command_refuses_a_misspelled_state_key_instead_of_using_the_default_file(
    tmp_path: Path,
) -> None:
    done = cli(write(tmp_path, 'stat = "studio.sqlite3"\nhost = "h:f"\n'))

    assert (done.returncode, done.stderr) == (
        2,
        "calsync: unknown key 'stat' (did you mean 'state'?)\n",
    )
    assert not (tmp_path / "calsync.sqlite3").exists()


def test_a_host_factory_that_raises_is_a_configuration_error_naming_it_and_the_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken_host.py").write_text(
        "def open_host(options):\n    return options['database']\n", encoding="utf-8"
    )
    path = write(tmp_path, 'host = "broken_host:open_host"\nhost_path = "."\n')

    done = cli(path)  # a process of its own: the factory's module stays out of this one

    assert (done.returncode, done.stderr) == (
        2,
        "calsync: host factory 'broken_host:open_host' failed: KeyError: 'database'\n",
    )


def test_reminders_are_daily_unless_configured_and_zero_means_never(tmp_path: Path) -> None:
    default = Config.load(write(tmp_path, 'host = "h:f"'))
    hourly = Config.load(write(tmp_path, 'host = "h:f"\n[processor]\nremind_every_hours = 1'))
    never = Config.load(write(tmp_path, 'host = "h:f"\n[processor]\nremind_every_hours = 0'))

    assert default.remind_every == timedelta(days=1)
    assert hourly.remind_every == timedelta(hours=1)
    assert never.remind_every is None


def test_the_command_names_the_key_of_a_number_that_is_not_one(tmp_path: Path) -> None:
    path = write(tmp_path, 'host = "h:f"\n[processor]\ninterval = "often"\n')

    done = cli(path)

    assert done.returncode == 2
    assert done.stderr == "calsync: [processor] interval must be a number, not 'often'\n"


def test_the_documented_host_factory_is_the_studio_examples() -> None:
    assert 'host = "studio.host:open_host"' in (config_module.__doc__ or "")
    assert (EXAMPLES / "studio" / "host.py").read_text(encoding="utf-8").count("def open_host") == 1


def test_the_google_event_types_to_skip_can_be_set_and_are_checked(tmp_path: Path) -> None:
    base = 'host = "h:f"\n[google]\nclient_id = "i"\nclient_secret = "s"\n'

    config = Config.load(write(tmp_path, base + "skip_event_types = []"))

    assert config.google is not None
    assert config.google.skip_event_types == ()
    with pytest.raises(ConfigurationError, match="skip_event_types must be a list"):
        Config.load(write(tmp_path, base + 'skip_event_types = "outOfOffice"'))

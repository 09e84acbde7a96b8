"""The configuration file: paths relative to it, secrets from the environment, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from calsync.config import Config
from calsync.errors import ConfigurationError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


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
    ],
)
def test_a_wrong_key_is_a_configuration_error_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Config.load(write(tmp_path, text))


def test_the_google_event_types_to_skip_can_be_set_and_are_checked(tmp_path: Path) -> None:
    base = 'host = "h:f"\n[google]\nclient_id = "i"\nclient_secret = "s"\n'

    config = Config.load(write(tmp_path, base + "skip_event_types = []"))

    assert config.google is not None
    assert config.google.skip_event_types == ()
    with pytest.raises(ConfigurationError, match="skip_event_types must be a list"):
        Config.load(write(tmp_path, base + 'skip_event_types = "outOfOffice"'))

"""``security = "none"`` with a username would send the SMTP password in clear: refused when the
settings are built (and so when the configuration file is read), unless the server is on a
loopback address, where the password crosses no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from calsync.config import Config
from calsync.errors import ConfigurationError
from calsync.notify import SmtpSettings


@pytest.mark.parametrize(
    "host", ["smtp.studio.example", "192.0.2.7", "10.0.0.25", "2001:db8::25", "localhost.evil.net"]
)
def test_a_login_without_tls_to_another_machine_is_refused(host: str) -> None:
    with pytest.raises(ValueError, match=f"password to {host} unencrypted"):
        SmtpSettings(host, 25, security="none", username="sync", password="s3cret")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "localhost", "LocalHost."])
def test_a_login_without_tls_to_this_machine_is_allowed(host: str) -> None:
    settings = SmtpSettings(host, 25, security="none", username="sync", password="s3cret")

    assert settings.username == "sync"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_login_over_tls_to_another_machine_is_allowed(security: str) -> None:
    assert SmtpSettings("smtp.studio.example", security=security, username="sync").username


def test_no_login_without_tls_is_allowed_to_another_machine() -> None:
    assert SmtpSettings("relay.studio.example", 25, security="none").username is None


def test_the_configuration_refuses_a_login_without_tls_naming_the_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_TEST_SMTP_PASSWORD", "s3cret")
    path = tmp_path / "calsync.toml"
    path.write_text(
        """
host = "memory_host:open_host"

[smtp]
host = "smtp.studio.example"
port = 25
security = "none"
username = "sync"
password_env = "CALSYNC_TEST_SMTP_PASSWORD"
""",
        encoding="utf-8",
    )

    with pytest.raises(ConfigurationError) as refused:
        Config.load(path)

    assert str(refused.value).startswith('[smtp] a username with security = "none" would send')
    assert "s3cret" not in str(refused.value)

"""The configuration check refuses at load what would otherwise fail later or be quietly
misread: an empty server address (it would mean SQLite, or local pacing), half an OAuth
client, or a client given two ways. (An SMTP password variable that is not set is refused by
the commands that send email: test_only_commands_that_send_email_need_the_smtp_password.py.)
A byte order mark at the start of the file, as older Windows editors write, is no mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calsync.config import Config
from calsync.errors import ConfigurationError

HOST = 'host = "h:f"\n'
SMTP = '[smtp]\nhost = "mail.example"\npassword_env = "CALSYNC_TEST_SMTP_PASSWORD"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_smtp_password_comes_from_the_variable_when_it_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_TEST_SMTP_PASSWORD", "s3cret")

    config = Config.load(write(tmp_path, HOST + SMTP))

    assert config.smtp is not None
    assert config.smtp.password == "s3cret"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[server]\ndatabase = ""', "[server] database must be text that is not empty, not ''"),
        ('[server]\ndatabase = " "', "[server] database must be text that is not empty, not ' '"),
        ('[server]\nredis = ""', "[server] redis must be text that is not empty, not ''"),
        (
            '[google]\nclient_id = "i"',
            "[google] client_id needs client_secret too (or client_secrets instead of both)",
        ),
        (
            '[google]\nclient_secret = "s"',
            "[google] client_secret needs client_id too (or client_secrets instead of both)",
        ),
        (
            '[google]\nclient_id = ""\nclient_secret = "s"',
            "[google] client_id must be text that is not empty, not ''",
        ),
        (
            '[google]\nclient_id = "i"\nclient_secret = ""',
            "[google] client_secret must be text that is not empty, not ''",
        ),
        (
            '[google]\nclient_secrets = "c.json"\nclient_id = "i"\nclient_secret = "s"',
            "[google] takes client_secrets, or client_id and client_secret, not both",
        ),
        (
            '[google]\ntokens = "t.sqlite3"',
            "[google] needs client_secrets, or client_id and client_secret",
        ),
    ],
)
def test_an_empty_address_or_a_half_or_doubled_oauth_client_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        Config.load(write(tmp_path, HOST + text))


def test_a_file_starting_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "calsync.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'host = "studio.host:open_host"\n')

    assert Config.load(path).host == "studio.host:open_host"

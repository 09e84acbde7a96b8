"""Every value of the configuration file is checked for its type and range when the file is
loaded: a wrong one is a configuration error naming the key (exit status 2, no traceback),
before anything is opened or synced, never a crash later or a silent misreading."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from calsync.cli import main
from calsync.config import Config
from calsync.errors import ConfigurationError

HOST = 'host = "h:f"\n'
GOOGLE = '[google]\nclient_id = "i"\nclient_secret = "s"\n'
SMTP = '[smtp]\nhost = "mail.example"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # [processor] interval: a tight loop (0), never a sync (inf, 1e300), a crash (nan)
        (
            "[processor]\ninterval = 0",
            "[processor] interval must be from 1 to 604800 seconds, not 0",
        ),
        (
            "[processor]\ninterval = 0.5",
            "[processor] interval must be from 1 to 604800 seconds, not 0.5",
        ),
        (
            "[processor]\ninterval = -5",
            "[processor] interval must be from 1 to 604800 seconds, not -5",
        ),
        (
            "[processor]\ninterval = nan",
            "[processor] interval must be from 1 to 604800 seconds, not nan",
        ),
        (
            "[processor]\ninterval = inf",
            "[processor] interval must be from 1 to 604800 seconds, not inf",
        ),
        (
            "[processor]\ninterval = 1e300",
            "[processor] interval must be from 1 to 604800 seconds, not 1e+300",
        ),
        (
            '[processor]\ninterval = "nan"',
            "[processor] interval must be from 1 to 604800 seconds, not 'nan'",
        ),
        (
            "[processor]\njitter = 5",
            "[processor] jitter must be at least 0 and less than 1, not 5",
        ),
        (
            "[processor]\njitter = nan",
            "[processor] jitter must be at least 0 and less than 1, not nan",
        ),
        (
            "[processor]\njitter = -1",
            "[processor] jitter must be at least 0 and less than 1, not -1",
        ),
        ("[processor]\nworkers = 0", "[processor] workers must be from 1 to 1000, not 0"),
        (
            "[processor]\nremind_every_hours = 1e300",
            "[processor] remind_every_hours must be from 0 to 8760 hours (0: never), not 1e+300",
        ),
        (
            GOOGLE + "calls_per_minute = 0",
            "[google] calls_per_minute must be from 1 to 1000000, not 0",
        ),
        (
            GOOGLE + 'encrypt_tokens = "false"',
            "[google] encrypt_tokens must be true or false, not 'false'",
        ),
        (GOOGLE + "encrypt_tokens = 1", "[google] encrypt_tokens must be true or false, not 1"),
        (GOOGLE + "base_url = 8765", "[google] base_url must be text, not 8765"),
        (
            GOOGLE + 'base_url = "127.0.0.1:8765"',
            "[google] base_url must be an http:// or https:// address, not '127.0.0.1:8765'",
        ),
        (GOOGLE + "tokens = 3", "[google] tokens must be text, not 3"),
        ('[google]\nclient_id = 1\nclient_secret = "s"', "[google] client_id must be text, not 1"),
        (SMTP + "port = 999999", "[smtp] port must be from 1 to 65535, not 999999"),
        (SMTP + "port = 0", "[smtp] port must be from 1 to 65535, not 0"),
        (SMTP + "ca_file = 5", "[smtp] ca_file must be text, not 5"),
        (SMTP + "username = 5", "[smtp] username must be text, not 5"),
        ("[smtp]\nhost = 5", "[smtp] host must be text, not 5"),
        ("[smtp]\nport = 25", "[smtp] needs 'host'"),
        ("[server]\ndatabase = 5", "[server] database must be text, not 5"),
        ("host_path = 5", "'host_path' must be text, not 5"),
        ('state = ""', "'state' must be a file name, not ''"),
    ],
)
def test_a_value_of_the_wrong_type_or_out_of_range_is_an_error_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        Config.load(write(tmp_path, HOST + text))


@pytest.mark.parametrize("host", ["", ".host:open_host", "studio.host", ":open_host", "a b:f"])
def test_a_host_that_is_not_module_colon_callable_is_an_error_naming_the_key(
    tmp_path: Path, host: str
) -> None:
    message = f"'host' must be 'module:callable' (e.g. 'studio.host:open_host'), not {host!r}"

    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        Config.load(write(tmp_path, f'host = "{host}"\n'))


def test_the_values_at_the_edges_of_their_ranges_are_taken(tmp_path: Path) -> None:
    config = Config.load(
        write(
            tmp_path,
            HOST
            + "[processor]\ninterval = 1\njitter = 0\nworkers = 1\nremind_every_hours = 0\n"
            + GOOGLE
            + 'calls_per_minute = 1\nencrypt_tokens = false\nbase_url = "http://127.0.0.1:8765"\n'
            + SMTP
            + "port = 65535\n",
        )
    )
    longest = Config.load(
        write(
            tmp_path,
            HOST + '[processor]\ninterval = 604800\njitter = 0.99\nremind_every_hours = "8760"\n',
        )
    )

    assert (config.interval, config.jitter, config.workers, config.remind_every) == (
        1.0,
        0.0,
        1,
        None,
    )
    assert config.google is not None
    assert (config.google.calls_per_minute, config.google.encrypt_tokens) == (1, False)
    assert config.google.base_url == "http://127.0.0.1:8765"
    assert config.smtp is not None
    assert config.smtp.port == 65535
    assert (longest.interval, longest.jitter) == (604800.0, 0.99)
    assert longest.remind_every == timedelta(days=365)


def test_encrypt_tokens_true_is_taken(tmp_path: Path) -> None:
    config = Config.load(write(tmp_path, HOST + GOOGLE + "encrypt_tokens = true"))

    assert config.google is not None
    assert config.google.encrypt_tokens is True


def test_encryption_without_keys_is_worded_for_whoever_switched_encrypt_tokens_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALSYNC_TOKEN_KEYS", raising=False)
    config = Config.load(write(tmp_path, HOST + GOOGLE + "encrypt_tokens = true"))

    with pytest.raises(ConfigurationError) as raised:
        config.token_store()

    message = str(raised.value)
    assert message.startswith("[google] encrypt_tokens is on, but CALSYNC_TOKEN_KEYS is not set")
    assert "calsync generate-key" in message
    assert "server" not in message
    assert not (tmp_path / "tokens.sqlite3").exists()


def test_an_invalid_encryption_key_is_named_for_whoever_switched_encrypt_tokens_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALSYNC_TOKEN_KEYS", "not-a-key")
    config = Config.load(write(tmp_path, HOST + GOOGLE + "encrypt_tokens = true"))

    with pytest.raises(ConfigurationError) as raised:
        config.token_store()

    assert str(raised.value).startswith("[google] encrypt_tokens is on, but ")
    assert str(raised.value).endswith("; or switch encrypt_tokens off")


def test_a_client_secrets_file_that_is_not_a_clients_settings_is_an_error_naming_the_key(
    tmp_path: Path,
) -> None:
    for name, content in [
        ("list.json", [1, 2]),
        ("installed_list.json", {"installed": [1]}),
        ("no_secret.json", {"installed": {"client_id": "i"}}),
        ("number_id.json", {"web": {"client_id": 5, "client_secret": "s"}}),
    ]:
        (tmp_path / name).write_text(json.dumps(content), encoding="utf-8")
        path = write(tmp_path, HOST + f'[google]\nclient_secrets = "{name}"\n')

        with pytest.raises(ConfigurationError) as raised:
            Config.load(path)

        assert str(raised.value).startswith(f"[google] client_secrets {tmp_path / name}: ")
        assert "not an OAuth client's settings" in str(raised.value)


def test_a_client_secrets_file_as_google_gives_it_is_read(tmp_path: Path) -> None:
    secrets = {"installed": {"client_id": "id.apps", "client_secret": "shh"}}
    (tmp_path / "client_secret.json").write_text(json.dumps(secrets), encoding="utf-8")

    config = Config.load(write(tmp_path, HOST + '[google]\nclient_secrets = "client_secret.json"'))

    assert config.google is not None
    assert (config.google.client_id, config.google.client_secret) == ("id.apps", "shh")


# -- through the command: "calsync: …", exit status 2, no traceback ----------------------


def command(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "status"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('host = ""', "'host' must be 'module:callable' (e.g. 'studio.host:open_host'), not ''"),
        (
            'host = ".host:open_host"',
            "'host' must be 'module:callable' (e.g. 'studio.host:open_host'), "
            "not '.host:open_host'",
        ),
        (HOST + "host_path = 5", "'host_path' must be text, not 5"),
        (
            HOST + "[processor]\nremind_every_hours = 1e300",
            "[processor] remind_every_hours must be from 0 to 8760 hours (0: never), not 1e+300",
        ),
        (HOST + SMTP + "ca_file = 5", "[smtp] ca_file must be text, not 5"),
        (HOST + GOOGLE + "base_url = 8765", "[google] base_url must be text, not 8765"),
        (
            HOST + "[processor]\njitter = nan",
            "[processor] jitter must be at least 0 and less than 1, not nan",
        ),
        (
            HOST + "[processor]\ninterval = 0",
            "[processor] interval must be from 1 to 604800 seconds, not 0",
        ),
    ],
)
def test_the_command_names_the_key_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    assert command(write(tmp_path, text), capsys) == (2, f"calsync: {message}\n")


def test_a_configuration_file_that_is_not_utf8_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "calsync.toml"
    content = b'host = "h:f"\n[google]\nclient_id = "lumen-\xff\xfedesktop"\n'
    path.write_bytes(content)

    code, err = command(path, capsys)

    where = content.index(b"\xff")
    assert (code, err) == (2, f"calsync: {path} is not UTF-8 text (byte {where} cannot be read)\n")


def test_a_host_module_that_raises_on_import_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "exploding_host.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    path = write(tmp_path, 'host = "exploding_host:open_host"\nhost_path = "."\n')

    code, err = command(path, capsys)

    assert (code, err) == (
        2,
        "calsync: host = 'exploding_host:open_host': importing 'exploding_host' failed: "
        "RuntimeError: boom\n",
    )

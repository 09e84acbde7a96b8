"""``calsync encrypt-tokens``, ``rotate-keys`` and ``generate-key``: the documented steps that
switch a token file to encryption and rotate its keys, then sync with the encrypted tokens."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from calsync.cli import main
from calsync.crypto import TokenCipher
from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore, StoredToken

pytestmark = pytest.mark.emulator


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def _config(tmp_path: Path, base_url: str, *, encrypt: bool) -> Path:
    path = tmp_path / "calsync.toml"
    path.write_text(
        f"""
state = "state.sqlite3"
host = "memory_host:open_host"

[host_options]
name = "{tmp_path.name}"

[google]
client_id = "demo-client"
client_secret = "demo-secret"
tokens = "tokens.sqlite3"
base_url = "{base_url}"
encrypt_tokens = {"true" if encrypt else "false"}
""",
        encoding="utf-8",
    )
    return path


def test_switching_a_token_file_to_encryption_and_rotating_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GoogleEmulator() as google:
        plain = SqliteTokenStore(tmp_path / "tokens.sqlite3")
        for user in ("ann", "ben"):
            access, refresh = google.issue_tokens(f"{user}@studio.example")
            plain.save(f"cli.{user}", StoredToken(refresh, access))
        config = str(_config(tmp_path, google.base_url, encrypt=True))
        code, first_key = run("generate-key")
        assert code == 0
        monkeypatch.setenv("CALSYNC_TOKEN_KEYS", first_key.strip())
        # plaintext rows are refused once encryption is on, until they are encrypted
        assert run("--config", config, "run", "--once")[0] != 0
        assert run("--config", config, "encrypt-tokens") == (0, "2 token(s) encrypted\n")
        assert run("--config", config, "run", "--once")[0] == 0

        second_key = run("generate-key")[1].strip()
        monkeypatch.setenv("CALSYNC_TOKEN_KEYS", f"{second_key},{first_key.strip()}")
        code, out = run("--config", config, "rotate-keys")
        assert (code, out) == (0, "2 token(s) re-encrypted with the newest key\n")
        monkeypatch.setenv("CALSYNC_TOKEN_KEYS", second_key)  # the old key is gone now
        rotated = SqliteTokenStore(tmp_path / "tokens.sqlite3", cipher=TokenCipher([second_key]))
        token = rotated.load("cli.ann")
        assert token is not None
        assert token.refresh_token is not None
        assert run("--config", config, "run", "--once")[0] == 0


def test_encryption_without_keys_stops_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CALSYNC_TOKEN_KEYS", raising=False)
    config = str(_config(tmp_path, "http://127.0.0.1:9", encrypt=True))
    assert run("--config", config, "encrypt-tokens")[0] == 2
    assert "CALSYNC_TOKEN_KEYS is not set" in capsys.readouterr().err

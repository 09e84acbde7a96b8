"""Tokens encrypted at rest: SQLite (opt-in) and PostgreSQL (always), with key rotation."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from services import POSTGRES_URL

import calsync.tokens
from calsync.crypto import PREFIX, TokenCipher, generate_key
from calsync.errors import ConfigurationError
from calsync.server.database import Database
from calsync.server.tokens import PostgresTokenStore
from calsync.tokens import SqliteTokenStore, StoredToken, TokenStore

TOKEN = StoredToken(
    "1//refresh-secret", "ya29.access-secret", datetime(2026, 1, 2, 3, 4, tzinfo=UTC), ("a", "b")
)
OLD, NEW = generate_key(), generate_key()


def _raw_sqlite(path: Path) -> list[tuple[str, str | None, str | None]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT key, refresh_token, access_token FROM calsync_google_tokens ORDER BY key"
        ).fetchall()


@pytest.fixture
def database(pg_schema: str) -> Iterator[Database]:
    db = Database(POSTGRES_URL, schema=pg_schema, max_size=2)
    yield db
    db.close()


def _raw_postgres(database: Database) -> list[tuple[str, str | None, str | None]]:
    with database.transaction() as conn:
        return conn.execute(
            "SELECT key, refresh_token, access_token FROM google_tokens ORDER BY key"
        ).fetchall()


def test_a_missing_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALSYNC_TOKEN_KEYS", raising=False)
    with pytest.raises(ConfigurationError, match="CALSYNC_TOKEN_KEYS is not set"):
        TokenCipher.from_env()


def test_a_malformed_key_is_a_configuration_error_that_does_not_repeat_it() -> None:
    with pytest.raises(ConfigurationError, match="not a valid Fernet key") as info:
        TokenCipher(["not-a-key-secret"])
    assert "not-a-key-secret" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_keys_come_from_the_environment_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALSYNC_TOKEN_KEYS", f"{NEW}, {OLD}")
    cipher = TokenCipher.from_env()
    assert cipher.decrypt(TokenCipher([OLD]).encrypt("x"), key="k") == "x"
    assert TokenCipher([NEW]).decrypt(cipher.encrypt("y"), key="k") == "y"
    assert NEW not in repr(cipher)
    assert OLD not in repr(cipher)


def test_sqlite_encrypts_refresh_and_access_tokens_when_given_a_cipher(tmp_path: Path) -> None:
    store = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW]))
    store.save("u1", TOKEN)
    [(_key, refresh, access)] = _raw_sqlite(tmp_path / "t.db")
    assert refresh is not None
    assert refresh.startswith(PREFIX)
    assert "secret" not in refresh
    assert access is not None
    assert access.startswith(PREFIX)
    assert "secret" not in access
    assert store.load("u1") == TOKEN


def test_sqlite_without_a_cipher_still_works_in_plaintext_for_the_desktop(tmp_path: Path) -> None:
    store = SqliteTokenStore(tmp_path / "t.db")
    store.save("u1", TOKEN)
    assert _raw_sqlite(tmp_path / "t.db") == [("u1", TOKEN.refresh_token, TOKEN.access_token)]
    assert store.load("u1") == TOKEN


def test_an_encrypted_row_is_never_read_as_plaintext_without_the_key(tmp_path: Path) -> None:
    SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW])).save("u1", TOKEN)
    with pytest.raises(ConfigurationError, match="is encrypted"):
        SqliteTokenStore(tmp_path / "t.db").load("u1")


def test_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([OLD])).save("u1", TOKEN)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW])).load("u1")


def test_a_plaintext_row_is_refused_until_encrypt_tokens_encrypts_it(tmp_path: Path) -> None:
    SqliteTokenStore(tmp_path / "t.db").save("u1", TOKEN)
    encrypted = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW]))
    with pytest.raises(ConfigurationError, match="encrypt-tokens"):
        encrypted.load("u1")
    assert encrypted.encrypt_plaintext() == 1
    assert encrypted.encrypt_plaintext() == 0  # already encrypted rows are left alone
    assert encrypted.load("u1") == TOKEN
    assert all(v and v.startswith(PREFIX) for _, *vs in _raw_sqlite(tmp_path / "t.db") for v in vs)


def test_rotation_re_encrypts_with_the_newest_key_so_the_old_one_can_go(tmp_path: Path) -> None:
    SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([OLD])).save("u1", TOKEN)
    rotating = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW, OLD]))
    assert rotating.load("u1") == TOKEN  # old keys still read
    assert rotating.rotate_keys() == 1
    assert SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW])).load("u1") == TOKEN


def test_postgres_token_store_round_trips_and_never_stores_plaintext(database: Database) -> None:
    store = PostgresTokenStore(database, TokenCipher([NEW]))
    store.migrate()
    store.save("tenant1:u1", TOKEN)
    store.save("tenant1:u1", TOKEN)  # replaced, not duplicated
    [(key, refresh, access)] = _raw_postgres(database)
    assert key == "tenant1:u1"
    assert refresh is not None
    assert "secret" not in refresh
    assert refresh.startswith(PREFIX)
    assert access is not None
    assert "secret" not in access
    assert store.load("tenant1:u1") == TOKEN
    assert store.load("nobody") is None
    store.delete("tenant1:u1")
    assert store.load("tenant1:u1") is None


def test_postgres_stores_a_refreshed_token_only_over_the_row_it_was_refreshed_from(
    database: Database,
) -> None:
    store = PostgresTokenStore(database, TokenCipher([NEW]))
    store.migrate()
    store.save("t:u1", TOKEN)
    refreshed = StoredToken(TOKEN.refresh_token, "ya29.fresh")

    assert store.save_refreshed("t:u1", refreshed, TOKEN.refresh_token)
    assert store.load("t:u1") == refreshed
    newer = StoredToken("1//new-grant", "ya29.new")
    store.save("t:u1", newer)
    assert not store.save_refreshed("t:u1", refreshed, TOKEN.refresh_token)
    assert store.load("t:u1") == newer
    store.delete("t:u1")
    assert not store.save_refreshed("t:u1", refreshed, "1//new-grant")
    assert store.load("t:u1") is None


def test_postgres_rotation_and_plaintext_migration(database: Database) -> None:
    old = PostgresTokenStore(database, TokenCipher([OLD]))
    old.migrate()
    old.save("u1", TOKEN)
    with database.transaction() as conn:  # a row imported in plaintext from a desktop file
        conn.execute(
            "INSERT INTO google_tokens (key, refresh_token, access_token, scopes)"
            " VALUES ('u2', 'plain-refresh', NULL, '{}')"
        )
    rotating = PostgresTokenStore(database, TokenCipher([NEW, OLD]))
    with pytest.raises(ConfigurationError, match="plaintext"):
        rotating.load("u2")
    assert rotating.encrypt_plaintext() == 1
    assert rotating.rotate_keys() == 2
    new_only = PostgresTokenStore(database, TokenCipher([NEW]))
    assert new_only.load("u1") == TOKEN
    loaded = new_only.load("u2")
    assert loaded is not None
    assert loaded.refresh_token == "plain-refresh"


def test_tokens_and_keys_never_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store: TokenStore = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW, OLD]))
    store.save("u1", TOKEN)
    assert isinstance(store, SqliteTokenStore)
    store.rotate_keys()
    logging.getLogger("test").info("loaded %r", store.load("u1"))
    for secret in ("secret", NEW, OLD):
        assert secret not in caplog.text


def test_a_reconnect_made_while_the_keys_rotate_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rotate-keys`` reads every row, then writes each one resealed: a user's reconnect
    saved by another process in between (its new refresh token) must not be written over
    with the old token the rotation read."""
    SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([OLD])).save("u1", TOKEN)
    rotating = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW, OLD]))
    reconnected = attrs.evolve(TOKEN, refresh_token="1//the-new-refresh")
    other = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([NEW, OLD]))
    reconnect = threading.Thread(target=other.save, args=("u1", reconnected))
    reseal = calsync.tokens._reseal_value

    def reconnect_meanwhile(*args: Any, **kwargs: Any) -> str | None:
        if not reconnect.is_alive() and reconnect.ident is None:
            reconnect.start()  # the other process's save, after the rows were read
            reconnect.join(timeout=1)  # (it waits for the file's lock, if the rotation holds it)
        return reseal(*args, **kwargs)

    monkeypatch.setattr(calsync.tokens, "_reseal_value", reconnect_meanwhile)

    rotating.rotate_keys()
    reconnect.join()

    assert rotating.load("u1") == reconnected

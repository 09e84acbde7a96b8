"""A stored token damaged into non-ASCII text (a bad restore, an encoding slip in a copy
between databases) is the documented ConfigurationError naming the token's key, when read and
when ``rotate-keys`` re-encrypts it, as a value no key decrypts is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from calsync.crypto import TokenCipher, generate_key
from calsync.errors import ConfigurationError
from calsync.tokens import SqliteTokenStore, StoredToken

KEY = generate_key()


def _damaged_store(path: Path) -> SqliteTokenStore:
    store = SqliteTokenStore(path, cipher=TokenCipher([KEY]))
    store.save("studio1.7", StoredToken("1//refresh-secret", "ya29.access-secret"))
    with sqlite3.connect(path) as db:
        (value,) = db.execute("SELECT refresh_token FROM calsync_google_tokens").fetchone()
        damaged = value[:20] + "é" + value[21:]
        db.execute("UPDATE calsync_google_tokens SET refresh_token = ?", (damaged,))
    return store


def test_reading_a_token_damaged_into_non_ascii_text_names_its_key(tmp_path: Path) -> None:
    store = _damaged_store(tmp_path / "t.db")
    with pytest.raises(ConfigurationError, match=r"studio1\.7.*cannot be decrypted"):
        store.load("studio1.7")


def test_rotating_a_token_damaged_into_non_ascii_text_names_its_key(tmp_path: Path) -> None:
    _damaged_store(tmp_path / "t.db")
    rotating = SqliteTokenStore(tmp_path / "t.db", cipher=TokenCipher([generate_key(), KEY]))
    with pytest.raises(ConfigurationError, match=r"studio1\.7.*cannot be decrypted"):
        rotating.rotate_keys()

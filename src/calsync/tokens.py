"""Where a host keeps each user's Google tokens: the :class:`TokenStore` contract and two
implementations (in memory, SQLite).

The host implements :class:`TokenStore` (or uses :class:`SqliteTokenStore`);
:func:`calsync.google.auth.load_credentials` reads from it and writes every refreshed token
back. Tokens never appear in logs or reprs.

Encryption at rest: given a :class:`~calsync.crypto.TokenCipher`, :class:`SqliteTokenStore`
encrypts the refresh and access tokens (Fernet); without one it stores them in plaintext, as
the desktop edition always has (the file is protected like a password, and the desktop needs no
``cryptography``). A store without a cipher refuses to read an encrypted row, and a store with
one refuses a plaintext row until :meth:`SqliteTokenStore.encrypt_plaintext` (``calsync
encrypt-tokens``) has encrypted it: never a silent fallback. The server's
:class:`~calsync.server.tokens.PostgresTokenStore` always encrypts.
"""

from __future__ import annotations

import abc
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from attrs import frozen

from calsync.crypto import TokenCipher, is_encrypted
from calsync.errors import ConfigurationError, StateUnavailable

__all__ = [
    "EncryptingTokenStore",
    "MemoryTokenStore",
    "SqliteTokenStore",
    "StoredToken",
    "TokenStore",
    "open_value",
    "seal_value",
]


@frozen
class StoredToken:
    """What a :class:`TokenStore` keeps for one user (never the client secret)."""

    refresh_token: str | None
    access_token: str | None = None
    expiry: datetime | None = None  # aware, UTC
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # tokens stay out of logs and tracebacks
        return f"StoredToken(scopes={self.scopes!r}, expiry={self.expiry!r})"


class TokenStore(abc.ABC):
    """Where a host keeps each user's Google tokens, by a key of its choice (e.g. the
    profile id). Implementations must be safe to call from the thread that syncs the user."""

    @abc.abstractmethod
    def load(self, key: str) -> StoredToken | None:
        """The token saved for ``key``, or ``None``."""

    @abc.abstractmethod
    def save(self, key: str, token: StoredToken) -> None:
        """Save (replace) the token for ``key``; called again after every refresh."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Forget ``key``'s token (the user disconnected, or Google revoked it)."""

    def save_refreshed(self, key: str, token: StoredToken, refreshed_from: str | None) -> bool:
        """Save ``token``, refreshed with the refresh token ``refreshed_from``, only while
        ``key``'s saved token still holds that refresh token; returns whether it saved.

        A run refreshes the access token it loaded; meanwhile the user may have disconnected
        Google (the row is gone: it must stay gone) or connected again (the new grant must
        stay). The default compares and saves in two calls; a store that can do both in one
        transaction (each of calsync's) should, so that nothing comes in between.
        """
        current = self.load(key)
        if current is None or current.refresh_token != refreshed_from:
            return False
        self.save(key, token)
        return True


@runtime_checkable
class EncryptingTokenStore(Protocol):
    """A token store that can encrypt its plaintext rows and rotate its keys."""

    def encrypt_plaintext(self) -> int:
        """Encrypt the rows still in plaintext; returns how many changed."""
        ...

    def rotate_keys(self) -> int:
        """Re-encrypt every row with the newest key; returns how many were written."""
        ...


class MemoryTokenStore(TokenStore):
    """Tokens in a dict (tests, examples)."""

    def __init__(self) -> None:
        self._tokens: dict[str, StoredToken] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> StoredToken | None:
        with self._lock:
            return self._tokens.get(key)

    def save(self, key: str, token: StoredToken) -> None:
        with self._lock:
            self._tokens[key] = token

    def delete(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def save_refreshed(self, key: str, token: StoredToken, refreshed_from: str | None) -> bool:
        with self._lock:
            current = self._tokens.get(key)
            if current is None or current.refresh_token != refreshed_from:
                return False
            self._tokens[key] = token
            return True


def seal_value(cipher: TokenCipher | None, value: str | None) -> str | None:
    """A token value as stored: encrypted when there is a cipher."""
    return value if cipher is None else cipher.encrypt(value)


def open_value(cipher: TokenCipher | None, stored: str | None, *, key: str) -> str | None:
    """A stored token value in plaintext.

    Raises:
        ConfigurationError: the value is encrypted and there is no cipher, or the cipher cannot
            decrypt it, or it is plaintext and there is a cipher.
    """
    if cipher is not None:
        return cipher.decrypt(stored, key=key)
    if stored is not None and is_encrypted(stored):
        raise ConfigurationError(
            f"the token of {key!r} is encrypted: configure the token keys (CALSYNC_TOKEN_KEYS)"
        )
    return stored


class SqliteTokenStore(TokenStore):
    """Tokens in a SQLite file (the desktop default). Protect the file like a password.

    Args:
        path: the file.
        cipher: encrypts the tokens at rest (opt-in here; ``None`` stores plaintext).

    Raises (opening the store, and every method):
        StateUnavailable: SQLite failed: the file cannot be opened (its directory is missing,
            it is a directory), is not a database, or is locked beyond the timeout; the
            message names the file (``token store '…': file is not a database``).
    """

    def __init__(self, path: str | Path, *, cipher: TokenCipher | None = None) -> None:
        self.path = str(path)
        self.cipher = cipher
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS calsync_google_tokens ("
                " key TEXT PRIMARY KEY, refresh_token TEXT, access_token TEXT,"
                " expiry TEXT, scopes TEXT NOT NULL, saved_at TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction, committed (or rolled back) and closed after.

        The one place where ``sqlite3`` errors become :class:`~calsync.errors.StateUnavailable`
        naming the file, as the state store's do (each statement here writes its own row
        over, so none is the data's fault: SQLite failed for the whole file).
        """
        try:
            db = sqlite3.connect(self.path, timeout=30)
            try:
                with db:
                    yield db
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"token store {self.path!r}: {exc}") from exc

    def load(self, key: str) -> StoredToken | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT refresh_token, access_token, expiry, scopes"
                " FROM calsync_google_tokens WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        expiry = datetime.fromisoformat(row[2]) if row[2] else None
        return StoredToken(
            open_value(self.cipher, row[0], key=key),
            open_value(self.cipher, row[1], key=key),
            expiry,
            tuple(json.loads(row[3])),
        )

    def save(self, key: str, token: StoredToken) -> None:
        with self._lock, self._connect() as db:
            self._write(db, key, token)

    def _write(self, db: sqlite3.Connection, key: str, token: StoredToken) -> None:
        expiry = token.expiry.isoformat() if token.expiry else None
        db.execute(
            "INSERT OR REPLACE INTO calsync_google_tokens VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                seal_value(self.cipher, token.refresh_token),
                seal_value(self.cipher, token.access_token),
                expiry,
                json.dumps(list(token.scopes)),
                datetime.now(UTC).isoformat(),
            ),
        )

    def save_refreshed(self, key: str, token: StoredToken, refreshed_from: str | None) -> bool:
        """As :meth:`TokenStore.save_refreshed`, in one transaction holding the file's write
        lock (another process's connect or disconnect waits for it, or it for them)."""
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT refresh_token FROM calsync_google_tokens WHERE key = ?", (key,)
            ).fetchone()
            if row is None or open_value(self.cipher, row[0], key=key) != refreshed_from:
                return False
            self._write(db, key, token)
            return True

    def delete(self, key: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM calsync_google_tokens WHERE key = ?", (key,))

    def encrypt_plaintext(self) -> int:
        """Encrypt every row still in plaintext (after switching encryption on); returns how
        many rows changed. Encrypted rows are left as they are.

        Raises:
            ConfigurationError: the store has no cipher.
        """
        return self._reseal(rotate=False)

    def rotate_keys(self) -> int:
        """Re-encrypt every row with the newest key (and encrypt plaintext rows); returns how
        many rows were written. Afterwards the old keys can be removed.

        Raises:
            ConfigurationError: the store has no cipher, or no configured key reads a row.
        """
        return self._reseal(rotate=True)

    def _reseal(self, *, rotate: bool) -> int:
        cipher = self.cipher
        if cipher is None:
            raise ConfigurationError("encrypting tokens needs the token keys (CALSYNC_TOKEN_KEYS)")
        changed = 0
        with self._lock, self._connect() as db:
            # the file's write lock before the rows are read: a connect or a refresh saved by
            # another process meanwhile would be written over with the token read here
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(
                "SELECT key, refresh_token, access_token FROM calsync_google_tokens"
            ).fetchall()
            for key, refresh, access in rows:
                sealed = [
                    _reseal_value(cipher, v, key=key, rotate=rotate) for v in (refresh, access)
                ]
                if sealed == [refresh, access]:
                    continue
                db.execute(
                    "UPDATE calsync_google_tokens SET refresh_token = ?, access_token = ?"
                    " WHERE key = ?",
                    (*sealed, key),
                )
                changed += 1
        return changed


def _reseal_value(cipher: TokenCipher, stored: str | None, *, key: str, rotate: bool) -> str | None:
    if stored is None:
        return None
    if rotate:
        return cipher.rotate(stored, key=key)
    return stored if is_encrypted(stored) else cipher.encrypt(stored)

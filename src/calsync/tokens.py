"""Where a host keeps each user's Google tokens: the :class:`TokenStore` contract and two
implementations (in memory, SQLite).

The host implements :class:`TokenStore` (or uses :class:`SqliteTokenStore`);
:func:`calsync.google.auth.load_credentials` reads from it and writes every refreshed token
back. Tokens never appear in logs or reprs.
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

from attrs import frozen

__all__ = ["MemoryTokenStore", "SqliteTokenStore", "StoredToken", "TokenStore"]


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


class SqliteTokenStore(TokenStore):
    """Tokens in a SQLite file (the desktop default). Protect the file like a password."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS calsync_google_tokens ("
                " key TEXT PRIMARY KEY, refresh_token TEXT, access_token TEXT,"
                " expiry TEXT, scopes TEXT NOT NULL, saved_at TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction, committed (or rolled back) and closed after."""
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

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
        return StoredToken(row[0], row[1], expiry, tuple(json.loads(row[3])))

    def save(self, key: str, token: StoredToken) -> None:
        expiry = token.expiry.isoformat() if token.expiry else None
        saved = datetime.now(UTC).isoformat()
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO calsync_google_tokens VALUES (?, ?, ?, ?, ?, ?)",
                (
                    key,
                    token.refresh_token,
                    token.access_token,
                    expiry,
                    json.dumps(list(token.scopes)),
                    saved,
                ),
            )

    def delete(self, key: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM calsync_google_tokens WHERE key = ?", (key,))

"""Google tokens in PostgreSQL, always encrypted at rest.

:class:`PostgresTokenStore` keeps one row per key (e.g. a tenant-namespaced profile id) in the
table ``google_tokens`` of the deployment's schema. The refresh and access tokens are
encrypted with a :class:`~calsync.crypto.TokenCipher` (Fernet; new key first, old keys still
read); the cipher is required, so a server never writes a token in plaintext. ``calsync
rotate-keys`` re-encrypts every row with the newest key; ``calsync encrypt-tokens`` encrypts
rows imported in plaintext (e.g. copied over from a desktop SQLite file).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import psycopg

from calsync.crypto import TokenCipher, is_encrypted
from calsync.server.database import Database
from calsync.tokens import StoredToken, TokenStore

__all__ = ["PostgresTokenStore"]

logger = logging.getLogger(__name__)

_CREATE = """
CREATE TABLE IF NOT EXISTS google_tokens (
    key text PRIMARY KEY,
    refresh_token text,
    access_token text,
    expiry timestamptz,
    scopes text[] NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
)
"""


class PostgresTokenStore(TokenStore):
    """Tokens in the ``google_tokens`` table of ``database``'s schema, encrypted by ``cipher``.

    Raises (every method):
        StateError: PostgreSQL failed.
        ConfigurationError: a row cannot be decrypted with the cipher's keys, or is plaintext.
    """

    def __init__(self, database: Database, cipher: TokenCipher) -> None:
        self.database = database
        self.cipher = cipher

    def migrate(self) -> None:
        """Create the schema and the table if they are missing."""
        self.database.ensure_schema()
        with self.database.transaction() as conn:
            self.database.execute(conn, _CREATE)

    def load(self, key: str) -> StoredToken | None:
        with self.database.transaction() as conn:
            row = self.database.execute(
                conn,
                "SELECT refresh_token, access_token, expiry, scopes FROM google_tokens"
                " WHERE key = %s",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return StoredToken(
            self.cipher.decrypt(row[0], key=key),
            self.cipher.decrypt(row[1], key=key),
            row[2].astimezone(UTC) if row[2] is not None else None,
            tuple(row[3]),
        )

    def save(self, key: str, token: StoredToken) -> None:
        with self.database.transaction() as conn:
            self._write(conn, key, token)

    def save_refreshed(self, key: str, token: StoredToken, refreshed_from: str | None) -> bool:
        """As :meth:`TokenStore.save_refreshed`, in one transaction holding the row (``FOR
        UPDATE``: another worker's connect or disconnect of the user waits for it)."""
        with self.database.transaction() as conn:
            row = self.database.execute(
                conn, "SELECT refresh_token FROM google_tokens WHERE key = %s FOR UPDATE", (key,)
            ).fetchone()
            if row is None or self.cipher.decrypt(row[0], key=key) != refreshed_from:
                return False
            self._write(conn, key, token)
            return True

    def _write(self, conn: psycopg.Connection[Any], key: str, token: StoredToken) -> None:
        self.database.execute(
            conn,
            "INSERT INTO google_tokens (key, refresh_token, access_token, expiry, scopes,"
            " saved_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET"
            " refresh_token = EXCLUDED.refresh_token, access_token = EXCLUDED.access_token,"
            " expiry = EXCLUDED.expiry, scopes = EXCLUDED.scopes, saved_at = EXCLUDED.saved_at",
            (
                key,
                self.cipher.encrypt(token.refresh_token),
                self.cipher.encrypt(token.access_token),
                token.expiry,
                list(token.scopes),
                datetime.now(UTC),
            ),
        )

    def delete(self, key: str) -> None:
        with self.database.transaction() as conn:
            self.database.execute(conn, "DELETE FROM google_tokens WHERE key = %s", (key,))

    def encrypt_plaintext(self) -> int:
        """Encrypt the rows still in plaintext; returns how many rows changed."""
        return self._reseal(rotate=False)

    def rotate_keys(self) -> int:
        """Re-encrypt every row with the newest key; returns how many rows were written.

        Raises:
            ConfigurationError: no configured key decrypts a row (nothing is written then).
        """
        return self._reseal(rotate=True)

    def _reseal(self, *, rotate: bool) -> int:
        changed = 0
        # one transaction, rows locked: a worker's refresh cannot interleave with the rewrite
        with self.database.transaction() as conn:
            rows = self.database.execute(
                conn, "SELECT key, refresh_token, access_token FROM google_tokens FOR UPDATE"
            ).fetchall()
            for key, refresh, access in rows:
                sealed = [self._reseal_value(v, key, rotate) for v in (refresh, access)]
                if sealed == [refresh, access]:
                    continue
                self.database.execute(
                    conn,
                    "UPDATE google_tokens SET refresh_token = %s, access_token = %s WHERE key = %s",
                    (*sealed, key),
                )
                changed += 1
        logger.info("token store: %d row(s) re-encrypted", changed)
        return changed

    def _reseal_value(self, stored: str | None, key: str, rotate: bool) -> str | None:
        if stored is None:
            return None
        if rotate:
            return self.cipher.rotate(stored, key=key)
        return stored if is_encrypted(stored) else self.cipher.encrypt(stored)

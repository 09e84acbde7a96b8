"""Encryption of stored Google tokens at rest (Fernet, with key rotation).

A :class:`TokenCipher` holds one or more Fernet keys, newest first. It encrypts with the newest
key and decrypts with any of them (``cryptography``'s ``MultiFernet``), so a new key can be put
in front while rows written under the old keys stay readable until ``calsync rotate-keys``
re-encrypts them. Encrypted values carry the prefix ``fernet:`` so a store can tell them from
plaintext rows written before encryption was switched on.

The keys come from the configuration or the environment (``CALSYNC_TOKEN_KEYS``,
comma-separated, newest first); they are never logged and never appear in a repr. A missing or
malformed key, or a value no key can decrypt, is a :class:`~calsync.errors.ConfigurationError`:
there is never a silent fallback to plaintext.

``cryptography`` is part of the ``server`` extra and imported only when a cipher is built, so
the desktop install (plain :class:`~calsync.tokens.SqliteTokenStore`) does not need it.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from calsync.errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

__all__ = ["KEYS_ENV", "PREFIX", "TokenCipher", "generate_key", "is_encrypted"]

logger = logging.getLogger(__name__)

#: The environment variable read by :meth:`TokenCipher.from_env`.
KEYS_ENV = "CALSYNC_TOKEN_KEYS"
#: Marks an encrypted value in a token store.
PREFIX = "fernet:"


def _fernet_module() -> ModuleType:
    try:
        return importlib.import_module("cryptography.fernet")
    except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
        raise ConfigurationError(
            "token encryption needs the 'cryptography' package: pip install 'calsync[server]'"
        ) from exc


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text), for ``CALSYNC_TOKEN_KEYS``."""
    key: bytes = _fernet_module().Fernet.generate_key()
    return key.decode("ascii")


class TokenCipher:
    """Encrypts token values with the newest of ``keys`` and decrypts with any of them.

    Raises:
        ConfigurationError: no key, or a key that is not a valid Fernet key.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        fernet = _fernet_module()
        keys = [key.strip() for key in keys if key.strip()]
        if not keys:
            raise ConfigurationError(f"token encryption needs at least one key ({KEYS_ENV})")
        try:
            fernets = [fernet.Fernet(key.encode("ascii")) for key in keys]
        except (ValueError, UnicodeEncodeError):
            # ``from None``: the message and the chained error never repeat the key
            raise ConfigurationError(
                "a token encryption key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from None
        self._multi: MultiFernet = fernet.MultiFernet(fernets)
        self._invalid: type[Exception] = fernet.InvalidToken
        self.key_count = len(keys)

    @classmethod
    def from_env(cls, variable: str = KEYS_ENV) -> TokenCipher:
        """The cipher for the comma-separated keys in ``variable`` (newest first).

        Raises:
            ConfigurationError: the variable is unset or empty, or a key is invalid.
        """
        value = os.environ.get(variable, "")
        if not value.strip():
            raise ConfigurationError(
                f"{variable} is not set: the token store needs an encryption key "
                "(generate one with `calsync generate-key`)"
            )
        return cls(value.split(","))

    def __repr__(self) -> str:  # keys stay out of logs and tracebacks
        return f"TokenCipher(keys={self.key_count})"

    def encrypt(self, value: str | None) -> str | None:
        """``value`` encrypted with the newest key and prefixed; ``None`` stays ``None``."""
        if value is None:
            return None
        return PREFIX + self._multi.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str | None, *, key: str) -> str | None:
        """The plaintext of a stored value of the token ``key``.

        Raises:
            ConfigurationError: the value is plaintext (run ``calsync encrypt-tokens``), or no
                configured key decrypts it (a wrong or removed key, or a damaged value).
        """
        if stored is None:
            return None
        if not is_encrypted(stored):
            raise ConfigurationError(
                f"the token of {key!r} is stored in plaintext: run `calsync encrypt-tokens` "
                "to encrypt existing tokens"
            )
        try:
            return self._multi.decrypt(_token_bytes(stored)).decode("utf-8")
        except (self._invalid, ValueError):  # ValueError: damaged into non-ASCII text
            raise ConfigurationError(
                f"the token of {key!r} cannot be decrypted with the configured keys: "
                f"a wrong key, an old key removed from {KEYS_ENV} too early, or a damaged value"
            ) from None

    def rotate(self, stored: str | None, *, key: str) -> str | None:
        """A stored value re-encrypted with the newest key (plaintext is encrypted).

        Raises:
            ConfigurationError: no configured key decrypts it (or the value is damaged).
        """
        if stored is None:
            return None
        if not is_encrypted(stored):
            return self.encrypt(stored)
        try:
            token = self._multi.rotate(_token_bytes(stored))
        except (self._invalid, ValueError):  # ValueError: damaged into non-ASCII text
            raise ConfigurationError(
                f"the token of {key!r} cannot be decrypted with the configured keys"
            ) from None
        return PREFIX + token.decode("ascii")


def _token_bytes(stored: str) -> bytes:
    """The Fernet token of an encrypted value (raises ``UnicodeEncodeError``, a
    ``ValueError``, when the value was damaged into non-ASCII text)."""
    return stored[len(PREFIX) :].encode("ascii")


def is_encrypted(stored: str) -> bool:
    """Whether a stored value was written by a :class:`TokenCipher`."""
    return stored.startswith(PREFIX)

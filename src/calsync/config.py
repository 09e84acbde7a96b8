"""The configuration file of the ``calsync`` command, and what it builds.

A TOML file names the host's adapters (a factory the host ships), the state store, the Google
OAuth client and token store (or an emulator), SMTP settings and the processor's schedule::

    state = "calsync.sqlite3"                 # paths are relative to this file
    host = "studio.host:open_host"            # callable(options) -> calsync.config.Host
    host_path = "examples"                    # optional: added to sys.path first

    [host_options]                            # passed to the factory as a dict
    database = "studio.sqlite3"

    [google]
    client_secrets = "client_secret.json"     # or client_id / client_secret
    tokens = "tokens.sqlite3"
    base_url = "http://127.0.0.1:8765"        # optional: an emulator instead of Google
    calls_per_minute = 600
    encrypt_tokens = true                     # Fernet keys in CALSYNC_TOKEN_KEYS (newest first)

    [server]                                  # the hosted edition (needs calsync[server])
    database = "postgresql://calsync@db/calsync"  # state and encrypted tokens in PostgreSQL
    schema = "calsync"
    tenant = "default"                        # namespaces this host's profile ids
    redis = "redis://127.0.0.1:6379/0"        # one quota bucket per Google user, dedupe keys

    [processor]
    interval = 300
    jitter = 0.25
    workers = 4
    remind_every_hours = 24                   # problem email reminders; 0: never remind

    [smtp]
    host = "smtp.studio.example"
    port = 587
    security = "starttls"
    username = "sync"
    password_env = "CALSYNC_SMTP_PASSWORD"    # the password itself never goes in the file
    sender = "sync@studio.example"
    ca_file = "studio-ca.pem"                 # optional: a private CA to trust

Every mistake, an unknown or misspelled key or section included, is a
:class:`~calsync.errors.ConfigurationError` naming the key. ``state`` defaults to
``calsync.sqlite3`` next to the file.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from calsync.backends import SPECIAL_EVENT_TYPES
from calsync.errors import ConfigurationError, NotConnected, StateUnavailable
from calsync.google.account import connect, shared_pacer
from calsync.google.auth import ClientConfig, load_credentials
from calsync.google.pacing import QuotaPacer
from calsync.notify import EmailNotifier, SmtpSettings
from calsync.processor import MAX_INTERVAL, Connect, Connection
from calsync.profile import ProfileStore, SyncProfile
from calsync.sources import ContactSource, ScheduleSource
from calsync.state import MemoryStateStore, SqliteStateStore, StateStore
from calsync.state.sqlite_schema import stored_version
from calsync.tokens import MemoryTokenStore, SqliteTokenStore, StoredToken, TokenStore

__all__ = ["Config", "GoogleSettings", "Host", "ServerSettings", "google_connector"]

logger = logging.getLogger(__name__)

#: The keys of each section (``""``: the top level); ``[host_options]`` belongs to the host.
_KNOWN_KEYS: Mapping[str, frozenset[str]] = {
    "": frozenset(
        {"state", "host", "host_path", "host_options", "google", "server", "processor", "smtp"}
    ),
    "google": frozenset(
        {
            "client_secrets",
            "client_id",
            "client_secret",
            "tokens",
            "base_url",
            "calls_per_minute",
            "skip_event_types",
            "encrypt_tokens",
        }
    ),
    "server": frozenset({"database", "schema", "tenant", "redis"}),
    "processor": frozenset({"interval", "jitter", "workers", "remind_every_hours"}),
    "smtp": frozenset(
        {"host", "port", "security", "username", "password_env", "sender", "ca_file"}
    ),
}


@frozen
class Host:
    """What a host gives calsync: its adapters and its profiles."""

    schedule: ScheduleSource
    profiles: ProfileStore
    contacts: ContactSource | None = None


@frozen
class GoogleSettings:
    """The Google side: the OAuth client, where tokens live, and the endpoint."""

    client_id: str
    client_secret: str
    tokens: Path = field(converter=Path)
    base_url: str | None = None
    calls_per_minute: int = 600
    #: Google event types the backend leaves out of listings (an optimisation: the engine
    #: never makes a studio item of any type but ``default`` either way).
    skip_event_types: tuple[str, ...] = tuple(sorted(SPECIAL_EVENT_TYPES))
    encrypt_tokens: bool = False


@frozen
class ServerSettings:
    """The hosted edition's services (``[server]``)."""

    database: str | None = None
    schema: str = "calsync"
    tenant: str = "default"
    redis: str | None = None

    def __repr__(self) -> str:  # a database URL may carry a password
        return f"ServerSettings(schema={self.schema!r})"


@frozen
class Config:
    """A loaded configuration file."""

    path: Path
    state: Path
    host: str
    host_options: Mapping[str, Any]
    host_path: Path | None
    google: GoogleSettings | None
    smtp: SmtpSettings | None
    interval: float = 300.0
    jitter: float = 0.25
    workers: int = 4
    remind_every: timedelta | None = timedelta(days=1)
    server: ServerSettings | None = None
    #: the variable ``[smtp] password_env`` names, when this environment does not set it:
    #: the commands that send email refuse to start (:meth:`notifier`), the others need not
    #: the password (an operator's shell may well not hold it)
    smtp_password_unset: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Read and check a configuration file: every value's type and range, before
        anything is opened.

        Raises:
            ConfigurationError: the file is missing, not UTF-8 TOML, or a key is wrong (the
                message names the key).
        """
        path = Path(path).resolve()
        try:
            # utf-8-sig: a byte order mark (as older Windows editors write) is no statement
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigurationError(
                f"{path} is not UTF-8 text (byte {exc.start} cannot be read)"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc
        _check_known_keys(data)
        base = path.parent
        top = _Section("", data)
        processor = _Section.of(data, "processor")
        smtp, password_unset = _smtp(data, base)
        return cls(
            path=path,
            state=top.path("state", base, "calsync.sqlite3"),
            host=_host(top),
            host_options=_table(data, "host_options"),
            host_path=top.optional_path("host_path", base),
            google=_google(data, base),
            smtp=smtp,
            interval=processor.number("interval", 300.0, _INTERVAL),
            jitter=processor.number("jitter", 0.25, _JITTER),
            workers=processor.whole("workers", 4, _WORKERS),
            remind_every=_hours(processor.number("remind_every_hours", 24, _REMIND_HOURS)),
            server=_server(data),
            smtp_password_unset=password_unset,
        )

    def state_store(self, *, migrate: bool = False) -> StateStore:
        """The state store: PostgreSQL when ``[server] database`` is set (its schema must be
        current unless ``migrate``, which brings it up to date), else the SQLite file.

        Raises:
            SchemaVersionError: the PostgreSQL schema is not current (run ``calsync migrate``).
        """
        if self.server is not None and self.server.database:
            from calsync.server.database import Database  # noqa: PLC0415 - server extra
            from calsync.state.postgres import PostgresStateStore  # noqa: PLC0415

            database = Database(self.server.database, schema=self.server.schema, max_size=4)
            return PostgresStateStore(database, tenant=self.server.tenant, migrate=migrate)
        return SqliteStateStore(self.state)

    @contextmanager
    def dry_run_state(self) -> Iterator[StateStore]:
        """The state store as a dry run reads it, changing no file.

        PostgreSQL is opened as it is (a dry run only reads). A SQLite file not made yet is an
        empty store in memory. A SQLite file is read from a copy in a temporary directory (of
        an older schema version, the copy is upgraded), so the file stays byte for byte as it
        was; the copy goes when the block ends.

        Raises:
            SchemaVersionError: the schema is newer than this calsync reads, or (PostgreSQL)
                older: run ``calsync migrate``.
            StateUnavailable: the SQLite file cannot be read.
        """
        if self.server is not None and self.server.database:
            yield self.state_store()
            return
        if not self.state.exists():
            yield MemoryStateStore()
            return
        with (
            tempfile.TemporaryDirectory(prefix="calsync-dry-run-") as directory,
            SqliteStateStore(_copy_of(self.state, Path(directory))) as store,
        ):
            yield store

    def pacer_for(self) -> Callable[[SyncProfile], QuotaPacer] | None:
        """With ``[server] redis``: each profile's pacer is a
        :class:`~calsync.google.redis_pacing.RedisQuotaPacer` shared by every process (keyed by
        the tenant and profile id); else ``None`` (one pacer per profile in this process)."""
        if self.server is None or not self.server.redis:
            return None
        from calsync.google.redis_pacing import shared_pacers  # noqa: PLC0415 - server extra

        calls = self.google.calls_per_minute if self.google is not None else 600
        return shared_pacers(
            self.server.redis, calls, prefix=f"calsync:{self.server.schema}:{self.server.tenant}"
        )

    def token_store(self) -> TokenStore:
        """Where the users' tokens are: PostgreSQL (always encrypted) when ``[server]
        database`` is set, else the SQLite file of ``[google] tokens`` (encrypted when
        ``encrypt_tokens`` is on). The keys come from ``CALSYNC_TOKEN_KEYS``.

        Raises:
            ConfigurationError: no ``[google]`` section, or encryption without keys.
        """
        if self.server is not None and self.server.database:
            # imported here: the server extra is not needed by the desktop edition
            from calsync.crypto import TokenCipher  # noqa: PLC0415
            from calsync.server.database import Database  # noqa: PLC0415
            from calsync.server.tokens import PostgresTokenStore  # noqa: PLC0415

            database = Database(self.server.database, schema=self.server.schema, max_size=2)
            return PostgresTokenStore(database, TokenCipher.from_env())
        if self.google is None:
            raise ConfigurationError("the configuration has no [google] section")
        if self.google.encrypt_tokens:
            from calsync.crypto import TokenCipher  # noqa: PLC0415

            try:
                cipher = TokenCipher.from_env()
            except ConfigurationError as exc:  # worded for whoever switched it on
                raise ConfigurationError(
                    f"[google] encrypt_tokens is on, but {exc}; or switch encrypt_tokens off"
                ) from exc
            return SqliteTokenStore(self.google.tokens, cipher=cipher)
        return SqliteTokenStore(self.google.tokens)

    def dry_run_tokens(self) -> TokenStore:
        """The token store as a dry run uses it: the stored tokens, read as they are; a token
        refreshed during the run is kept in memory only, and where no token file exists yet
        none is made (nobody has connected Google).

        Raises:
            ConfigurationError: as :meth:`token_store`.
        """
        in_a_file = self.server is None or not self.server.database
        if in_a_file and self.google is not None and not self.google.tokens.exists():
            return MemoryTokenStore()
        return _UnsavedTokens(self.token_store())

    def open_host(self) -> Host:
        """Import and call the host factory.

        Raises:
            ConfigurationError: the factory cannot be found, raises, or returns something else.
        """
        if self.host_path is not None and str(self.host_path) not in sys.path:
            sys.path.insert(0, str(self.host_path))
        module_name, _, attribute = self.host.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(f"host = {self.host!r}: {exc}") from exc
        except Exception as exc:  # the host's module raised while it was imported
            raise ConfigurationError(
                f"host = {self.host!r}: importing {module_name!r} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        try:
            host = factory(dict(self.host_options, config_dir=str(self.path.parent)))
        except Exception as exc:  # the host's own code: whatever it raises, the host is unusable
            raise ConfigurationError(
                f"host factory {self.host!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(host, Host):
            raise ConfigurationError(f"host = {self.host!r} returned {type(host).__name__}")
        return host

    def notifier(self) -> EmailNotifier | None:
        """The email notifier, when SMTP is configured.

        Raises:
            ConfigurationError: ``[smtp] password_env`` names a variable this environment
                does not set (or sets empty): every problem email would fail to log in.
        """
        if self.smtp_password_unset is not None:
            name = self.smtp_password_unset
            raise ConfigurationError(
                f"[smtp] password_env names {name}, but the environment has no {name} (or it "
                "is empty): set it where calsync runs, or remove password_env"
            )
        return EmailNotifier(self.smtp) if self.smtp is not None else None


class _UnsavedTokens(TokenStore):
    """Another token store's tokens, read as they are; what is saved or deleted here stays in
    this object (a dry run changes no file, not even with a refreshed access token)."""

    def __init__(self, stored: TokenStore) -> None:
        self.stored = stored
        self._changed: dict[str, StoredToken | None] = {}

    def load(self, key: str) -> StoredToken | None:
        if key in self._changed:
            return self._changed[key]
        return self.stored.load(key)

    def save(self, key: str, token: StoredToken) -> None:
        self._changed[key] = token

    def delete(self, key: str) -> None:
        self._changed[key] = None


def _copy_of(path: Path, directory: Path) -> Path:
    """A copy in ``directory`` of ``path``, a SQLite state file (``path`` itself when its
    schema is newer than this calsync reads, which opening it refuses). The file is read,
    never written: opening it as a store would set its journal mode, or fold a journal left
    by a killed runner into it. With a write-ahead log or a rollback journal beside it (a
    killed runner's, or a runner's at work), the file's bytes are copied with them and the
    copy is opened: even a read-only connection would checkpoint the log into the file, or
    roll the journal back in it, or leave index files behind."""
    try:
        journals = [
            journal
            for journal in (path.with_name(path.name + end) for end in ("-wal", "-journal"))
            if journal.exists()
        ]
        if not journals:
            return _backed_up(path, f"{path.as_uri()}?mode=rw", directory)
        raw = directory / "raw"
        raw.mkdir()
        shutil.copyfile(path, raw / path.name)  # (the log after: it holds what is newer)
        for journal in journals:
            shutil.copyfile(journal, raw / journal.name)
        found = _backed_up(raw / path.name, str(raw / path.name), directory)
        return path if found == raw / path.name else found
    except (sqlite3.Error, OSError) as exc:
        raise StateUnavailable(f"state store {str(path)!r}: {exc}") from exc


def _backed_up(path: Path, address: str, directory: Path) -> Path:
    """``path`` opened at ``address`` and copied into ``directory`` with SQLite's backup
    (``path`` itself when its schema is newer than this calsync reads)."""
    with closing(sqlite3.connect(address, uri=True)) as conn:
        version = stored_version(conn, str(path))
        if version > SqliteStateStore.SCHEMA_VERSION:
            return path
        if version < SqliteStateStore.SCHEMA_VERSION:
            logger.info(
                "state store %s has schema version %d: the dry run reads an upgraded "
                "copy; the file itself is upgraded by the next sync",
                path,
                version,
            )
        copy = directory / path.name
        with closing(sqlite3.connect(copy)) as target:
            conn.backup(target)
    return copy


def _check_known_keys(data: Mapping[str, Any]) -> None:
    for section, known in _KNOWN_KEYS.items():
        for key, value in (_table(data, section) if section else data).items():
            if key not in known:
                raise ConfigurationError(_unknown(section, key, known, isinstance(value, dict)))


def _unknown(section: str, key: str, known: frozenset[str], is_table: bool) -> str:
    """``unknown key 'stat' (did you mean 'state'?)``, ``unknown section [procesor] …``."""
    close = difflib.get_close_matches(key, sorted(known), n=1)
    if is_table and not section:
        message = f"unknown section [{key}]"
        return f"{message} (did you mean [{close[0]}]?)" if close else message
    message = f"[{section}] unknown key {key!r}" if section else f"unknown key {key!r}"
    return f"{message} (did you mean {close[0]!r}?)" if close else message


@frozen
class _Bounds:
    """The numbers a key takes: from ``least`` to ``most`` (``most`` itself excluded when
    ``below``), in ``unit``. NaN and the infinities are never in bounds."""

    least: float
    most: float
    unit: str = ""
    below: bool = False

    def __contains__(self, number: float) -> bool:
        if self.below:
            return self.least <= number < self.most
        return self.least <= number <= self.most

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.below:
            return f"at least {_shown(self.least)} and less than {_shown(self.most)}{unit}"
        return f"from {_shown(self.least)} to {_shown(self.most)}{unit}"


def _shown(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


#: ``[processor] interval``: at least a second (below that the processor would start a user's
#: next sync before the last one could end, a busy loop against Google), at most a week.
_INTERVAL = _Bounds(1, MAX_INTERVAL, "seconds")
_JITTER = _Bounds(0, 1, below=True)
_WORKERS = _Bounds(1, 1000)
#: ``[processor] remind_every_hours``: 0 never reminds; at most a year.
_REMIND_HOURS = _Bounds(0, 365 * 24, "hours (0: never)")
_CALLS_PER_MINUTE = _Bounds(1, 1_000_000)
_PORT = _Bounds(1, 65535)


@frozen
class _Section:
    """One table of the file (``name`` ``""``: the top level), read key by key: each value is
    checked for its type and range, and a wrong one is a :class:`ConfigurationError` naming
    the key (``[processor] interval must be …, not 0``)."""

    name: str
    data: Mapping[str, Any]

    @classmethod
    def of(cls, data: Mapping[str, Any], name: str) -> _Section:
        return cls(name, _table(data, name))

    def where(self, key: str) -> str:
        return f"[{self.name}] {key}" if self.name else repr(key)

    def wrong(self, key: str, must: str) -> ConfigurationError:
        return ConfigurationError(f"{self.where(key)} must be {must}, not {self.data[key]!r}")

    def required(self, key: str) -> str:
        if key not in self.data:
            where = f"[{self.name}]" if self.name else "the configuration"
            raise ConfigurationError(f"{where} needs {key!r}")
        return self.text(key, "")

    def text(self, key: str, default: str) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self.wrong(key, "text")
        return value

    def filled(self, key: str) -> str:
        """Text that is not empty (nor only spaces)."""
        value = self.text(key, "")
        if not value.strip():
            raise self.wrong(key, "text that is not empty")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key, "") if key in self.data else None

    def path(self, key: str, base: Path, default: str) -> Path:
        """A file name, relative to the configuration file's directory."""
        name = self.text(key, default)
        if not name.strip():
            raise self.wrong(key, "a file name")
        return base / name

    def optional_path(self, key: str, base: Path) -> Path | None:
        return self.path(key, base, "") if key in self.data else None

    def flag(self, key: str, default: bool) -> bool:
        """A TOML boolean: text such as ``"false"`` is refused, never taken for true."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.wrong(key, "true or false")
        return value

    def number(self, key: str, default: float, bounds: _Bounds) -> float:
        """A number within ``bounds``: a TOML integer or float, or text that reads as one."""
        value = self.data.get(key, default)
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            number = value if isinstance(value, int) else float(value)
        except ValueError:
            raise self.wrong(key, "a number") from None
        return float(self._within(key, number, bounds))

    def whole(self, key: str, default: int, bounds: _Bounds) -> int:
        """A whole number within ``bounds``: a TOML integer (or a float or text that is one)."""
        value = self.data.get(key, default)
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            number = int(value)
        except (ValueError, OverflowError):  # (OverflowError: an infinite float)
            raise self.wrong(key, "a whole number") from None
        return int(self._within(key, number, bounds))

    def _within(self, key: str, number: float, bounds: _Bounds) -> float:
        if number not in bounds:
            raise self.wrong(key, str(bounds))
        return number

    def url(self, key: str) -> str | None:
        """An ``http://`` or ``https://`` address, or ``None`` when the key is not there."""
        value = self.optional_text(key)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise self.wrong(key, "an http:// or https:// address")
        return value


def _host(top: _Section) -> str:
    """``module:callable``: the host factory."""
    host = top.required("host")
    module, colon, attribute = host.partition(":")
    names = [*module.split("."), attribute]
    if not (colon and all(name.isidentifier() for name in names)):
        raise top.wrong("host", "'module:callable' (e.g. 'studio.host:open_host')")
    return host


def _hours(hours: float) -> timedelta | None:
    return timedelta(hours=hours) if hours > 0 else None


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"[{key}] must be a table")
    return value


def _google(data: Mapping[str, Any], base: Path) -> GoogleSettings | None:
    google = _Section.of(data, "google")
    if not google.data:
        return None
    given = {"client_secrets", "client_id", "client_secret"} & google.data.keys()
    if given == {"client_secrets"}:
        secrets = _client_secrets(google.path("client_secrets", base, ""))
    elif given == {"client_id", "client_secret"}:
        secrets = (google.filled("client_id"), google.filled("client_secret"))
    else:
        raise ConfigurationError(_client_keys_wrong(given))
    return GoogleSettings(
        client_id=secrets[0],
        client_secret=secrets[1],
        tokens=google.path("tokens", base, "tokens.sqlite3"),
        base_url=google.url("base_url"),
        calls_per_minute=google.whole("calls_per_minute", 600, _CALLS_PER_MINUTE),
        skip_event_types=_event_types(google.data),
        encrypt_tokens=google.flag("encrypt_tokens", False),
    )


def _client_keys_wrong(given: set[str]) -> str:
    """What is wrong with the OAuth client keys ``given`` (none, half a pair, or both ways at
    once, where one would be ignored)."""
    if "client_secrets" in given:
        return "[google] takes client_secrets, or client_id and client_secret, not both"
    for key, other in (("client_id", "client_secret"), ("client_secret", "client_id")):
        if given == {key}:
            return f"[google] {key} needs {other} too (or client_secrets instead of both)"
    return "[google] needs client_secrets, or client_id and client_secret"


def _server(data: Mapping[str, Any]) -> ServerSettings | None:
    server = _Section.of(data, "server")
    if not server.data:
        return None
    return ServerSettings(  # an empty address would quietly mean "none": SQLite, local pacing
        database=server.filled("database") if "database" in server.data else None,
        schema=server.text("schema", "calsync"),
        tenant=server.text("tenant", "default"),
        redis=server.filled("redis") if "redis" in server.data else None,
    )


def _event_types(table: Mapping[str, Any]) -> tuple[str, ...]:
    value = table.get("skip_event_types", sorted(SPECIAL_EVENT_TYPES))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError("[google] skip_event_types must be a list of event types")
    return tuple(value)


def _client_secrets(path: Path) -> tuple[str, str]:
    try:
        client = ClientConfig.from_file(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(f"[google] client_secrets {path}: {exc}") from exc
    return client.client_id, client.client_secret


def _smtp(data: Mapping[str, Any], base: Path) -> tuple[SmtpSettings | None, str | None]:
    """The SMTP settings, and the variable ``password_env`` names when the environment does
    not set it (or sets it empty): refused by :meth:`Config.notifier`, not here."""
    smtp = _Section.of(data, "smtp")
    if not smtp.data:
        return None, None
    password = unset = None
    if "password_env" in smtp.data:
        name = smtp.filled("password_env")
        password = os.environ.get(name) or None
        unset = name if password is None else None
    ca_file = smtp.optional_path("ca_file", base)
    try:
        settings = SmtpSettings(
            host=smtp.required("host"),
            port=smtp.whole("port", 587, _PORT),
            security=smtp.text("security", "starttls"),
            username=smtp.optional_text("username"),
            password=password,
            sender=smtp.text("sender", "calsync@localhost"),
            ca_file=str(ca_file) if ca_file is not None else None,
        )
    except ValueError as exc:
        raise ConfigurationError(f"[smtp] {exc}") from exc
    return settings, unset


def google_connector(
    google: GoogleSettings,
    tokens: TokenStore | None = None,
    *,
    pacer_for: Callable[[SyncProfile], QuotaPacer] | None = None,
) -> Connect:
    """A processor ``connect`` function: each profile's stored credentials, paced per user.

    ``tokens`` is the token store (default: the SQLite file of ``google.tokens``);
    ``pacer_for`` gives a profile's pacer (default: one per profile in this process, e.g. a
    :class:`~calsync.google.redis_pacing.RedisQuotaPacer` on a server). A profile without
    stored credentials raises :class:`~calsync.errors.NotConnected`, so the processor marks
    it ``NOT_CONNECTED`` (the user must connect a Google account).
    """
    token_uri = f"{google.base_url.rstrip('/')}/token" if google.base_url else None
    client = ClientConfig(google.client_id, google.client_secret)
    if token_uri is not None:
        client = ClientConfig(google.client_id, google.client_secret, token_uri=token_uri)
    tokens = tokens if tokens is not None else SqliteTokenStore(google.tokens)

    def connect_profile(profile: SyncProfile) -> Connection:
        credentials = load_credentials(tokens, profile.id, client)
        if credentials is None:
            raise NotConnected(f"profile {profile.id} has no Google account connected")
        if pacer_for is not None:
            pacer = pacer_for(profile)
        else:
            pacer = shared_pacer(profile.id, calls_per_window=google.calls_per_minute)
        account = connect(
            credentials,
            base_url=google.base_url,
            pacer=pacer,
            skip_event_types=google.skip_event_types,
        )
        return Connection(account.calendar, account.contacts, close=account.close)

    return connect_profile


#: What a host module exposes for the ``host`` key.
HostFactory = Callable[[dict[str, Any]], Host]

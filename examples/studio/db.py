"""The studio's database (stdlib ``sqlite3``): staff users, clients and client groups, sessions,
appointments, a change log, and each user's Google Sync preferences.

This is the studio application's own data layer and knows nothing about calsync; the adapters
in ``studio.adapters`` map it onto calsync's contracts.

Conventions:

* A timed item stores its wall-clock start and end as ISO text with their UTC offset, and the
  IANA zone name in ``time_zone``; an all-day item stores dates with an **exclusive** end.
* Every change to a session, appointment or client bumps its ``revision`` and ``updated_at``,
  and every change to a session or appointment appends to its user's change log.
* Row ids are never reused (``AUTOINCREMENT``): they name items in Google for as long as a sync
  lives.
* One connection, guarded by a lock: a ``Studio`` may be shared by threads (the sync job runs
  several users at once). Every public method is one transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "Appointment",
    "Change",
    "Client",
    "GooglePrefs",
    "Session",
    "Span",
    "Studio",
    "User",
    "appointment_key",
    "parse_item_key",
    "session_key",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT ''
);
CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    organization TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE client_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE client_group_members (
    group_id INTEGER NOT NULL REFERENCES client_groups (id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, client_id)
);
-- Clients made from a contact in a user's Google account: origins are per account.
CREATE TABLE client_origins (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    client_id INTEGER NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, origin)
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    client_id INTEGER NOT NULL REFERENCES clients (id),
    session_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'booked',
    title TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    all_day INTEGER NOT NULL,
    time_zone TEXT,
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    replaces INTEGER  -- the unlinked appointment this session was converted from
);
CREATE INDEX sessions_by_user_start ON sessions (user_id, start);
CREATE INDEX sessions_by_client ON sessions (client_id);
CREATE UNIQUE INDEX sessions_by_replaced ON sessions (replaces) WHERE replaces IS NOT NULL;
CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('appointment', 'unlinked')),
    title TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    start TEXT NOT NULL,
    "end" TEXT NOT NULL,
    all_day INTEGER NOT NULL,
    time_zone TEXT,
    google_event_id TEXT,  -- the Google event an unlinked appointment was made from
    revision INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE INDEX appointments_by_user_start ON appointments (user_id, start);
CREATE UNIQUE INDEX appointments_by_origin ON appointments (user_id, google_event_id)
    WHERE google_event_id IS NOT NULL;
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    deleted INTEGER NOT NULL
);
CREATE INDEX change_log_by_user ON change_log (user_id, seq);
CREATE TABLE google_prefs (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sync_on INTEGER NOT NULL DEFAULT 0,
    calendar_id TEXT,
    first_time INTEGER NOT NULL DEFAULT 1,
    sync_back_calendar INTEGER NOT NULL DEFAULT 0,
    sync_contacts INTEGER NOT NULL DEFAULT 0,
    sync_back_contacts INTEGER NOT NULL DEFAULT 0,
    notify_problems INTEGER NOT NULL DEFAULT 0,
    verbose_troubleshooting INTEGER NOT NULL DEFAULT 0,
    client_sync_group_id INTEGER REFERENCES client_groups (id),
    status TEXT NOT NULL DEFAULT 'ok',
    status_message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

CLIENT_COLUMNS = (
    "first_name",
    "last_name",
    "organization",
    "phone",
    "email",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "notes",
)
_CLIENT_SELECT = ", ".join(f"c.{name} AS c_{name}" for name in ("id", *CLIENT_COLUMNS))
_CLIENT_SELECT += ", c.revision AS c_revision, c.updated_at AS c_updated_at"

_SESSION_SELECT = (
    f"SELECT s.*, {_CLIENT_SELECT} FROM sessions s JOIN clients c ON c.id = s.client_id"
)


def session_key(session_id: int) -> str:
    """The schedule key of a session (sessions and appointments share one schedule)."""
    return f"session-{session_id}"


def appointment_key(appointment_id: int) -> str:
    """The schedule key of an appointment or unlinked appointment."""
    return f"appointment-{appointment_id}"


def parse_item_key(key: str) -> tuple[Literal["session", "appointment"], int] | None:
    """``("session", 12)`` for ``"session-12"``; ``None`` for anything that is not a key."""
    table, _, number = key.partition("-")
    if not number.isdigit():
        return None
    if table == "session":
        return "session", int(number)
    if table == "appointment":
        return "appointment", int(number)
    return None


@dataclass(frozen=True)
class Span:
    """When an item happens: two dates (all day, ``end`` exclusive, no zone) or two datetimes
    in the IANA zone ``time_zone``. Naive datetimes are wall-clock times in that zone."""

    start: date
    end: date
    time_zone: str | None = None

    def __post_init__(self) -> None:
        timed = isinstance(self.start, datetime), isinstance(self.end, datetime)
        if timed == (False, False):
            if self.time_zone is not None or self.end <= self.start:
                raise ValueError(f"all-day span {self.start}..{self.end}: end must be later")
            return
        if timed != (True, True) or not self.time_zone:
            raise ValueError("a timed span needs two datetimes and a time zone")
        zone = ZoneInfo(self.time_zone)
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
            object.__setattr__(self, name, local.astimezone(zone))
        if self.end < self.start:
            raise ValueError(f"span ends ({self.end}) before it starts ({self.start})")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def columns(self) -> tuple[str, str, int, str | None]:
        """``(start, end, all_day, time_zone)`` as stored."""
        return self.start.isoformat(), self.end.isoformat(), int(self.all_day), self.time_zone

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Span:
        if row["all_day"]:
            return cls(date.fromisoformat(row["start"]), date.fromisoformat(row["end"]))
        start, end = datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"])
        return cls(start, end, row["time_zone"])


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Client:
    id: int
    first_name: str
    last_name: str
    organization: str
    phone: str
    email: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    notes: str
    revision: int
    updated_at: datetime

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.organization

    @classmethod
    def from_row(cls, row: sqlite3.Row, prefix: str = "") -> Client:
        text = {name: str(row[prefix + name]) for name in CLIENT_COLUMNS}
        return cls(
            id=int(row[prefix + "id"]),
            revision=int(row[prefix + "revision"]),
            updated_at=datetime.fromisoformat(row[prefix + "updated_at"]),
            **text,
        )


@dataclass(frozen=True)
class Session:
    """A booked shoot, with its client."""

    id: int
    user_id: int
    client: Client
    session_type: str
    status: str
    title: str
    notes: str
    location: str
    span: Span
    revision: int
    updated_at: datetime
    replaces: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(
            id=int(row["id"]),
            user_id=int(row["user_id"]),
            client=Client.from_row(row, prefix="c_"),
            session_type=str(row["session_type"]),
            status=str(row["status"]),
            title=str(row["title"]),
            notes=str(row["notes"]),
            location=str(row["location"]),
            span=Span.from_row(row),
            revision=int(row["revision"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            replaces=row["replaces"],
        )


@dataclass(frozen=True)
class Appointment:
    """Anything else on a user's schedule; ``kind="unlinked"`` ones came from Google."""

    id: int
    user_id: int
    kind: Literal["appointment", "unlinked"]
    title: str
    notes: str
    location: str
    span: Span
    google_event_id: str | None
    revision: int
    updated_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Appointment:
        return cls(
            id=int(row["id"]),
            user_id=int(row["user_id"]),
            kind="unlinked" if row["kind"] == "unlinked" else "appointment",
            title=str(row["title"]),
            notes=str(row["notes"]),
            location=str(row["location"]),
            span=Span.from_row(row),
            google_event_id=row["google_event_id"],
            revision=int(row["revision"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )


@dataclass(frozen=True)
class Change:
    """One entry of a user's change log: the schedule key, and whether it was deleted."""

    seq: int
    item_key: str
    deleted: bool


@dataclass(frozen=True)
class GooglePrefs:
    """A user's Google Sync preferences screen. ``status``/``status_message`` are written by
    the sync job (:meth:`Studio.set_sync_status`); :meth:`Studio.set_google_prefs` ignores them."""

    sync_on: bool = False
    calendar_id: str | None = None
    first_time: bool = True
    sync_back_calendar: bool = False
    sync_contacts: bool = False
    sync_back_contacts: bool = False
    notify_problems: bool = False
    verbose_troubleshooting: bool = False
    client_sync_group: str | None = None
    status: str = "ok"
    status_message: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> GooglePrefs:
        return cls(
            sync_on=bool(row["sync_on"]),
            calendar_id=row["calendar_id"],
            first_time=bool(row["first_time"]),
            sync_back_calendar=bool(row["sync_back_calendar"]),
            sync_contacts=bool(row["sync_contacts"]),
            sync_back_contacts=bool(row["sync_back_contacts"]),
            notify_problems=bool(row["notify_problems"]),
            verbose_troubleshooting=bool(row["verbose_troubleshooting"]),
            client_sync_group=row["group_name"],
            status=str(row["status"]),
            status_message=str(row["status_message"]),
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Studio:
    """The studio database, opened on a file path or ``":memory:"`` (schema created on open)."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA busy_timeout = 5000")
        if str(path) != ":memory:":
            # the studio's screens and the sync job may run in different processes
            self._db.execute("PRAGMA journal_mode = WAL")
        self._create_schema()

    def _create_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            self._db.executescript(
                f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        elif version != SCHEMA_VERSION:
            raise RuntimeError(f"studio database schema {version}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()

    def _log(self, db: sqlite3.Connection, user_id: int, key: str, deleted: bool = False) -> None:
        db.execute(
            "INSERT INTO change_log (user_id, item_id, deleted) VALUES (?, ?, ?)",
            (user_id, key, int(deleted)),
        )

    # -- users -----------------------------------------------------------------------------

    def add_user(self, name: str, email: str = "") -> int:
        """Add a staff user (with Google Sync off) and return their id."""
        with self._transaction() as db:
            user_id = _insert(db, "users", name=name, email=email)
            db.execute("INSERT INTO google_prefs (user_id) VALUES (?)", (user_id,))
        return user_id

    def user(self, user_id: int) -> User | None:
        with self._transaction(write=False) as db:
            row = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return User(row["id"], row["name"], row["email"]) if row else None

    # -- clients and groups ----------------------------------------------------------------

    def add_client(self, first_name: str, last_name: str = "", **details: str) -> int:
        """Add a client; ``details`` are other client columns (``phone=...``, ``city=...``)."""
        with self._transaction() as db:
            return self._insert_client(db, first_name=first_name, last_name=last_name, **details)

    def _insert_client(self, db: sqlite3.Connection, **columns: str) -> int:
        _check_client_columns(columns)
        return _insert(db, "clients", updated_at=self._now(), **columns)

    def client(self, client_id: int) -> Client | None:
        with self._transaction(write=False) as db:
            row = db.execute(f"SELECT {_CLIENT_SELECT} FROM clients c WHERE c.id = ?", (client_id,))
            found = row.fetchone()
        return Client.from_row(found, prefix="c_") if found else None

    def update_client(self, client_id: int, **changes: str) -> None:
        """Change client columns. Sessions show the client's name and phone, so every session
        linked to the client gets a new revision too (and appears in its user's change log).

        Raises:
            KeyError: no such client.
        """
        _check_client_columns(changes)
        now = self._now()
        with self._transaction() as db:
            assignments = "".join(f", {name} = :{name}" for name in changes)
            cursor = db.execute(
                f"UPDATE clients SET revision = revision + 1, updated_at = :now{assignments}"
                " WHERE id = :id",
                {**changes, "now": now, "id": client_id},
            )
            if cursor.rowcount == 0:
                raise KeyError(client_id)
            sessions = db.execute(
                "SELECT id, user_id FROM sessions WHERE client_id = ?", (client_id,)
            ).fetchall()
            db.execute(
                "UPDATE sessions SET revision = revision + 1, updated_at = ? WHERE client_id = ?",
                (now, client_id),
            )
            for row in sessions:
                self._log(db, row["user_id"], session_key(row["id"]))
        logger.debug("client %s changed; %d sessions follow", client_id, len(sessions))

    def delete_client(self, client_id: int) -> None:
        """Delete a client (they leave every group).

        Raises:
            ValueError: the client still has sessions.
        """
        with self._transaction() as db:
            booked = db.execute("SELECT 1 FROM sessions WHERE client_id = ?", (client_id,))
            if booked.fetchone():
                raise ValueError(f"client {client_id} has sessions; cancel them first")
            db.execute("DELETE FROM clients WHERE id = ?", (client_id,))

    def add_group(self, name: str) -> int:
        with self._transaction() as db:
            return _insert(db, "client_groups", name=name)

    def group_id(self, name: str) -> int | None:
        with self._transaction(write=False) as db:
            row = db.execute("SELECT id FROM client_groups WHERE name = ?", (name,)).fetchone()
        return int(row["id"]) if row else None

    def add_to_group(self, group_id: int, client_id: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO client_group_members (group_id, client_id) VALUES (?, ?)",
                (group_id, client_id),
            )

    def remove_from_group(self, group_id: int, client_id: int) -> None:
        """Take a client out of a group (the client stays); not a member is no error."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM client_group_members WHERE group_id = ? AND client_id = ?",
                (group_id, client_id),
            )

    def group_members(self, group_id: int) -> list[Client]:
        with self._transaction(write=False) as db:
            rows = db.execute(
                f"SELECT {_CLIENT_SELECT} FROM clients c"
                " JOIN client_group_members m ON m.client_id = c.id"
                " WHERE m.group_id = ? ORDER BY c.id",
                (group_id,),
            ).fetchall()
        return [Client.from_row(row, prefix="c_") for row in rows]

    def add_client_from_google(
        self, user_id: int, group_id: int, origin: str, **columns: str
    ) -> int:
        """Add a client made from contact ``origin`` of the user's Google account, in the group.
        Idempotent per (user, origin): returns the client already made from it."""
        with self._transaction() as db:
            existing = db.execute(
                "SELECT client_id FROM client_origins WHERE user_id = ? AND origin = ?",
                (user_id, origin),
            ).fetchone()
            if existing:
                return int(existing["client_id"])
            client_id = self._insert_client(db, **columns)
            _insert(db, "client_group_members", group_id=group_id, client_id=client_id)
            _insert(db, "client_origins", user_id=user_id, origin=origin, client_id=client_id)
        return client_id

    def client_origins(self, user_id: int) -> dict[int, str]:
        """The Google contact each client was made from in the user's account, by client id."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT client_id, origin FROM client_origins WHERE user_id = ?", (user_id,)
            ).fetchall()
        return {int(row["client_id"]): str(row["origin"]) for row in rows}

    # -- sessions --------------------------------------------------------------------------

    def book_session(
        self,
        user_id: int,
        client_id: int,
        session_type: str,
        span: Span,
        *,
        status: str = "booked",
        title: str = "",
        notes: str = "",
        location: str = "",
    ) -> int:
        """Book a session for ``client_id`` on ``user_id``'s schedule; returns its id."""
        with self._transaction() as db:
            session_id = self._insert_item(
                db,
                "sessions",
                span,
                user_id=user_id,
                client_id=client_id,
                session_type=session_type,
                status=status,
                title=title,
                notes=notes,
                location=location,
            )
            self._log(db, user_id, session_key(session_id))
        return session_id

    def session(self, session_id: int) -> Session | None:
        with self._transaction(write=False) as db:
            row = db.execute(f"{_SESSION_SELECT} WHERE s.id = ?", (session_id,)).fetchone()
        return Session.from_row(row) if row else None

    def session_replacing(self, appointment_id: int) -> Session | None:
        """The session an unlinked appointment was converted into, if it still exists."""
        with self._transaction(write=False) as db:
            row = db.execute(f"{_SESSION_SELECT} WHERE s.replaces = ?", (appointment_id,))
            found = row.fetchone()
        return Session.from_row(found) if found else None

    def sessions_between(self, user_id: int, first_day: date, last_day: date) -> list[Session]:
        """The user's sessions that start on or before ``last_day`` and end on or after
        ``first_day`` (local dates): what a calendar screen of those days shows."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                f'{_SESSION_SELECT} WHERE s.user_id = ? AND s.start < ? AND s."end" >= ?'
                " ORDER BY s.start",
                (user_id, *_day_bounds(first_day, last_day)),
            ).fetchall()
        return [Session.from_row(row) for row in rows]

    def update_session(
        self,
        session_id: int,
        *,
        span: Span | None = None,
        client_id: int | None = None,
        session_type: str | None = None,
        status: str | None = None,
        title: str | None = None,
        notes: str | None = None,
        location: str | None = None,
    ) -> None:
        """Change the given attributes of a session (``None`` leaves one as it is).

        Raises:
            KeyError: no such session.
        """
        changes = _given(
            client_id=client_id,
            session_type=session_type,
            status=status,
            title=title,
            notes=notes,
            location=location,
        )
        with self._transaction() as db:
            self._update_item(db, "sessions", session_id, span, changes)

    def cancel_session(self, session_id: int) -> None:
        """Delete a session; an unknown id is no error."""
        with self._transaction() as db:
            self._delete_item(db, "sessions", session_id)

    # -- appointments ----------------------------------------------------------------------

    def add_appointment(
        self, user_id: int, title: str, span: Span, *, notes: str = "", location: str = ""
    ) -> int:
        with self._transaction() as db:
            appointment_id = self._insert_item(
                db,
                "appointments",
                span,
                user_id=user_id,
                kind="appointment",
                title=title,
                notes=notes,
                location=location,
            )
            self._log(db, user_id, appointment_key(appointment_id))
        return appointment_id

    def add_unlinked(
        self,
        user_id: int,
        google_event_id: str,
        title: str,
        span: Span,
        *,
        notes: str = "",
        location: str = "",
    ) -> int:
        """Add an unlinked appointment made from a Google event. Idempotent per (user, event):
        returns the one already made from ``google_event_id``."""
        with self._transaction() as db:
            existing = db.execute(
                "SELECT id FROM appointments WHERE user_id = ? AND google_event_id = ?",
                (user_id, google_event_id),
            ).fetchone()
            if existing:
                return int(existing["id"])
            appointment_id = self._insert_item(
                db,
                "appointments",
                span,
                user_id=user_id,
                kind="unlinked",
                title=title,
                notes=notes,
                location=location,
                google_event_id=google_event_id,
            )
            self._log(db, user_id, appointment_key(appointment_id))
        return appointment_id

    def appointment(self, appointment_id: int) -> Appointment | None:
        with self._transaction(write=False) as db:
            row = db.execute("SELECT * FROM appointments WHERE id = ?", (appointment_id,))
            found = row.fetchone()
        return Appointment.from_row(found) if found else None

    def appointments_between(
        self, user_id: int, first_day: date, last_day: date
    ) -> list[Appointment]:
        """As :meth:`sessions_between`, for appointments and unlinked appointments."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                'SELECT * FROM appointments WHERE user_id = ? AND start < ? AND "end" >= ?'
                " ORDER BY start",
                (user_id, *_day_bounds(first_day, last_day)),
            ).fetchall()
        return [Appointment.from_row(row) for row in rows]

    def update_appointment(
        self,
        appointment_id: int,
        *,
        span: Span | None = None,
        title: str | None = None,
        notes: str | None = None,
        location: str | None = None,
    ) -> None:
        """Change the given attributes of an appointment (``None`` leaves one as it is).

        Raises:
            KeyError: no such appointment.
        """
        changes = _given(title=title, notes=notes, location=location)
        with self._transaction() as db:
            self._update_item(db, "appointments", appointment_id, span, changes)

    def delete_appointment(self, appointment_id: int) -> None:
        """Delete an appointment; an unknown id is no error."""
        with self._transaction() as db:
            self._delete_item(db, "appointments", appointment_id)

    def convert_to_session(
        self, unlinked_id: int, client_id: int, session_type: str, *, status: str = "booked"
    ) -> int:
        """Turn an unlinked appointment into a session for ``client_id``; returns the session.

        The session keeps the appointment's time and text and records ``replaces``; the
        appointment row is removed.

        Raises:
            KeyError: no such appointment.
            ValueError: it is not an unlinked appointment.
        """
        with self._transaction() as db:
            row = db.execute("SELECT * FROM appointments WHERE id = ?", (unlinked_id,))
            found = row.fetchone()
            if found is None:
                raise KeyError(unlinked_id)
            old = Appointment.from_row(found)
            if old.kind != "unlinked":
                raise ValueError(f"appointment {unlinked_id} is not an unlinked appointment")
            session_id = self._insert_item(
                db,
                "sessions",
                old.span,
                user_id=old.user_id,
                client_id=client_id,
                session_type=session_type,
                status=status,
                title=old.title,
                notes=old.notes,
                location=old.location,
                replaces=unlinked_id,
            )
            self._delete_item(db, "appointments", unlinked_id)
            self._log(db, old.user_id, session_key(session_id))
        logger.info("unlinked appointment %s converted into session %s", unlinked_id, session_id)
        return session_id

    def _insert_item(self, db: sqlite3.Connection, table: str, span: Span, **values: Any) -> int:
        start, end, all_day, zone = span.columns()
        return _insert(
            db,
            table,
            start=start,
            end=end,
            all_day=all_day,
            time_zone=zone,
            updated_at=self._now(),
            **values,
        )

    def _update_item(
        self,
        db: sqlite3.Connection,
        table: Literal["sessions", "appointments"],
        row_id: int,
        span: Span | None,
        changes: dict[str, Any],
    ) -> None:
        if span is not None:
            changes["start"], changes["end"], changes["all_day"], changes["time_zone"] = (
                span.columns()
            )
        assignments = "".join(f', "{name}" = :{name}' for name in changes)
        cursor = db.execute(
            f"UPDATE {table} SET revision = revision + 1, updated_at = :now{assignments}"
            " WHERE id = :id RETURNING user_id",
            {**changes, "now": self._now(), "id": row_id},
        )
        row = cursor.fetchone()
        if row is None:
            raise KeyError(row_id)
        key = session_key if table == "sessions" else appointment_key
        self._log(db, row["user_id"], key(row_id))

    def _delete_item(
        self, db: sqlite3.Connection, table: Literal["sessions", "appointments"], row_id: int
    ) -> None:
        cursor = db.execute(f"DELETE FROM {table} WHERE id = ? RETURNING user_id", (row_id,))
        row = cursor.fetchone()
        if row is not None:
            key = session_key if table == "sessions" else appointment_key
            self._log(db, row["user_id"], key(row_id), deleted=True)

    # -- the change log --------------------------------------------------------------------

    def change_position(self) -> int:
        """The sequence number of the latest change (of any user); 0 before the first."""
        with self._transaction(write=False) as db:
            return self._position(db)

    def _position(self, db: sqlite3.Connection) -> int:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").fetchone()
        return int(row["seq"]) if row else 0

    def changes_after(self, user_id: int, seq: int) -> tuple[list[Change], int]:
        """The user's changes after ``seq``, oldest first, and the position they reach.

        Raises:
            LookupError: ``seq`` was never handed out, or the log was trimmed past it.
        """
        with self._transaction(write=False) as db:
            position = self._position(db)
            floor = db.execute("SELECT value FROM meta WHERE key = 'change_log_floor'")
            trimmed = int(row["value"]) if (row := floor.fetchone()) else 0
            if not trimmed <= seq <= position:
                raise LookupError(f"change position {seq} is unknown or trimmed")
            rows = db.execute(
                "SELECT seq, item_id, deleted FROM change_log"
                " WHERE user_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (user_id, seq, position),
            ).fetchall()
        changes = [Change(row["seq"], row["item_id"], bool(row["deleted"])) for row in rows]
        return changes, position

    def trim_change_log(self, through_seq: int) -> None:
        """Forget changes up to ``through_seq``; positions before it become unknown."""
        with self._transaction() as db:
            db.execute("DELETE FROM change_log WHERE seq <= ?", (through_seq,))
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('change_log_floor', ?)"
                " ON CONFLICT (key) DO UPDATE"
                " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (through_seq,),
            )

    # -- Google Sync preferences -----------------------------------------------------------

    _PREFS_SELECT = (
        "SELECT p.*, g.name AS group_name, u.id AS u_id, u.name AS u_name, u.email AS u_email"
        " FROM google_prefs p JOIN users u ON u.id = p.user_id"
        " LEFT JOIN client_groups g ON g.id = p.client_sync_group_id"
    )

    def google_prefs(self, user_id: int) -> GooglePrefs:
        """The user's preferences. Raises ``KeyError`` for an unknown user."""
        with self._transaction(write=False) as db:
            row = db.execute(f"{self._PREFS_SELECT} WHERE p.user_id = ?", (user_id,)).fetchone()
        if row is None:
            raise KeyError(user_id)
        return GooglePrefs.from_row(row)

    def all_google_prefs(self) -> list[tuple[User, GooglePrefs]]:
        """Every user with their preferences, by user id."""
        with self._transaction(write=False) as db:
            rows = db.execute(f"{self._PREFS_SELECT} ORDER BY u.id").fetchall()
        return [(User(r["u_id"], r["u_name"], r["u_email"]), GooglePrefs.from_row(r)) for r in rows]

    def set_google_prefs(self, user_id: int, prefs: GooglePrefs) -> None:
        """Save the preferences screen. Choosing a calendar again clears a "calendar gone"
        status (the user has acted on it).

        Raises:
            KeyError: unknown user or client sync group.
            ValueError: contacts sync without a group, or sync back contacts without contacts.
        """
        if prefs.sync_contacts and not prefs.client_sync_group:
            raise ValueError("choose a client sync group to sync contacts")
        if prefs.sync_back_contacts and not prefs.sync_contacts:
            raise ValueError("sync back contacts needs contacts sync on")
        with self._transaction() as db:
            group_id = None
            if prefs.client_sync_group:
                group = db.execute(
                    "SELECT id FROM client_groups WHERE name = ?", (prefs.client_sync_group,)
                ).fetchone()
                if group is None:
                    raise KeyError(prefs.client_sync_group)
                group_id = group["id"]
            values = {**asdict(prefs), "group_id": group_id, "user_id": user_id}
            chosen_again = "status = 'calendar_gone' AND :calendar_id IS NOT NULL"
            cursor = db.execute(
                "UPDATE google_prefs SET sync_on = :sync_on, calendar_id = :calendar_id,"
                " first_time = :first_time, sync_back_calendar = :sync_back_calendar,"
                " sync_contacts = :sync_contacts, sync_back_contacts = :sync_back_contacts,"
                " notify_problems = :notify_problems,"
                " verbose_troubleshooting = :verbose_troubleshooting,"
                " client_sync_group_id = :group_id,"
                f" status = iif({chosen_again}, 'ok', status),"
                f" status_message = iif({chosen_again}, '', status_message)"
                " WHERE user_id = :user_id",
                values,
            )
            if cursor.rowcount == 0:
                raise KeyError(user_id)

    def clear_first_time(self, user_id: int) -> None:
        """The initial sync succeeded: switch "first time" off."""
        with self._transaction() as db:
            db.execute("UPDATE google_prefs SET first_time = 0 WHERE user_id = ?", (user_id,))

    def set_sync_status(
        self, user_id: int, status: str, message: str, *, start_over: bool = False
    ) -> None:
        """Record why the user's sync stopped (or ``"ok"``). ``start_over`` also clears the
        calendar and switches "first time" on, so choosing a calendar re-populates it.

        Raises:
            KeyError: unknown user.
        """
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE google_prefs SET status = ?, status_message = ?,"
                " calendar_id = CASE WHEN ? THEN NULL ELSE calendar_id END,"
                " first_time = CASE WHEN ? THEN 1 ELSE first_time END"
                " WHERE user_id = ?",
                (status, message, start_over, start_over, user_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(user_id)


def _insert(db: sqlite3.Connection, table: str, **values: Any) -> int:
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    cursor = db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _check_client_columns(columns: dict[str, str]) -> None:
    unknown = set(columns) - set(CLIENT_COLUMNS)
    if unknown:
        raise TypeError(f"unknown client columns: {sorted(unknown)}")


def _day_bounds(first_day: date, last_day: date) -> tuple[str, str]:
    """Text bounds for ``start < ? AND end >= ?`` over ISO dates and datetimes."""
    return date.fromordinal(last_day.toordinal() + 1).isoformat(), first_day.isoformat()

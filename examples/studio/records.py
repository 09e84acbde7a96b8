"""The studio's records: what a row of each table means, and the keys of its schedule.

Every record is a frozen dataclass built from a ``sqlite3.Row`` by its ``from_row``. Sessions
and appointments share one schedule, one set of time columns and one reader: a row that cannot
be read as a record (a zone the tz database lacks, an end before the start, an empty all-day
span, a timed row without a zone, text that is not a date, text that is not UTF-8) is an
:class:`UnreadableRow` that says why, so a screen or a sync can show it instead of failing or
hiding it. The reason names the column, never its value: it may be a phone number.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from studio.schema import CLIENT_COLUMNS

__all__ = [
    "Appointment",
    "Change",
    "Client",
    "GooglePrefs",
    "LogRewound",
    "ScheduleRecord",
    "Session",
    "Span",
    "UnreadableRow",
    "User",
    "appointment_key",
    "invalid_text",
    "is_text",
    "parse_item_key",
    "read_client",
    "read_item",
    "session_key",
]

ItemTable = Literal["session", "appointment"]


def session_key(session_id: int) -> str:
    """The schedule key of a session (sessions and appointments share one schedule)."""
    return f"session-{session_id}"


def appointment_key(appointment_id: int) -> str:
    """The schedule key of an appointment or unlinked appointment."""
    return f"appointment-{appointment_id}"


def parse_item_key(key: str) -> tuple[ItemTable, int] | None:
    """``("session", 12)`` for ``"session-12"``; ``None`` for anything that is not a key."""
    table, _, number = key.partition("-")
    if not number.isdigit():
        return None
    if table == "session":
        return "session", int(number)
    if table == "appointment":
        return "appointment", int(number)
    return None


#: Whose column a joined row's ``<prefix>_`` column is, in words (``c_phone``: the client's).
_JOINED = {"c_": "client's ", "u_": "user's "}


def is_text(value: str) -> bool:
    """Whether UTF-8 can hold ``value``: not when it has the lone surrogates that
    ``studio.schema.connect`` reads stored bytes that are not UTF-8 as."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def invalid_text(row: sqlite3.Row, prefix: str = "") -> str | None:
    """Why ``row`` cannot be read when a column holds text that is not UTF-8 (``"its title is
    not valid text"``), or ``None``. The value itself is never quoted."""
    for column, value in zip(row.keys(), row, strict=True):  # (iterating a Row gives values)
        if isinstance(value, str) and not is_text(value):
            return f"its {_spoken(column.removeprefix(prefix))} is not valid text"
    return None


def _spoken(column: str) -> str:
    for prefix, owner in _JOINED.items():
        if column.startswith(prefix):
            return owner + column.removeprefix(prefix).replace("_", " ")
    return column.replace("_", " ")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # ZoneInfoNotFoundError is a KeyError, which would read as "no such row"
        raise ValueError(f"its time zone {name!r} is unknown") from exc


@dataclass(frozen=True)
class Span:
    """When an item happens: two dates (all day, ``end`` exclusive, no zone) or two datetimes
    in the IANA zone ``time_zone``. Naive datetimes are wall-clock times in that zone.

    Raises:
        ValueError: the span cannot exist; the message says why, in words for a user.
    """

    start: date
    end: date
    time_zone: str | None = None

    def __post_init__(self) -> None:
        timed = isinstance(self.start, datetime), isinstance(self.end, datetime)
        if timed == (False, False):
            if self.time_zone is not None:
                raise ValueError("an all-day span has no time zone")
            if self.end <= self.start:
                raise ValueError(f"its all-day span {self.start}..{self.end} is empty")
            return
        if timed != (True, True):
            raise ValueError("its start and end are not both dates or both times")
        if not self.time_zone:
            raise ValueError("it has a time but no time zone")
        zone = _zone(self.time_zone)
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
            object.__setattr__(self, name, local.astimezone(zone))
        if self.end < self.start:
            raise ValueError(f"it ends ({self.end}) before it starts ({self.start})")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    def columns(self) -> tuple[str, str, int, str | None]:
        """``(start, end, all_day, time_zone)`` as stored."""
        return self.start.isoformat(), self.end.isoformat(), int(self.all_day), self.time_zone

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Span:
        """Raises ``ValueError`` (saying why) for a row that holds no valid span."""
        read = date.fromisoformat if row["all_day"] else datetime.fromisoformat
        try:
            start, end = read(row["start"]), read(row["end"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"its start or end is not a valid date or time ({exc})") from exc
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
    phone_label: str
    email_label: str
    address_label: str
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
class ScheduleRecord:
    """What sessions and appointments share: one schedule, the same time and text columns."""

    table: ClassVar[ItemTable]

    id: int
    user_id: int
    title: str
    notes: str
    location: str
    span: Span
    revision: int
    updated_at: datetime

    @property
    def key(self) -> str:
        """The schedule key (``session-12``, ``appointment-7``)."""
        return f"{self.table}-{self.id}"

    @staticmethod
    def shared_columns(row: sqlite3.Row) -> dict[str, Any]:
        """The shared columns of a row, read (``ValueError`` when they cannot be)."""
        return {
            "id": int(row["id"]),
            "user_id": int(row["user_id"]),
            "title": str(row["title"]),
            "notes": str(row["notes"]),
            "location": str(row["location"]),
            "span": Span.from_row(row),
            "revision": int(row["revision"]),
            "updated_at": datetime.fromisoformat(row["updated_at"]),
        }


@dataclass(frozen=True)
class Session(ScheduleRecord):
    """A booked shoot, with its client. A session converted from an unlinked appointment has
    that appointment's id (``replaces``) and the Google event it was made from
    (``google_event_id``)."""

    table: ClassVar[ItemTable] = "session"

    client: Client
    session_type: str
    status: str
    replaces: int | None
    google_event_id: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        """A ``sessions`` row joined with its client (columns ``c_*``)."""
        return cls(
            **cls.shared_columns(row),
            client=Client.from_row(row, prefix="c_"),
            session_type=str(row["session_type"]),
            status=str(row["status"]),
            replaces=row["replaces"],
            google_event_id=row["google_event_id"],
        )


@dataclass(frozen=True)
class Appointment(ScheduleRecord):
    """Anything else on a user's schedule; ``kind="unlinked"`` ones came from Google."""

    table: ClassVar[ItemTable] = "appointment"

    kind: Literal["appointment", "unlinked"]
    google_event_id: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Appointment:
        return cls(
            **cls.shared_columns(row),
            kind="unlinked" if row["kind"] == "unlinked" else "appointment",
            google_event_id=row["google_event_id"],
        )


@dataclass(frozen=True)
class UnreadableRow:
    """A row that exists but cannot be read as a record: its key (``appointment-7``,
    ``client-5``), the user whose schedule it is on (``None`` for a client), and why."""

    key: str
    user_id: int | None
    reason: str


def read_item(table: ItemTable, row: sqlite3.Row) -> Session | Appointment | UnreadableRow:
    """The record of a ``sessions`` or ``appointments`` row, or why it cannot be one."""
    key, user_id = f"{table}-{row['id']}", int(row["user_id"])
    fault = invalid_text(row)
    if fault is not None:
        return UnreadableRow(key, user_id, fault)
    record = Session if table == "session" else Appointment
    try:
        return record.from_row(row)
    except ValueError as exc:
        return UnreadableRow(key, user_id, str(exc))


def read_client(row: sqlite3.Row, prefix: str = "") -> Client | UnreadableRow:
    """The client of a row (columns ``<prefix><column>``), or why it cannot be one."""
    key = f"client-{row[prefix + 'id']}"
    fault = invalid_text(row, prefix)
    if fault is not None:
        return UnreadableRow(key, None, fault)
    try:
        return Client.from_row(row, prefix)
    except ValueError as exc:
        return UnreadableRow(key, None, f"its row is damaged ({exc})")


class LogRewound(LookupError):
    """A change position the log no longer has: the database was restored from a backup
    older than it (the position is not reached yet, or another change holds it now)."""


@dataclass(frozen=True)
class Change:
    """One entry of a change log: the key (``session-12`` in a user's schedule log,
    ``client-5`` in a group's client log), and whether it was deleted (a client: whether it
    left the group, or was deleted)."""

    seq: int
    item_key: str
    deleted: bool


@dataclass(frozen=True)
class GooglePrefs:
    """A user's Google Sync preferences screen. ``status``/``status_message`` are written by
    the sync job (``Studio.set_sync_status``); ``Studio.set_google_prefs`` ignores them."""

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
        """Raises ``ValueError`` (saying why, see :func:`invalid_text`) for a row with text
        that is not UTF-8, in its own columns or its user's (``u_*``)."""
        fault = invalid_text(row)
        if fault is not None:
            raise ValueError(fault)
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

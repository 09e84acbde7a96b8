"""The studio's schedule: sessions and appointments, read and written as one, and the change log
that records every change to them.

Sessions and appointments live in two tables with the same time and text columns; every query
here takes the table (``"session"`` or ``"appointment"``) and works the same on both. Reading
answers an :class:`~studio.records.UnreadableRow` for a row that cannot be a record, so one
broken row never hides or breaks the rest of a schedule.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import date
from typing import Any, TypeVar

from studio.database import (
    StudioDatabase,
    day_bounds,
    given,
    log_mark,
    log_reach,
    trim_log,
)
from studio.records import (
    Appointment,
    Change,
    ItemTable,
    Session,
    Span,
    UnreadableRow,
    read_item,
)
from studio.schema import CLIENT_SELECT

__all__ = ["ScheduleQueries", "ScheduleRow"]

logger = logging.getLogger(__name__)

ScheduleRow = Session | Appointment | UnreadableRow
R = TypeVar("R", Session, Appointment)

_TABLES: dict[ItemTable, str] = {"session": "sessions", "appointment": "appointments"}
_SELECT: dict[ItemTable, str] = {
    "session": f"SELECT i.*, {CLIENT_SELECT} FROM sessions i JOIN clients c ON c.id = i.client_id",
    "appointment": "SELECT i.* FROM appointments i",
}
#: A user's rows on the local days between two bounds (see ``day_bounds``).
_BETWEEN = 'i.user_id = ? AND i.start < ? AND i."end" >= ?'


def _readable(found: ScheduleRow | None, record: type[R]) -> R | None:
    if isinstance(found, UnreadableRow):
        raise ValueError(f"{found.key} cannot be read: {found.reason}")
    assert found is None or isinstance(found, record)
    return found


def _fetch(
    db: sqlite3.Connection, table: ItemTable, where: str, *args: object
) -> list[ScheduleRow]:
    rows = db.execute(f"{_SELECT[table]} WHERE {where} ORDER BY i.start", args).fetchall()
    return [read_item(table, row) for row in rows]


class ScheduleQueries(StudioDatabase):
    """Sessions, appointments and unlinked appointments, and the change log."""

    # -- reading ---------------------------------------------------------------------------

    def schedule_item(self, table: ItemTable, row_id: int) -> ScheduleRow | None:
        """The session or appointment ``row_id`` (an :class:`UnreadableRow` when its row
        cannot be read), or ``None`` when there is no such row."""
        return self._read_one(table, "i.id = ?", row_id)

    def schedule_between(self, user_id: int, first_day: date, last_day: date) -> list[ScheduleRow]:
        """The user's sessions, then appointments, that start on or before ``last_day`` and end
        on or after ``first_day`` (local dates): what a calendar screen of those days shows.
        A row that cannot be read is in the list as an :class:`UnreadableRow`."""
        bounds = day_bounds(first_day, last_day)
        return [
            *self._read_all("session", _BETWEEN, user_id, *bounds),
            *self._read_all("appointment", _BETWEEN, user_id, *bounds),
        ]

    def successor_of(self, appointment_id: int) -> Session | UnreadableRow | None:
        """The session an unlinked appointment was converted into, if it still exists."""
        found = self._read_one("session", "i.replaces = ?", appointment_id)
        assert not isinstance(found, Appointment)
        return found

    def session(self, session_id: int) -> Session | None:
        """Raises ``ValueError`` when the row cannot be read (see :meth:`schedule_item`)."""
        return _readable(self.schedule_item("session", session_id), Session)

    def appointment(self, appointment_id: int) -> Appointment | None:
        """Raises ``ValueError`` when the row cannot be read (see :meth:`schedule_item`)."""
        return _readable(self.schedule_item("appointment", appointment_id), Appointment)

    def session_replacing(self, appointment_id: int) -> Session | None:
        """As :meth:`successor_of`; raises ``ValueError`` when the session cannot be read."""
        return _readable(self.successor_of(appointment_id), Session)

    def sessions_between(self, user_id: int, first_day: date, last_day: date) -> list[Session]:
        """The readable sessions of :meth:`schedule_between`."""
        found = self._read_all("session", _BETWEEN, user_id, *day_bounds(first_day, last_day))
        return [item for item in found if isinstance(item, Session)]

    def appointments_between(
        self, user_id: int, first_day: date, last_day: date
    ) -> list[Appointment]:
        """The readable appointments and unlinked appointments of :meth:`schedule_between`."""
        bounds = day_bounds(first_day, last_day)
        found = self._read_all("appointment", _BETWEEN, user_id, *bounds)
        return [item for item in found if isinstance(item, Appointment)]

    def _read_one(self, table: ItemTable, where: str, *args: object) -> ScheduleRow | None:
        found = self._read_all(table, where, *args)
        return found[0] if found else None

    def _read_all(self, table: ItemTable, where: str, *args: object) -> list[ScheduleRow]:
        with self._transaction(write=False) as db:
            return _fetch(db, table, where, *args)

    # -- writing ---------------------------------------------------------------------------

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
            return self._add_item(
                db,
                "session",
                span,
                user_id=user_id,
                client_id=client_id,
                session_type=session_type,
                status=status,
                title=title,
                notes=notes,
                location=location,
            )

    def add_appointment(
        self, user_id: int, title: str, span: Span, *, notes: str = "", location: str = ""
    ) -> int:
        with self._transaction() as db:
            return self._add_item(
                db,
                "appointment",
                span,
                user_id=user_id,
                kind="appointment",
                title=title,
                notes=notes,
                location=location,
            )

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
            return self._add_item(
                db,
                "appointment",
                span,
                user_id=user_id,
                kind="unlinked",
                title=title,
                notes=notes,
                location=location,
                google_event_id=google_event_id,
            )

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
        changes = given(
            client_id=client_id,
            session_type=session_type,
            status=status,
            title=title,
            notes=notes,
            location=location,
        )
        with self._transaction() as db:
            self._update_item(db, "session", session_id, span, changes)

    def update_appointment(
        self,
        appointment_id: int,
        *,
        span: Span | None = None,
        title: str | None = None,
        notes: str | None = None,
        location: str | None = None,
    ) -> None:
        """As :meth:`update_session`, for an appointment or unlinked appointment."""
        changes = given(title=title, notes=notes, location=location)
        with self._transaction() as db:
            self._update_item(db, "appointment", appointment_id, span, changes)

    def cancel_session(self, session_id: int) -> None:
        """Delete a session; an unknown id is no error."""
        with self._transaction() as db:
            self._delete_item(db, "session", session_id)

    def delete_appointment(self, appointment_id: int) -> None:
        """Delete an appointment; an unknown id is no error."""
        with self._transaction() as db:
            self._delete_item(db, "appointment", appointment_id)

    def convert_to_session(
        self, unlinked_id: int, client_id: int, session_type: str, *, status: str = "booked"
    ) -> int:
        """Turn an unlinked appointment into a session for ``client_id``; returns the session.

        The session keeps the appointment's time and text, records ``replaces``, and keeps the
        Google event the appointment was made from (``google_event_id``, for good: it is the
        event the session follows in Google); the appointment row is removed.

        Raises:
            KeyError: no such appointment.
            ValueError: it is not an unlinked appointment, or its row cannot be read.
        """
        with self._transaction() as db:
            found = _fetch(db, "appointment", "i.id = ?", unlinked_id)
            old = _readable(found[0] if found else None, Appointment)
            if old is None:
                raise KeyError(unlinked_id)
            if old.kind != "unlinked":
                raise ValueError(f"appointment {unlinked_id} is not an unlinked appointment")
            self._delete_item(db, "appointment", unlinked_id)
            session_id = self._add_item(
                db,
                "session",
                old.span,
                user_id=old.user_id,
                client_id=client_id,
                session_type=session_type,
                status=status,
                title=old.title,
                notes=old.notes,
                location=old.location,
                replaces=unlinked_id,
                google_event_id=old.google_event_id,
            )
        logger.info("unlinked appointment %s converted into session %s", unlinked_id, session_id)
        return session_id

    def _add_item(self, db: sqlite3.Connection, table: ItemTable, span: Span, **values: Any) -> int:
        start, end, all_day, zone = span.columns()
        row_id = self._insert_drawn(
            db,
            _TABLES[table],
            start=start,
            end=end,
            all_day=all_day,
            time_zone=zone,
            updated_at=self._now(),
            **values,
        )
        self._log(db, values["user_id"], f"{table}-{row_id}")
        return row_id

    def _update_item(
        self,
        db: sqlite3.Connection,
        table: ItemTable,
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
            f"UPDATE {_TABLES[table]} SET revision = revision + 1, updated_at = :now{assignments}"
            " WHERE id = :id RETURNING user_id",
            {**changes, "now": self._now(), "id": row_id},
        )
        row = cursor.fetchone()
        if row is None:
            raise KeyError(row_id)
        self._log(db, row["user_id"], f"{table}-{row_id}")

    def _delete_item(self, db: sqlite3.Connection, table: ItemTable, row_id: int) -> None:
        cursor = db.execute(
            f"DELETE FROM {_TABLES[table]} WHERE id = ? RETURNING user_id", (row_id,)
        )
        row = cursor.fetchone()
        if row is not None:
            self._log(db, row["user_id"], f"{table}-{row_id}", deleted=True)

    # -- the change log --------------------------------------------------------------------

    def change_position(self) -> int:
        """The sequence number of the latest change (of any user); 0 before the first."""
        return self.change_mark()[0]

    def change_mark(self) -> tuple[int, str]:
        """The latest change's position and stamp (``""`` when there is no change to name)."""
        with self._transaction(write=False) as db:
            return log_mark(db, "change_log")

    def changes_after(
        self, user_id: int, seq: int, stamp: str = ""
    ) -> tuple[list[Change], int, str]:
        """The user's changes after ``seq`` (whose change was stamped ``stamp``, when known),
        oldest first, and the position and stamp they reach.

        Raises:
            LogRewound: the database went back in time past ``seq`` (restored from a
                backup): the position is not reached yet, or another change holds it now.
            LookupError: the log was trimmed past ``seq``.
        """
        with self._transaction(write=False) as db:
            position, reached = log_reach(db, "change_log", seq, stamp)
            rows = db.execute(
                "SELECT seq, item_id, deleted FROM change_log"
                " WHERE user_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (user_id, seq, position),
            ).fetchall()
        changes = [Change(row["seq"], row["item_id"], bool(row["deleted"])) for row in rows]
        return changes, position, reached

    def trim_change_log(self, through_seq: int) -> None:
        """Forget changes up to ``through_seq``; positions before it become unknown."""
        with self._transaction() as db:
            trim_log(db, "change_log", through_seq)

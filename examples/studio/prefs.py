"""Each staff user's Google Sync preferences screen, and the status the sync job writes."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict

from studio.database import StudioDatabase
from studio.records import GooglePrefs, UnreadableRow, User

__all__ = ["PreferenceQueries"]


class PreferenceQueries(StudioDatabase):
    """Reading and saving :class:`~studio.records.GooglePrefs`."""

    _PREFS_SELECT = (
        "SELECT p.*, g.name AS group_name, u.id AS u_id, u.name AS u_name, u.email AS u_email"
        " FROM google_prefs p JOIN users u ON u.id = p.user_id"
        " LEFT JOIN client_groups g ON g.id = p.client_sync_group_id"
    )

    def google_prefs(self, user_id: int) -> GooglePrefs:
        """The user's preferences.

        Raises:
            KeyError: unknown user.
            ValueError: the row cannot be read (see :meth:`google_prefs_records`).
        """
        with self._transaction(write=False) as db:
            row = db.execute(f"{self._PREFS_SELECT} WHERE p.user_id = ?", (user_id,)).fetchone()
        if row is None:
            raise KeyError(user_id)
        return GooglePrefs.from_row(row)

    def google_prefs_records(self) -> list[tuple[User, GooglePrefs] | UnreadableRow]:
        """Every user with their preferences, by user id; an :class:`UnreadableRow` (key
        ``user-7``) for a user whose row cannot be read, so one never hides the others."""
        with self._transaction(write=False) as db:
            rows = db.execute(f"{self._PREFS_SELECT} ORDER BY u.id").fetchall()
        return [_user_prefs(row) for row in rows]

    def all_google_prefs(self) -> list[tuple[User, GooglePrefs]]:
        """The readable users of :meth:`google_prefs_records`."""
        return [found for found in self.google_prefs_records() if isinstance(found, tuple)]

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


def _user_prefs(row: sqlite3.Row) -> tuple[User, GooglePrefs] | UnreadableRow:
    try:
        prefs = GooglePrefs.from_row(row)
    except ValueError as exc:
        return UnreadableRow(f"user-{row['u_id']}", int(row["u_id"]), str(exc))
    return User(row["u_id"], row["u_name"], row["u_email"]), prefs

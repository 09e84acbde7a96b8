"""The studio's people: staff users, clients, client groups, and the clients made from a
user's Google contacts; and the client change log, per group."""

from __future__ import annotations

import logging
import sqlite3

from studio.database import StudioDatabase, insert, log_mark, log_reach, trim_log
from studio.records import Change, Client, UnreadableRow, User, read_client, session_key
from studio.schema import CLIENT_COLUMNS, CLIENT_SELECT

__all__ = ["PeopleQueries"]

logger = logging.getLogger(__name__)


class PeopleQueries(StudioDatabase):
    """Users, clients and client groups."""

    # -- users -----------------------------------------------------------------------------

    def add_user(self, name: str, email: str = "") -> int:
        """Add a staff user (with Google Sync off) and return their id: drawn at random, never
        one the file gave before (see :mod:`studio.schema`), since it names the user's calsync
        profile, whose state and Google tokens are keyed by it."""
        with self._transaction() as db:
            user_id = self._insert_drawn(db, "users", name=name, email=email)
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
        return self._insert_drawn(db, "clients", updated_at=self._now(), **columns)

    def client_record(self, client_id: int) -> Client | UnreadableRow | None:
        """The client (an :class:`UnreadableRow` when its row cannot be read), or ``None``."""
        found = self._read_clients("c.id = ?", client_id)
        return found[0] if found else None

    def client(self, client_id: int) -> Client | None:
        """Raises ``ValueError`` when the row cannot be read (see :meth:`client_record`)."""
        found = self.client_record(client_id)
        if isinstance(found, UnreadableRow):
            raise ValueError(f"{found.key} cannot be read: {found.reason}")
        return found

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
            for group_id in _groups_of(db, client_id):
                self._log_member(db, group_id, client_id)
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
            for group_id in _groups_of(db, client_id):
                self._log_member(db, group_id, client_id, left=True)
            db.execute("DELETE FROM clients WHERE id = ?", (client_id,))

    def add_group(self, name: str) -> int:
        with self._transaction() as db:
            return insert(db, "client_groups", name=name)

    def group_id(self, name: str) -> int | None:
        with self._transaction(write=False) as db:
            row = db.execute("SELECT id FROM client_groups WHERE name = ?", (name,)).fetchone()
        return int(row["id"]) if row else None

    def add_to_group(self, group_id: int, client_id: int) -> None:
        with self._transaction() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO client_group_members (group_id, client_id) VALUES (?, ?)",
                (group_id, client_id),
            )
            if added.rowcount:
                self._log_member(db, group_id, client_id)

    def remove_from_group(self, group_id: int, client_id: int) -> None:
        """Take a client out of a group (the client stays); not a member is no error."""
        with self._transaction() as db:
            removed = db.execute(
                "DELETE FROM client_group_members WHERE group_id = ? AND client_id = ?",
                (group_id, client_id),
            )
            if removed.rowcount:
                self._log_member(db, group_id, client_id, left=True)

    def group_records(self, group_id: int) -> list[Client | UnreadableRow]:
        """The members of a group by id, an :class:`UnreadableRow` for a row that cannot be
        read."""
        return self._read_clients(
            "c.id IN (SELECT client_id FROM client_group_members WHERE group_id = ?)", group_id
        )

    def group_members(self, group_id: int) -> list[Client]:
        """The readable members of :meth:`group_records`."""
        return [c for c in self.group_records(group_id) if isinstance(c, Client)]

    def _read_clients(self, where: str, *args: object) -> list[Client | UnreadableRow]:
        with self._transaction(write=False) as db:
            rows = db.execute(
                f"SELECT {CLIENT_SELECT} FROM clients c WHERE {where} ORDER BY c.id", args
            ).fetchall()
        return [read_client(row, prefix="c_") for row in rows]

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
            insert(db, "client_group_members", group_id=group_id, client_id=client_id)
            insert(db, "client_origins", user_id=user_id, origin=origin, client_id=client_id)
            self._log_member(db, group_id, client_id)
        return client_id

    def client_origins(self, user_id: int) -> dict[int, str]:
        """The Google contact each client was made from in the user's account, by client id."""
        with self._transaction(write=False) as db:
            rows = db.execute(
                "SELECT client_id, origin FROM client_origins WHERE user_id = ?", (user_id,)
            ).fetchall()
        return {int(row["client_id"]): str(row["origin"]) for row in rows}

    # -- the client change log -------------------------------------------------------------

    def client_change_mark(self) -> tuple[int, str]:
        """The position and stamp of the latest client change (of any group; ``""`` when
        there is no change to name)."""
        with self._transaction(write=False) as db:
            return log_mark(db, "client_change_log")

    def client_changes_after(
        self, group_id: int | None, seq: int, stamp: str = ""
    ) -> tuple[list[Change], int, str]:
        """The changes of group ``group_id``'s members after ``seq`` (whose change was stamped
        ``stamp``, when known), oldest first (keys ``client-5``; ``deleted``: the client left
        the group, or was deleted), and the position and stamp they reach. A group that does
        not exist (``None``) has no changes.

        Raises:
            LogRewound: the database went back in time past ``seq`` (restored from a backup).
            LookupError: the log was trimmed past ``seq``.
        """
        with self._transaction(write=False) as db:
            position, reached = log_reach(db, "client_change_log", seq, stamp)
            rows = db.execute(
                "SELECT seq, client_id, left_group FROM client_change_log"
                " WHERE group_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                (group_id, seq, position),
            ).fetchall()
        changes = [
            Change(row["seq"], f"client-{row['client_id']}", bool(row["left_group"]))
            for row in rows
        ]
        return changes, position, reached

    def trim_client_change_log(self, through_seq: int) -> None:
        """Forget client changes up to ``through_seq``; positions before it become unknown."""
        with self._transaction() as db:
            trim_log(db, "client_change_log", through_seq)


def _groups_of(db: sqlite3.Connection, client_id: int) -> list[int]:
    rows = db.execute(
        "SELECT group_id FROM client_group_members WHERE client_id = ?", (client_id,)
    ).fetchall()
    return [int(row["group_id"]) for row in rows]


def _check_client_columns(columns: dict[str, str]) -> None:
    unknown = set(columns) - set(CLIENT_COLUMNS)
    if unknown:
        raise TypeError(f"unknown client columns: {sorted(unknown)}")

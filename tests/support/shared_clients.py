"""The studio's clients shared by its staff (:class:`SharedClients`): every user's calls reach one
client table, as a studio host's do; the memory host keeps one per user."""

from __future__ import annotations

from calsync.model import Contact, ContactFields
from calsync.sources import ContactUpdate, HostChanges, Unreadable
from calsync.testing import MemoryContactSource
from calsync.testing.host_contacts import ContactsBackup

#: the one client table the studio's staff share
STUDIO = "studio"


class SharedClients(MemoryContactSource):
    """The studio's clients, shared by its staff: every user's calls reach the client table of
    :data:`STUDIO`, which can be backed up and restored as any user's (new clients still get
    ids never given before)."""

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        return super().list_group(STUDIO, group)

    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        return super().get_contact(STUDIO, contact_id)

    def create_contact(
        self, user_id: str, group: str, fields: ContactFields, origin: str
    ) -> Contact:
        return super().create_contact(STUDIO, group, fields, origin)

    def update_contact(self, user_id: str, contact_id: str, update: ContactUpdate) -> Contact:
        return super().update_contact(STUDIO, contact_id, update)

    def remove_from_group(self, user_id: str, group: str, contact_id: str) -> None:
        super().remove_from_group(STUDIO, group, contact_id)

    def change_cursor(self, user_id: str, group: str) -> str | None:
        return super().change_cursor(STUDIO, group)

    def changes_since(
        self, user_id: str, group: str, cursor: str
    ) -> HostChanges[Contact | Unreadable]:
        return super().changes_since(STUDIO, group, cursor)

    def backup(self, user_id: str = STUDIO) -> ContactsBackup:
        """The studio's client table (whichever user asks), to :meth:`restore` later."""
        return super().backup(STUDIO)

    def named(self, given_name: str) -> list[Contact]:
        """The studio's clients called ``given_name``."""
        return [c for c in self.contacts(STUDIO).values() if c.fields.given_name == given_name]

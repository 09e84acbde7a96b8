"""The studio's client groups as calsync contacts: :class:`StudioClients`, a
:class:`~calsync.ContactSource` over the members of a client group (ids ``client-5``).

Clients and groups are shared by the whole studio; each user chooses the group they sync, and
the Google contact a client was made from is kept per user (each has their own account).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from calsync import (
    Contact,
    ContactFields,
    ContactSource,
    ContactUpdate,
    Email,
    HostChanges,
    HostRewound,
    InvalidHostItem,
    Phone,
    PostalAddress,
)
from calsync.model import CONTACT_FIELDS
from calsync.sources import Unreadable
from studio.db import Client, LogRewound, Studio, UnreadableRow
from studio.feeds import cursor_text, read_cursor
from studio.profiles import studio_user
from studio.records import is_text

__all__ = ["StudioClients", "client_key"]

logger = logging.getLogger(__name__)


def client_key(client_id: int) -> str:
    """calsync's id of a studio client (the linked client of sessions, and contacts)."""
    return f"client-{client_id}"


#: The parts of an address the studio keeps, as :class:`~calsync.PostalAddress` names them.
_ADDRESS_PARTS = ("street", "city", "region", "postal_code", "country")


def _contact(client: Client, origin: str | None) -> Contact:
    address = PostalAddress(
        client.street,
        client.city,
        client.region,
        client.postal_code,
        client.country,
        client.address_label,
    )
    fields = ContactFields(
        given_name=client.first_name,
        family_name=client.last_name,
        organization=client.organization,
        phones=[Phone(client.phone, client.phone_label)] if client.phone else [],
        emails=[Email(client.email, client.email_label)] if client.email else [],
        addresses=[address] if _has_parts(address) else [],
        notes=client.notes,
    )
    return Contact(
        client_key(client.id),
        fields,
        revision=str(client.revision),
        remote_id=origin,
        updated=client.updated_at,
    )


def _contact_of(found: Client | UnreadableRow, origins: Mapping[int, str]) -> Contact | Unreadable:
    if isinstance(found, UnreadableRow):
        return Unreadable(found.key, found.reason)
    origin = origins.get(found.id)
    if origin is not None and not is_text(origin):
        # a contact id that is not text cannot be sent, and without it calsync would duplicate
        return Unreadable(client_key(found.id), "its Google contact id is not valid text")
    return _contact(found, origin)


def _only_one(values: Sequence[object], what: str) -> None:
    if len(values) > 1:
        raise InvalidHostItem(f"the studio keeps one {what} per client; Google has {len(values)}")


def _has_parts(address: PostalAddress) -> bool:
    return any(getattr(address, part) for part in _ADDRESS_PARTS)


def _client_columns(fields: ContactFields, changed: Iterable[str]) -> dict[str, str]:
    """The client columns for the ``changed`` contact fields, labels included.

    Raises:
        InvalidHostItem: more phones, emails or addresses than the studio can keep, or an
            address with none of the parts it keeps.
    """
    columns: dict[str, str] = {}
    for name in changed:
        if name == "phones":
            _only_one(fields.phones, "phone number")
            phone = fields.phones[0] if fields.phones else Phone("")
            columns.update(phone=phone.number, phone_label=phone.label)
        elif name == "emails":
            _only_one(fields.emails, "email address")
            email = fields.emails[0] if fields.emails else Email("")
            columns.update(email=email.address, email_label=email.label)
        elif name == "addresses":
            _only_one(fields.addresses, "postal address")
            address = fields.addresses[0] if fields.addresses else PostalAddress()
            if fields.addresses and not _has_parts(address):
                raise InvalidHostItem(
                    "Google's address has none of the parts the studio keeps (street, city,"
                    " region, postal code, country: only a PO box or one line, say), and keeping"
                    " no address would delete it in Google"
                )
            columns.update({part: getattr(address, part) for part in _ADDRESS_PARTS})
            columns["address_label"] = address.label
        else:
            column = {"given_name": "first_name", "family_name": "last_name"}.get(name, name)
            columns[column] = getattr(fields, name)
    return columns


def _client_number(contact: str) -> int | None:
    prefix, _, number = contact.partition("-")
    return int(number) if prefix == "client" and number.isdigit() else None


class StudioClients(ContactSource):
    """The studio's client groups as contacts. Clients are shared by the whole studio; origins
    of clients made from Google are kept per user (each user has their own Google account).

    The change feed of a group comes from the studio's client change log: it is cheap, and it
    is how calsync learns that the studio database was restored from a backup
    (``HostRewound``), which a listing cannot tell from the studio's own edits.
    """

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        user = studio_user(self.studio, user_id)
        group_id = self.studio.group_id(group)
        if group_id is None:
            return []
        origins = self.studio.client_origins(user)
        return [_contact_of(c, origins) for c in self.studio.group_records(group_id)]

    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        user = studio_user(self.studio, user_id)
        number = _client_number(contact_id)
        found = self.studio.client_record(number) if number is not None else None
        if found is None:
            return None
        return _contact_of(found, self.studio.client_origins(user))

    def create_contact(
        self, user_id: str, group: str, fields: ContactFields, origin: str
    ) -> Contact:
        user = studio_user(self.studio, user_id)
        group_id = self.studio.group_id(group)
        if group_id is None:
            raise InvalidHostItem(f"there is no client group {group!r} in the studio")
        columns = _client_columns(fields, CONTACT_FIELDS)
        client_id = self.studio.add_client_from_google(user, group_id, origin, **columns)
        logger.info("user %s: Google contact %s is client %s", user, origin, client_id)
        contact = self.get_contact(user_id, client_key(client_id))
        assert isinstance(contact, Contact)
        return contact

    def update_contact(self, user_id: str, contact_id: str, update: ContactUpdate) -> Contact:
        studio_user(self.studio, user_id)
        number = _client_number(contact_id)
        found = self.studio.client_record(number) if number is not None else None
        if found is None:
            raise KeyError(contact_id)
        if isinstance(found, UnreadableRow):
            raise InvalidHostItem(f"{contact_id} cannot be read: {found.reason}")
        unknown = update.changed - set(CONTACT_FIELDS)
        if unknown:
            raise InvalidHostItem(f"{contact_id}: calsync sent unknown fields {sorted(unknown)}")
        self.studio.update_client(found.id, **_client_columns(update.fields, update.changed))
        logger.debug("user %s: %s updated from Google (%s)", user_id, contact_id, update.changed)
        contact = self.get_contact(user_id, contact_id)
        if not isinstance(contact, Contact):  # deleted by staff in between
            raise KeyError(contact_id)
        return contact

    def remove_from_group(self, user_id: str, group: str, contact_id: str) -> None:
        studio_user(self.studio, user_id)
        group_id, number = self.studio.group_id(group), _client_number(contact_id)
        if group_id is not None and number is not None:
            self.studio.remove_from_group(group_id, number)

    # -- the change feed -----------------------------------------------------------------

    def change_cursor(self, user_id: str, group: str) -> str | None:
        studio_user(self.studio, user_id)
        return cursor_text(*self.studio.client_change_mark())

    def changes_since(
        self, user_id: str, group: str, cursor: str
    ) -> HostChanges[Contact | Unreadable]:
        """Raises ``HostRewound`` when the database was restored from a backup older than
        the cursor (see :meth:`Studio.client_changes_after`)."""
        user = studio_user(self.studio, user_id)
        seq, stamp = read_cursor(cursor)
        group_id = self.studio.group_id(group)
        try:
            changes, position, reached = self.studio.client_changes_after(group_id, seq, stamp)
        except LogRewound as exc:
            raise HostRewound(str(exc)) from exc
        latest = {change.item_key: change for change in changes}  # the last change of each
        origins = self.studio.client_origins(user) if latest else {}
        changed: list[Contact | Unreadable] = []
        deleted: list[str] = []
        for key, change in latest.items():
            number = _client_number(key)
            found = None if change.deleted or number is None else self.studio.client_record(number)
            if found is None:
                deleted.append(key)
            else:
                changed.append(_contact_of(found, origins))
        return HostChanges(changed, deleted, cursor_text(position, reached))

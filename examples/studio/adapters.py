"""The studio's side of calsync: its schedule, its client groups and its users' preferences,
mapped onto calsync's host contracts.

* :class:`StudioSchedule` — sessions, appointments and unlinked appointments of each staff user.
  Item ids are the studio's schedule keys (``session-12``, ``appointment-7``).
* :class:`StudioClients` — the members of a client group, as contacts (ids ``client-5``).
  Clients and groups are shared by the whole studio; each user chooses the group they sync.
* :class:`StudioProfiles` — one :class:`~calsync.SyncProfile` per user, from ``google_prefs``
  (in :mod:`studio.profiles`, re-exported here).

Host user ids are the studio's user ids as text (``"7"``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from calsync import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    ContactSource,
    ContactUpdate,
    Email,
    EventFields,
    HostChanges,
    InvalidHostItem,
    ItemKind,
    ItemUpdate,
    Phone,
    PostalAddress,
    ScheduleItem,
    ScheduleSource,
    SourceError,
    Timed,
    TimeRange,
    When,
)
from calsync.model import CONTACT_FIELDS, EVENT_FIELDS
from calsync.sources import Unreadable
from studio.db import (
    Appointment,
    Client,
    Session,
    Span,
    Studio,
    UnreadableRow,
    appointment_key,
    parse_item_key,
    session_key,
)
from studio.profiles import StudioProfiles

__all__ = ["StudioClients", "StudioProfiles", "StudioSchedule", "client_key", "span_of", "when_of"]

logger = logging.getLogger(__name__)


def _studio_user(studio: Studio, user_id: str) -> int:
    """The studio's id of calsync's ``user_id``; a user that does not exist is an error, never
    an empty schedule (that would read as "everything was deleted")."""
    if user_id.isdigit() and studio.user(int(user_id)) is not None:
        return int(user_id)
    raise SourceError(f"there is no studio user {user_id!r}")


# -- time --------------------------------------------------------------------------------


def when_of(span: Span) -> When:
    start, end = span.start, span.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        return Timed(start, end, span.time_zone or "UTC")
    return AllDay(start, end)


def span_of(when: When) -> Span:
    """The studio's span for calsync's time value.

    Raises:
        InvalidHostItem: the studio cannot store it (e.g. a zone its tz database lacks).
    """
    try:
        if isinstance(when, AllDay):
            return Span(when.start, when.end)
        return Span(when.start, when.end, when.zone)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        # ZoneInfoNotFoundError is a KeyError, which would read as "the item is gone"
        raise InvalidHostItem(f"the studio cannot store the time {when}: {exc}") from exc


# -- the schedule ------------------------------------------------------------------------


def client_key(client_id: int) -> str:
    """calsync's id of a studio client (the linked client of sessions, and contacts)."""
    return f"client-{client_id}"


def _session_item(session: Session) -> ScheduleItem:
    client = session.client
    return ScheduleItem(
        id=session_key(session.id),
        kind=ItemKind.SESSION,
        when=when_of(session.span),
        title=session.title,
        description=session.notes,
        location=session.location,
        client=ClientInfo(client_key(client.id), client.display_name, client.phone, client.email),
        session_type=session.session_type,
        status=session.status,
        # the studio bumps a session's revision when its client changes (name, phone, ...)
        revision=str(session.revision),
        replaces=appointment_key(session.replaces) if session.replaces is not None else None,
        updated=session.updated_at,
    )


def _appointment_item(appointment: Appointment) -> ScheduleItem:
    unlinked = appointment.kind == "unlinked"
    return ScheduleItem(
        id=appointment_key(appointment.id),
        kind=ItemKind.UNLINKED if unlinked else ItemKind.APPOINTMENT,
        when=when_of(appointment.span),
        title=appointment.title,
        description=appointment.notes,
        location=appointment.location,
        revision=str(appointment.revision),
        remote_id=appointment.google_event_id if unlinked else None,
        updated=appointment.updated_at,
    )


def _item(found: Session | Appointment | UnreadableRow) -> ScheduleItem | Unreadable:
    """calsync's item for a studio row, or :class:`Unreadable` saying why there is none."""
    if isinstance(found, UnreadableRow):
        return Unreadable(found.key, found.reason)
    try:
        return _session_item(found) if isinstance(found, Session) else _appointment_item(found)
    except ValueError as exc:  # a value calsync's model refuses
        return Unreadable(found.key, str(exc))


class StudioSchedule(ScheduleSource):
    """Every staff user's schedule, with a change feed from the studio's change log."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        user = _studio_user(self.studio, user_id)
        # The studio stores local dates; a local date is within a day of the UTC date.
        first_day = (window.start - timedelta(days=1)).date()
        last_day = (window.end + timedelta(days=1)).date()
        items = map(_item, self.studio.schedule_between(user, first_day, last_day))
        return [i for i in items if isinstance(i, Unreadable) or window.overlaps(i.when)]

    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        user = _studio_user(self.studio, user_id)
        item = self._current(user, item_id)
        if item is not None:
            return item
        key = parse_item_key(item_id)
        if key is None or key[0] != "appointment":
            return None
        successor = self.studio.successor_of(key[1])
        if successor is None or successor.user_id != user:
            return None
        return _item(successor)

    def _current(self, user: int, item_id: str) -> ScheduleItem | Unreadable | None:
        """The item with exactly this id on the user's schedule (no successors)."""
        key = parse_item_key(item_id)
        found = self.studio.schedule_item(*key) if key is not None else None
        if found is None or found.user_id != user:
            return None
        return _item(found)

    def create_unlinked(self, user_id: str, fields: EventFields, origin: str) -> ScheduleItem:
        user = _studio_user(self.studio, user_id)
        if fields.when is None:
            raise InvalidHostItem(f"Google event {origin} has no date or time")
        appointment_id = self.studio.add_unlinked(
            user,
            origin,
            fields.title,
            span_of(fields.when),
            notes=fields.description,
            location=fields.location,
        )
        logger.info(
            "user %s: Google event %s is unlinked appointment %s", user, origin, appointment_id
        )
        return self._existing(user, appointment_key(appointment_id))

    def update_item(self, user_id: str, item_id: str, update: ItemUpdate) -> ScheduleItem:
        user = _studio_user(self.studio, user_id)
        item = self._existing(user, item_id)
        changed, fields = update.changed, update.fields
        unknown = changed - set(EVENT_FIELDS)
        if unknown:
            raise InvalidHostItem(f"{item_id}: calsync sent unknown fields {sorted(unknown)}")
        span = None
        if "when" in changed:
            if fields.when is None:
                raise InvalidHostItem(f"{item_id} cannot lose its date and time")
            span = span_of(fields.when)
        key = parse_item_key(item.id)
        assert key is not None
        if item.kind is ItemKind.SESSION:
            if changed - {"when"}:
                raise InvalidHostItem(
                    f"{item_id}: only a session's time can change in Google; its title, "
                    "description and location come from the session templates"
                )
            self.studio.update_session(key[1], span=span)
        else:
            self.studio.update_appointment(
                key[1],
                span=span,
                title=fields.title if "title" in changed else None,
                notes=fields.description if "description" in changed else None,
                location=fields.location if "location" in changed else None,
            )
        logger.debug("user %s: %s updated from Google (%s)", user, item_id, sorted(changed))
        return self._existing(user, item_id)

    def _existing(self, user: int, item_id: str) -> ScheduleItem:
        item = self._current(user, item_id)
        if item is None:
            raise KeyError(item_id)
        if isinstance(item, Unreadable):
            raise InvalidHostItem(f"{item_id} cannot be read: {item.reason}")
        return item

    def delete_item(self, user_id: str, item_id: str) -> None:
        item = self._current(_studio_user(self.studio, user_id), item_id)
        key = parse_item_key(item_id)
        if item is None or key is None:
            return
        if key[0] == "session":
            self.studio.cancel_session(key[1])
        else:
            self.studio.delete_appointment(key[1])
        logger.info("user %s: %s deleted (deleted in Google)", user_id, item_id)

    # -- the change feed -----------------------------------------------------------------

    def change_cursor(self, user_id: str) -> str | None:
        _studio_user(self.studio, user_id)
        return str(self.studio.change_position())

    def changes_since(self, user_id: str, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        user = _studio_user(self.studio, user_id)
        if not cursor.isdigit():
            raise LookupError(f"not a studio change position: {cursor!r}")
        changes, position = self.studio.changes_after(user, int(cursor))
        latest = {change.item_key: change for change in changes}  # the last change of each
        changed: list[ScheduleItem | Unreadable] = []
        deleted: list[str] = []
        for key, change in latest.items():
            item = None if change.deleted else self._current(user, key)
            if item is None:
                deleted.append(key)
            else:
                changed.append(item)
        return HostChanges(changed, deleted, str(position))


# -- clients -----------------------------------------------------------------------------


def _contact(client: Client, origin: str | None) -> Contact:
    address = PostalAddress(
        client.street, client.city, client.region, client.postal_code, client.country
    )
    fields = ContactFields(
        given_name=client.first_name,
        family_name=client.last_name,
        organization=client.organization,
        phones=[Phone(client.phone)] if client.phone else [],
        emails=[Email(client.email)] if client.email else [],
        addresses=[address] if address != PostalAddress() else [],
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
    return _contact(found, origins.get(found.id))


def _only_one(values: Sequence[object], what: str) -> None:
    if len(values) > 1:
        raise InvalidHostItem(f"the studio keeps one {what} per client; Google has {len(values)}")


def _client_columns(fields: ContactFields, changed: Iterable[str]) -> dict[str, str]:
    """The client columns for the ``changed`` contact fields.

    Raises:
        InvalidHostItem: more phones, emails or addresses than the studio can keep.
    """
    columns: dict[str, str] = {}
    for name in changed:
        if name == "phones":
            _only_one(fields.phones, "phone number")
            columns["phone"] = fields.phones[0].number if fields.phones else ""
        elif name == "emails":
            _only_one(fields.emails, "email address")
            columns["email"] = fields.emails[0].address if fields.emails else ""
        elif name == "addresses":
            _only_one(fields.addresses, "postal address")
            address = fields.addresses[0] if fields.addresses else PostalAddress()
            for part in ("street", "city", "region", "postal_code", "country"):
                columns[part] = getattr(address, part)
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

    No change feed: a sync group is small on purpose, so a full listing is cheap.
    """

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        user = _studio_user(self.studio, user_id)
        group_id = self.studio.group_id(group)
        if group_id is None:
            return []
        origins = self.studio.client_origins(user)
        return [_contact_of(c, origins) for c in self.studio.group_records(group_id)]

    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        user = _studio_user(self.studio, user_id)
        number = _client_number(contact_id)
        found = self.studio.client_record(number) if number is not None else None
        if found is None:
            return None
        return _contact_of(found, self.studio.client_origins(user))

    def create_contact(
        self, user_id: str, group: str, fields: ContactFields, origin: str
    ) -> Contact:
        user = _studio_user(self.studio, user_id)
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
        _studio_user(self.studio, user_id)
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
        _studio_user(self.studio, user_id)
        group_id, number = self.studio.group_id(group), _client_number(contact_id)
        if group_id is not None and number is not None:
            self.studio.remove_from_group(group_id, number)

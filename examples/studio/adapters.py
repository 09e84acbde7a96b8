"""The studio's side of calsync: its schedule, its client groups and its users' preferences,
mapped onto calsync's host contracts.

* :class:`StudioSchedule` — sessions, appointments and unlinked appointments of each staff user.
  Item ids are the studio's schedule keys (``session-12``, ``appointment-7``).
* :class:`StudioClients` — the members of a client group, as contacts (ids ``client-5``;
  in :mod:`studio.clients`, re-exported here).
* :class:`StudioProfiles` — one :class:`~calsync.SyncProfile` per user, from ``google_prefs``
  (in :mod:`studio.profiles`, re-exported here).

Host user ids are the studio's user ids as text (``"7"``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from calsync import (
    AllDay,
    ClientInfo,
    EventFields,
    HostChanges,
    HostRewound,
    InvalidHostItem,
    ItemKind,
    ItemUpdate,
    ScheduleItem,
    ScheduleSource,
    Timed,
    TimeRange,
    When,
)
from calsync.model import EVENT_FIELDS
from calsync.sources import Unreadable
from studio.clients import StudioClients, client_key
from studio.db import (
    Appointment,
    LogRewound,
    Session,
    Span,
    Studio,
    UnreadableRow,
    appointment_key,
    parse_item_key,
    session_key,
)
from studio.feeds import cursor_text, read_cursor
from studio.profiles import StudioProfiles, studio_user

__all__ = ["StudioClients", "StudioProfiles", "StudioSchedule", "client_key", "span_of", "when_of"]

logger = logging.getLogger(__name__)


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
        # the event of the appointment it was converted from: calsync adopts it when it holds
        # no pair of the appointment to take over
        remote_id=session.google_event_id,
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
        user = studio_user(self.studio, user_id)
        # The studio stores local dates; a local date is within a day of the UTC date.
        first_day = (window.start - timedelta(days=1)).date()
        last_day = (window.end + timedelta(days=1)).date()
        items = map(_item, self.studio.schedule_between(user, first_day, last_day))
        return [i for i in items if isinstance(i, Unreadable) or window.overlaps(i.when)]

    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        user = studio_user(self.studio, user_id)
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
        user = studio_user(self.studio, user_id)
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
        user = studio_user(self.studio, user_id)
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
        item = self._current(studio_user(self.studio, user_id), item_id)
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
        studio_user(self.studio, user_id)
        return cursor_text(*self.studio.change_mark())

    def changes_since(self, user_id: str, cursor: str) -> HostChanges[ScheduleItem | Unreadable]:
        """Raises ``HostRewound`` when the database was restored from a backup older than
        the cursor (see :meth:`Studio.changes_after`)."""
        user = studio_user(self.studio, user_id)
        seq, stamp = read_cursor(cursor)
        try:
            changes, position, reached = self.studio.changes_after(user, seq, stamp)
        except LogRewound as exc:
            raise HostRewound(str(exc)) from exc
        latest = {change.item_key: change for change in changes}  # the last change of each
        changed: list[ScheduleItem | Unreadable] = []
        deleted: list[str] = []
        for key, change in latest.items():
            item = None if change.deleted else self._current(user, key)
            if item is None:
                deleted.append(key)
            else:
                changed.append(item)
        return HostChanges(changed, deleted, cursor_text(position, reached))

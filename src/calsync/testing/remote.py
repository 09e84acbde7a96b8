"""The remote side in memory: a calendar and an address book that keep Google's rules.

:class:`MemoryCalendarBackend` and :class:`MemoryContactsBackend` implement the backend
contracts with the preconditions Google enforces (client-chosen event ids checked and kept after
deletion, etags on every change, ``409`` on a duplicate create, sync tokens that expire), and
add the hooks a test needs:

* ``external_*`` methods play the Google user editing the calendar or address book;
* :meth:`~FaultHooks.fail_next` makes the next calls of a contract method raise;
* :meth:`~FaultHooks.crash_after_next` lets the next call do its write and then raise
  :class:`SimulatedCrash`, the process dying between the remote write and the state commit;
* ``calls`` counts the contract calls made.

The fault machinery and the change log here are shared with :mod:`calsync.testing.host`.
"""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
from attrs import frozen

from calsync.backends import (
    SPECIAL_EVENT_TYPES,
    CalendarBackend,
    ContactsBackend,
    ContactWrite,
    EventWrite,
    RemoteContact,
    RemoteEvent,
    RemoteListing,
    WriteResult,
)
from calsync.errors import (
    AlreadyExists,
    CalendarGone,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
)
from calsync.model import ContactFields, EventFields, Marker, TimeRange
from calsync.testing._faults import ChangeLog, Clock, FaultHooks, SimulatedCrash, utc_now

__all__ = [
    "ChangeLog",
    "Clock",
    "FaultHooks",
    "MemoryCalendarBackend",
    "MemoryContactsBackend",
    "SimulatedCrash",
    "utc_now",
]

logger = logging.getLogger(__name__)

#: Google's rule for client-chosen event ids: base32hex, 5 to 1024 characters.
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")


def _check_etag(current_etag: str, etag: str | None, what: str) -> None:
    if etag is not None and etag != current_etag:
        raise PreconditionFailed(
            f"{what} changed since etag {etag}", status=412, reason="conditionNotMet"
        )


def _check_event_fields(fields: EventFields) -> None:
    if fields.when is None:
        raise InvalidRequest("an event needs a start and an end", status=400, reason="required")


def _live_in(window: TimeRange, event: RemoteEvent) -> bool:
    when = event.fields.when if event.fields is not None else None
    return not event.deleted and when is not None and window.overlaps(when)


class MemoryCalendarBackend(FaultHooks, CalendarBackend):
    """Calendars in memory, with Google's id, etag, tombstone and sync-token rules.

    Calendars must exist (:meth:`add_calendar`); calls on an unknown or deleted calendar raise
    :class:`~calsync.errors.CalendarGone`. Deleted events stay as tombstones and keep their id.
    Thread-safe.
    """

    contract_methods = frozenset(
        {"list_events", "get_event", "create_event", "update_event", "delete_event", "write_events"}
    )

    def __init__(
        self,
        *,
        now: Clock | None = None,
        calendars: Iterable[str] = (),
        skip_event_types: Collection[str] = SPECIAL_EVENT_TYPES,
    ) -> None:
        super().__init__()
        self._now = now or utc_now
        self.skip_event_types = frozenset(skip_event_types)
        self._calendars: dict[str, dict[str, RemoteEvent]] = {}
        self._log: ChangeLog[str] = ChangeLog()
        self._etags = itertools.count(1)
        for calendar_id in calendars:
            self.add_calendar(calendar_id)

    # -- the contract --------------------------------------------------------------------

    def list_events(
        self, calendar_id: str, window: TimeRange, cursor: str | None, *, read_only: bool = False
    ) -> RemoteListing[RemoteEvent]:
        with self._contract_call("list_events"):
            events = self._events(calendar_id)
            if cursor is None:
                return self._full_listing(calendar_id, window, None)
            try:
                changed, next_cursor = self._log.since(calendar_id, cursor)
            except LookupError:
                return self._full_listing(calendar_id, window, "sync token expired")
            listed = [events[i] for i in changed if self._listed(events[i])]
            return RemoteListing(listed, complete=False, cursor=next_cursor)

    def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent | None:
        with self._contract_call("get_event"):
            return self._events(calendar_id).get(event_id)

    def create_event(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        with self._contract_call("create_event"):
            events = self._events(calendar_id)
            if not _EVENT_ID.match(event_id):
                raise InvalidRequest(f"invalid event id {event_id!r}", status=400, reason="invalid")
            _check_event_fields(fields)
            existing = events.get(event_id)
            if existing is not None and not existing.deleted and existing.marker != marker:
                raise AlreadyExists(f"event id {event_id} is taken", status=409, reason="duplicate")
            return self._put(calendar_id, RemoteEvent(event_id, "", fields, marker))

    def update_event(
        self,
        calendar_id: str,
        event_id: str,
        fields: EventFields,
        marker: Marker | None,
        etag: str | None,
    ) -> RemoteEvent:
        with self._contract_call("update_event"):
            current = self._live(calendar_id, event_id)
            _check_etag(current.etag, etag, f"event {event_id}")
            _check_event_fields(fields)
            marker = current.marker if marker is None else marker
            return self._put(calendar_id, attrs.evolve(current, fields=fields, marker=marker))

    def delete_event(self, calendar_id: str, event_id: str, etag: str | None) -> None:
        with self._contract_call("delete_event"):
            current = self._events(calendar_id).get(event_id)
            if current is None or current.deleted:
                return
            _check_etag(current.etag, etag, f"event {event_id}")
            self._put(calendar_id, attrs.evolve(current, fields=None, deleted=True))

    def write_events(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        with self._contract_call("write_events"):
            return super().write_events(calendar_id, writes)

    # -- what the Google user does -------------------------------------------------------

    def add_calendar(self, calendar_id: str | None = None) -> str:
        """Make a calendar (empty; a no-op when it exists) and return its id."""
        calendar_id = calendar_id or f"{uuid.uuid4().hex}@group.calendar.google.com"
        with self._lock:
            if calendar_id not in self._calendars:
                self._calendars[calendar_id] = {}
                self._log.reset(calendar_id)
        return calendar_id

    def delete_calendar(self, calendar_id: str) -> None:
        """Delete the calendar: from now on every call on it raises ``CalendarGone``."""
        with self._lock:
            self._calendars.pop(calendar_id, None)
            self._log.reset(calendar_id)

    def external_create(
        self,
        calendar_id: str,
        fields: EventFields,
        *,
        event_id: str | None = None,
        event_type: str = "default",
        marker: Marker | None = None,
        series_id: str | None = None,
    ) -> RemoteEvent:
        """An event made in Google (a server-style id unless ``event_id`` is given).

        Raises:
            AlreadyExists: ``event_id`` is taken (by a live event or a tombstone).
        """
        with self._lock:
            event_id = event_id or uuid.uuid4().hex
            if event_id in self._events(calendar_id):
                raise AlreadyExists(f"event id {event_id} is taken", status=409)
            _check_event_fields(fields)
            event = RemoteEvent(
                event_id, "", fields, marker, series_id=series_id, event_type=event_type
            )
            return self._put(calendar_id, event)

    def external_update(self, calendar_id: str, event_id: str, **field_changes: Any) -> RemoteEvent:
        """An edit made in Google: ``field_changes`` name :class:`EventFields` attributes.

        Raises:
            NotFound: no live event has this id.
        """
        with self._lock:
            current = self._live(calendar_id, event_id)
            assert current.fields is not None  # live events have fields
            fields = attrs.evolve(current.fields, **field_changes)
            _check_event_fields(fields)
            return self._put(calendar_id, attrs.evolve(current, fields=fields))

    def external_delete(self, calendar_id: str, event_id: str) -> None:
        """The event is deleted in Google (it stays as a tombstone).

        Raises:
            NotFound: no live event has this id.
        """
        with self._lock:
            current = self._live(calendar_id, event_id)
            self._put(calendar_id, attrs.evolve(current, fields=None, deleted=True))

    def events(self, calendar_id: str, include_deleted: bool = False) -> dict[str, RemoteEvent]:
        """The calendar's events by id (tombstones too with ``include_deleted``)."""
        with self._lock:
            events = self._events(calendar_id)
            return {i: e for i, e in events.items() if include_deleted or not e.deleted}

    def expire_cursors(self) -> None:
        """Expire every sync token handed out so far (Google's ``410 fullSyncRequired``)."""
        with self._lock:
            self._log.expire()

    # -- internals -----------------------------------------------------------------------

    def _events(self, calendar_id: str) -> dict[str, RemoteEvent]:
        events = self._calendars.get(calendar_id)
        if events is None:
            raise CalendarGone(f"calendar {calendar_id} does not exist", status=404)
        return events

    def _live(self, calendar_id: str, event_id: str) -> RemoteEvent:
        event = self._events(calendar_id).get(event_id)
        if event is None or event.deleted:
            raise NotFound(f"event {event_id} does not exist", status=404, reason="notFound")
        return event

    def _put(self, calendar_id: str, event: RemoteEvent) -> RemoteEvent:
        stamped = attrs.evolve(event, etag=f'"{next(self._etags)}"', updated=self._now())
        self._events(calendar_id)[event.id] = stamped
        self._log.record(calendar_id, event.id)
        logger.debug("calendar %s: event %s is now %s", calendar_id, event.id, stamped.etag)
        return stamped

    def _listed(self, event: RemoteEvent) -> bool:
        return event.deleted or event.event_type not in self.skip_event_types

    def _full_listing(
        self, calendar_id: str, window: TimeRange, restarted: str | None
    ) -> RemoteListing[RemoteEvent]:
        events = self._events(calendar_id).values()
        return RemoteListing(
            [event for event in events if _live_in(window, event) and self._listed(event)],
            complete=True,
            cursor=self._log.cursor(calendar_id),
            restarted=restarted,
        )


@frozen
class _Person:
    """A contact as the address book stores it: memberships by group id."""

    id: str
    etag: str
    fields: ContactFields | None
    marker: Marker | None
    groups: frozenset[str]
    deleted: bool = False
    updated: datetime | None = None

    def view(self, in_group: bool) -> RemoteContact:
        return RemoteContact(
            self.id, self.etag, self.fields, self.marker, self.deleted, in_group, self.updated
        )


#: The one change log of an address book (People sync tokens are per account).
_PEOPLE = "people"


class MemoryContactsBackend(FaultHooks, ContactsBackend):
    """An address book in memory, with People's etag, group and sync-token rules.

    ``in_group`` of a listed contact is relative to the listed group. :meth:`get_contact` has
    no group to speak of, so there ``in_group`` means "in a group found or made by
    :meth:`ensure_group`" (calsync's sync groups). A deleted contact is a tombstone in
    incremental listings and ``None`` for :meth:`get_contact` (People answers 404). Thread-safe.
    """

    contract_methods = frozenset(
        {
            "ensure_group",
            "list_contacts",
            "get_contact",
            "create_contact",
            "update_contact",
            "delete_contact",
            "remove_from_group",
            "write_contacts",
        }
    )

    def __init__(self, *, now: Clock | None = None) -> None:
        super().__init__()
        self._now = now or utc_now
        self._groups: dict[str, str] = {}  # id -> name
        self._sync_groups: set[str] = set()
        self._people: dict[str, _Person] = {}
        self._log: ChangeLog[str] = ChangeLog()
        self._etags = itertools.count(1)
        self._ids = itertools.count(1)

    # -- the contract --------------------------------------------------------------------

    def find_group(self, name: str) -> str | None:
        with self._contract_call("find_group"):
            found = next((i for i, n in self._groups.items() if n == name), None)
            if found is not None:
                self._sync_groups.add(found)
            return found

    def ensure_group(self, name: str) -> str:
        with self._contract_call("ensure_group"):
            group_id = self._group_ref(name)
            self._sync_groups.add(group_id)
            return group_id

    def list_contacts(self, group_id: str, cursor: str | None) -> RemoteListing[RemoteContact]:
        with self._contract_call("list_contacts"):
            self._check_group(group_id)
            if cursor is None:
                return self._full_listing(group_id, None)
            try:
                changed, next_cursor = self._log.since(_PEOPLE, cursor)
            except LookupError:
                return self._full_listing(group_id, "sync token expired")
            items = [self._view(self._people[i], group_id) for i in changed]
            return RemoteListing(items, complete=False, cursor=next_cursor)

    def get_contact(self, contact_id: str) -> RemoteContact | None:
        with self._contract_call("get_contact"):
            person = self._people.get(contact_id)
            if person is None or person.deleted:
                return None
            return self._view(person, None)

    def create_contact(self, group_id: str, fields: ContactFields, marker: Marker) -> RemoteContact:
        with self._contract_call("create_contact"):
            self._check_group(group_id)
            return self._create(fields, frozenset({group_id}), marker, group_id)

    def update_contact(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
    ) -> RemoteContact:
        with self._contract_call("update_contact"):
            self._check_group(group_id)
            current = self._live(contact_id)
            _check_etag(current.etag, etag, f"contact {contact_id}")
            updated = attrs.evolve(
                current,
                fields=fields,
                marker=current.marker if marker is None else marker,
                groups=current.groups | {group_id},
            )
            return self._view(self._put(updated), group_id)

    def delete_contact(self, contact_id: str) -> None:
        with self._contract_call("delete_contact"):
            current = self._people.get(contact_id)
            if current is not None and not current.deleted:
                self._delete(current)

    def remove_from_group(self, contact_id: str, group_id: str) -> None:
        with self._contract_call("remove_from_group"):
            self._check_group(group_id)
            current = self._live(contact_id)
            if group_id in current.groups:
                self._put(attrs.evolve(current, groups=current.groups - {group_id}))

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        with self._contract_call("write_contacts"):
            return super().write_contacts(group_id, writes)

    def _full_listing(self, group_id: str, restarted: str | None) -> RemoteListing[RemoteContact]:
        members = [
            person.view(True)
            for person in self._people.values()
            if not person.deleted and group_id in person.groups
        ]
        return RemoteListing(
            members, complete=True, cursor=self._log.cursor(_PEOPLE), restarted=restarted
        )

    # -- what the Google user does -------------------------------------------------------

    def external_create(
        self, fields: ContactFields, groups: Iterable[str] = (), marker: Marker | None = None
    ) -> RemoteContact:
        """A contact made in Google, in ``groups`` (group ids, or names made when missing)."""
        with self._lock:
            group_ids = frozenset(self._group_ref(group) for group in groups)
            return self._create(fields, group_ids, marker, None)

    def external_update(self, contact_id: str, **field_changes: Any) -> RemoteContact:
        """An edit made in Google: ``field_changes`` name :class:`ContactFields` attributes.

        Raises:
            NotFound: no live contact has this id.
        """
        with self._lock:
            current = self._live(contact_id)
            assert current.fields is not None  # live contacts have fields
            fields = attrs.evolve(current.fields, **field_changes)
            return self._view(self._put(attrs.evolve(current, fields=fields)), None)

    def external_delete(self, contact_id: str) -> None:
        """The contact is deleted in Google (a tombstone for incremental listings).

        Raises:
            NotFound: no live contact has this id.
        """
        with self._lock:
            self._delete(self._live(contact_id))

    def external_add_to_group(self, contact_id: str, group: str) -> None:
        """The Google user puts the contact in ``group`` (an id, or a name made when missing)."""
        with self._lock:
            current = self._live(contact_id)
            group_id = self._group_ref(group)
            if group_id not in current.groups:
                self._put(attrs.evolve(current, groups=current.groups | {group_id}))

    def external_remove_from_group(self, contact_id: str, group: str) -> None:
        """The Google user takes the contact out of ``group`` (an id or a name)."""
        with self._lock:
            current = self._live(contact_id)
            group_id = self._find_group(group)
            if group_id is not None and group_id in current.groups:
                self._put(attrs.evolve(current, groups=current.groups - {group_id}))

    def delete_group(self, group: str) -> None:
        """The Google user deletes the group (its contacts stay); listing it raises NotFound."""
        with self._lock:
            group_id = self._find_group(group)
            if group_id is None:
                return
            for person in list(self._people.values()):
                if group_id in person.groups:
                    self._put(attrs.evolve(person, groups=person.groups - {group_id}))
            del self._groups[group_id]
            self._sync_groups.discard(group_id)

    def groups(self) -> dict[str, str]:
        """The contact groups: name -> id."""
        with self._lock:
            return {name: group_id for group_id, name in self._groups.items()}

    def contacts(
        self, group: str | None = None, include_deleted: bool = False
    ) -> dict[str, RemoteContact]:
        """The contacts by id: the members of ``group`` (an id or a name) when given, else all
        (tombstones too with ``include_deleted``)."""
        with self._lock:
            group_id = None if group is None else self._find_group(group)
            if group is not None and group_id is None:
                return {}
            return {
                person.id: self._view(person, group_id)
                for person in self._people.values()
                if (include_deleted or not person.deleted)
                and (group_id is None or group_id in person.groups)
            }

    def expire_cursors(self) -> None:
        """Expire every sync token handed out so far (People's ``EXPIRED_SYNC_TOKEN``)."""
        with self._lock:
            self._log.expire()

    # -- internals -----------------------------------------------------------------------

    def _find_group(self, ref: str) -> str | None:
        if ref in self._groups:
            return ref
        return next((i for i, name in self._groups.items() if name == ref), None)

    def _group_ref(self, ref: str) -> str:
        group_id = self._find_group(ref)
        if group_id is None:
            group_id = f"contactGroups/{uuid.uuid4().hex[:12]}"
            self._groups[group_id] = ref
        return group_id

    def _check_group(self, group_id: str) -> None:
        if group_id not in self._groups:
            raise NotFound(f"contact group {group_id} does not exist", status=404)

    def _live(self, contact_id: str) -> _Person:
        person = self._people.get(contact_id)
        if person is None or person.deleted:
            raise NotFound(f"contact {contact_id} does not exist", status=404, reason="NOT_FOUND")
        return person

    def _view(self, person: _Person, group_id: str | None) -> RemoteContact:
        if group_id is not None:
            return person.view(group_id in person.groups)
        return person.view(bool(person.groups & self._sync_groups))

    def _create(
        self,
        fields: ContactFields,
        groups: frozenset[str],
        marker: Marker | None,
        group_id: str | None,
    ) -> RemoteContact:
        person = _Person(f"people/c{next(self._ids)}", "", fields, marker, groups)
        return self._view(self._put(person), group_id)

    def _delete(self, person: _Person) -> None:
        self._put(attrs.evolve(person, fields=None, groups=frozenset(), deleted=True))

    def _put(self, person: _Person) -> _Person:
        stamped = attrs.evolve(person, etag=f"%EgM{next(self._etags)}", updated=self._now())
        self._people[person.id] = stamped
        self._log.record(_PEOPLE, person.id)
        logger.debug("contact %s is now %s", person.id, stamped.etag)
        return stamped

"""A Google calendar in memory: :class:`MemoryCalendarBackend`.

It implements the calendar backend contract with the preconditions Google enforces
(client-chosen event ids checked and kept after deletion, etags on every change, ``409`` on a
duplicate create, sync tokens that expire), and adds the hooks a test needs: ``external_*``
methods play the Google user editing the calendar; ``fail_next``, ``crash_after_next``,
``calls`` and ``expire_cursors`` are those of every in-memory remote
(:class:`~calsync.testing._faults.MemoryRemote`).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import attrs

from calsync.backends import (
    SPECIAL_EVENT_TYPES,
    CalendarBackend,
    EventWrite,
    RemoteEvent,
    RemoteListing,
    WriteResult,
)
from calsync.errors import AlreadyExists, CalendarGone, InvalidRequest, NotFound
from calsync.ids import event_id_for
from calsync.model import EventFields, Marker, Timed, TimeRange
from calsync.testing._faults import Clock, MemoryRemote, check_etag

__all__ = ["MemoryCalendarBackend"]

logger = logging.getLogger(__name__)

#: Google's rule for client-chosen event ids: base32hex, 5 to 1024 characters.
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")


def _check_event_fields(fields: EventFields) -> None:
    if fields.when is None:
        raise InvalidRequest("an event needs a start and an end", status=400, reason="required")
    if isinstance(fields.when, Timed) and not fields.when.has_wall_times():
        # (Google's backend cannot make the request: local times with their offset)
        raise InvalidRequest(f"the event's times have no wall time in {fields.when.zone}")


def _restored_under(existing: RemoteEvent, event_id: str, own: str) -> str:
    """The id a create under ``event_id``, an id the event ``existing`` has, for an item
    whose own id (calsync's, :func:`~calsync.ids.event_id_for` of its marker) is ``own`` is
    made under, as Google's backend decides it: calsync's own id for the item as it is;
    another (the engine restores an item whose event Google made) as what the event is: an
    occurrence of a series keeps its id (revived in its series), unless the series holds
    calsync's id (its own event made recurring: made beside it, under calsync's id); a single
    event keeps its id when it may be given on create, else calsync's id. (An id no event has
    is no restore: Google's rules for the id apply. A memory calendar has no series masters:
    an occurrence's series is never gone.)"""
    if event_id == own:
        return event_id
    if existing.series_id is not None:
        return event_id if existing.series_id != own else own
    return event_id if _EVENT_ID.match(event_id) else own


def _live_in(window: TimeRange, event: RemoteEvent) -> bool:
    when = event.fields.when if event.fields is not None else None
    return not event.deleted and when is not None and window.overlaps(when)


class MemoryCalendarBackend(MemoryRemote, CalendarBackend):
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
        super().__init__(now=now)
        self.skip_event_types = frozenset(skip_event_types)
        self._calendars: dict[str, dict[str, RemoteEvent]] = {}
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
        """Create the event under calsync's own id for the item, or (a restore) under the id
        of the event Google made, as Google's backend does (:func:`_restored_under`): an
        occurrence revived in its series is not taken over when live with another item's
        marker, any other event when live with a marker not the item's: a restore is refused,
        and a create under calsync's own id is made under an id the calendar chooses (an
        event with no marker under calsync's own id is calsync's, its marker dropped by
        another app: taken over)."""
        with self._contract_call("create_event"):
            events = self._events(calendar_id)
            _check_event_fields(fields)
            existing = events.get(event_id)
            own_id = None  # calsync's own id for the item: derived only for an id taken
            if existing is not None:
                own_id = event_id_for(marker.namespace, marker.host_id)
                event_id = _restored_under(existing, event_id, own_id)
                existing = events.get(event_id)
            occurrence = existing is not None and existing.series_id is not None
            if not occurrence and not _EVENT_ID.match(event_id):
                raise InvalidRequest(f"invalid event id {event_id!r}", status=400, reason="invalid")
            theirs = existing.marker if existing is not None and not existing.deleted else marker
            own = event_id == own_id
            if theirs != marker and not ((occurrence or own) and theirs is None):
                if occurrence or not own:
                    raise AlreadyExists(
                        f"event id {event_id} is taken", status=409, reason="duplicate"
                    )
                # calsync's own id, held by another's event: left as it is
                event_id, existing = uuid.uuid4().hex, None
            return self._put(calendar_id, event_id, fields, marker, like=existing)

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
            check_etag(current.etag, etag, f"event {event_id}")
            _check_event_fields(fields)
            marker = current.marker if marker is None else marker
            return self._put(calendar_id, event_id, fields, marker, like=current)

    def delete_event(self, calendar_id: str, event_id: str, etag: str | None) -> None:
        with self._contract_call("delete_event"):
            current = self._events(calendar_id).get(event_id)
            if current is None or current.deleted:
                return
            check_etag(current.etag, etag, f"event {event_id}")
            self._put(calendar_id, event_id, None, current.marker, like=current, deleted=True)

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
            return self._put(
                calendar_id, event_id, fields, marker, series_id=series_id, event_type=event_type
            )

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
            return self._put(calendar_id, event_id, fields, current.marker, like=current)

    def external_delete(self, calendar_id: str, event_id: str) -> None:
        """The event is deleted in Google (it stays as a tombstone).

        Raises:
            NotFound: no live event has this id.
        """
        with self._lock:
            current = self._live(calendar_id, event_id)
            self._put(calendar_id, event_id, None, current.marker, like=current, deleted=True)

    def events(self, calendar_id: str, include_deleted: bool = False) -> dict[str, RemoteEvent]:
        """The calendar's events by id (tombstones too with ``include_deleted``)."""
        with self._lock:
            events = self._events(calendar_id)
            return {i: e for i, e in events.items() if include_deleted or not e.deleted}

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

    def _put(
        self,
        calendar_id: str,
        event_id: str,
        fields: EventFields | None,
        marker: Marker | None,
        *,
        like: RemoteEvent | None = None,
        deleted: bool = False,
        series_id: str | None = None,
        event_type: str = "default",
    ) -> RemoteEvent:
        """Store the event with a new etag and update time: one object per write (an initial
        sync makes thousands). ``like``: the event it replaces (deleted or not), whose series
        and type it keeps."""
        if like is not None:
            series_id, event_type = like.series_id, like.event_type
        etag = f'"{self._next_etag()}"'
        event = RemoteEvent(
            event_id, etag, fields, marker, deleted, self._now(), series_id, event_type
        )
        self._events(calendar_id)[event_id] = event
        self._log.record(calendar_id, event_id)
        logger.debug("calendar %s: event %s is now %s", calendar_id, event_id, etag)
        return event

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

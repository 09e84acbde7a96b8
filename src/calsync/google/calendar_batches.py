"""Batched event writes (see :mod:`calsync.google.calendar`): creates (``events.insert`` with
the engine's deterministic id), updates and deletes (``If-Match`` on the etag) sent through the
batch endpoint, ``batch_size`` at a time, each write still getting its own outcome. A part's
409 on a create adopts the existing event when it is ours or deleted, and when a recurring
series, or a live event calsync does not own, holds the id, creates the event anew under an id
Google chooses (one insert of its own, after the batch, never sent twice); a part's delete of an
event already gone succeeds; a part's 404 is that item's error, unless the calendar itself is
gone. A timed event's zone is sent under the name the backend chooses (``_zone_name``: the
canonical one, unless Google refused it in the run).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

from calsync.backends import (
    CreateEvent,
    DeleteEvent,
    EventWrite,
    RemoteEvent,
    UpdateEvent,
    WriteResult,
)
from calsync.errors import (
    AlreadyExists,
    BackendError,
    CalendarGone,
    CalsyncError,
    InvalidRequest,
    NotFound,
)
from calsync.google.batch import with_body
from calsync.google.calls import PATCH_COST, Caller, Outcome
from calsync.google.translate import event_body
from calsync.model import EventFields, Marker

__all__ = ["EventBatches"]


class EventBatches(abc.ABC):
    """The batched writes of :class:`~calsync.google.calendar.GoogleCalendarBackend`, over
    what the backend provides: its caller, its ``events()`` resource and its single-event
    steps."""

    batch_size: int
    caller: Caller
    batch_factory: Callable[[], Any]
    _inserts: dict[str, Any]  # calendar id -> an events.insert request

    @property
    @abc.abstractmethod
    def events(self) -> Any:
        """The service's ``events()`` resource."""

    @abc.abstractmethod
    def _read(self, calendar_id: str, data: Any) -> RemoteEvent:
        """The event of a response (``BackendError`` when it cannot be read)."""

    @abc.abstractmethod
    def _gone_already(self, calendar_id: str, event_id: str, error: NotFound) -> None:
        """A delete found nothing: fine, unless the calendar is gone."""

    @abc.abstractmethod
    def _adopt(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """A create's id is taken: take the event over, create it under an id Google chooses
        (a recurring series, or a live event calsync does not own, holds the id), or
        refuse."""

    @abc.abstractmethod
    def _check_calendar(self, calendar_id: str) -> None:
        """Raise ``CalendarGone`` when the calendar itself is missing."""

    @abc.abstractmethod
    def _zone_name(self, fields: EventFields) -> str | None:
        """The name the zone of ``fields`` is sent under (``None``: an all-day event)."""

    def write_events(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        """Send ``writes`` through the batch endpoint; per-part failures are handled one by
        one (409 adoption, gone-already deletes) and returned, never raised. A write whose
        request cannot be made (its body cannot be written) fails alone, unsent."""
        size = self._writes_a_batch()
        results: list[WriteResult[RemoteEvent]] = []
        for start in range(0, len(writes), size):
            chunk = writes[start : start + size]
            unsent: dict[int, WriteResult[RemoteEvent]] = {}
            sent, requests = [], []
            for index, write in enumerate(chunk):
                try:
                    requests.append(self._request(calendar_id, write))
                except InvalidRequest as exc:
                    unsent[index] = WriteResult(error=exc)
                else:
                    sent.append(write)
            costs = [PATCH_COST if isinstance(w, UpdateEvent) else 1 for w in sent]
            outcomes = self.caller.batch(self.batch_factory, requests, costs) if sent else []
            answers = iter(
                [self._result(calendar_id, w, o) for w, o in zip(sent, outcomes, strict=True)]
            )
            results.extend(
                unsent.pop(i) if i in unsent else next(answers) for i in range(len(chunk))
            )
        return results

    def _writes_a_batch(self) -> int:
        """How many writes one batch request carries (no more than the pacer lets go at once)."""
        return max(1, min(self.batch_size, self.caller.pacer.burst))

    def _result(
        self, calendar_id: str, write: EventWrite, outcome: Outcome
    ) -> WriteResult[RemoteEvent]:
        try:
            if isinstance(outcome, BackendError):
                return self._failed(calendar_id, write, outcome)
            if isinstance(write, DeleteEvent):
                return WriteResult()
            return WriteResult(self._read(calendar_id, outcome))
        except CalsyncError as exc:
            return WriteResult(error=exc)

    def _failed(
        self, calendar_id: str, write: EventWrite, error: BackendError
    ) -> WriteResult[RemoteEvent]:
        if isinstance(write, DeleteEvent) and isinstance(error, NotFound):
            self._gone_already(calendar_id, write.event_id, error)
            return WriteResult()
        if isinstance(write, CreateEvent) and isinstance(error, AlreadyExists):
            return WriteResult(self._adopt(calendar_id, write.event_id, write.fields, write.marker))
        if isinstance(error, NotFound) and not isinstance(error, CalendarGone):
            # one part's 404 is that item's error; only a calendar-level call may say the
            # calendar is gone (and raises CalendarGone here if it is)
            self._check_calendar(calendar_id)
        return WriteResult(error=error)

    def _request(self, calendar_id: str, write: EventWrite) -> Any:
        if isinstance(write, CreateEvent):
            return self._insert(calendar_id, write)
        if isinstance(write, UpdateEvent):
            return self._patch(calendar_id, write)
        return self._delete(calendar_id, write)

    def _insert(self, calendar_id: str, write: CreateEvent, *, google_chooses: bool = False) -> Any:
        """The insert of ``write``: under its id, or (``google_chooses``) under an id Google
        chooses, when its own cannot be the item's (see ``_adopt``)."""
        body = event_body(
            write.fields,
            write.marker,
            event_id=write.event_id,
            zone_name=self._zone_name(write.fields),
        )
        if google_chooses:  # the same body (the marker, no nulls), without the id
            del body["id"]
        template = self._inserts.get(calendar_id)
        if template is None:  # the client's own request; later inserts differ in body only
            template = self.events.insert(calendarId=calendar_id, body={}, sendUpdates="none")
            self._inserts[calendar_id] = template
        return with_body(template, body)

    def _patch(self, calendar_id: str, write: UpdateEvent) -> Any:
        request = self.events.patch(
            calendarId=calendar_id,
            eventId=write.event_id,
            body=event_body(write.fields, write.marker, zone_name=self._zone_name(write.fields)),
            sendUpdates="none",
        )
        if write.etag:
            request.headers["If-Match"] = write.etag
        return request

    def _delete(self, calendar_id: str, write: DeleteEvent) -> Any:
        request = self.events.delete(
            calendarId=calendar_id, eventId=write.event_id, sendUpdates="none"
        )
        if write.etag:
            request.headers["If-Match"] = write.etag
        return request

"""The Calendar v3 backend: one user's Google calendars behind calsync's ``CalendarBackend``.

* **Listing.** A full listing reads the profile's window (``timeMin``/``timeMax``) with
  ``singleEvents=true``, so a recurring series made in Google arrives as its instances inside
  the window (exceptions in place, cancelled instances absent); an incremental listing sends
  only the ``syncToken`` (same ``singleEvents``) and returns deletions as tombstones. Every
  page is read; the cursor is the ``nextSyncToken`` of the last page. A 410
  ``fullSyncRequired`` turns the listing into a full one (``restarted`` says so).
* **Writes.** ``write_events`` sends creates (``events.insert`` with the engine's
  deterministic id and the marker in ``extendedProperties.private``), updates
  (``events.patch`` with ``If-Match``) and deletes (with ``If-Match``) through the batch
  endpoint, ``batch_size`` at a time (:mod:`calsync.google.calendar_batches`); every call
  has ``sendUpdates=none``. A create that hits 409 adopts the existing event when it is ours
  or deleted, reviving it (a recurring series' id: see *Made recurring*); an event under
  calsync's id for the item with no marker is calsync's whose marker another app dropped (it is
  put back); one carrying another marker (a colleague's, on a shared calendar) is left as it
  is, and the item's event is made under an id Google chooses; a delete of an event already
  gone succeeds.
* **Restores.** A create under an id that is not calsync's for the item (the engine restores
  an item whose event Google made, deleted since) is sent on its own. Whether the id is an
  occurrence of a recurring series, calsync learns from what Google said of it (the
  ``recurringEventId`` of the tombstone the listing, or a read, met), never from the id:
  Google's instance ids are opaque (their format changed in Q3 2026). An id no read of the
  backend met is read first (one ``events.get``). An occurrence (a session converted from one)
  is confirmed again in its series with a patch (Google never takes an occurrence's id on
  create, and a second event would make a Google user's undo of the deletion a duplicate);
  its series gone, or the occurrence with it, the event is made under calsync's id. An
  occurrence of calsync's own event made recurring is restored beside the series (see *Made
  recurring*). A single event is revived under its id when that id may be given on create,
  else made under calsync's id.
* **Skipped.** Events whose ``eventType`` is in ``skip_event_types`` (out of office, focus
  time, working location, birthdays, Gmail events) and events that cannot be read are left
  out of listings; the latter with a warning naming them.
* **Split series.** When Google copies our marker onto a second event (a series split with
  "this and following events"), the copy loses the marker and comes back as Google's own.
* **Made recurring.** A single event made recurring in Google keeps its id and becomes the
  series' master, which no listing returns: the single event calsync synced is gone. A
  listing with live instances of a series adds a tombstone for the series' id, ``get_event``
  of a series is a tombstone, a create over a series (live or deleted) is made under an id
  Google chooses, carrying the marker, and an update or a delete sent without an etag reads
  the event first and is sent with its etag (a series: "not found" for an update, done for a
  delete). Of a series' instances carrying the marker the series itself carries, only the
  first occurrence keeps it in a listing; an occurrence carrying a marker of its own (one
  converted into a session) keeps it.
* **Zones Google refuses.** Google's time-zone database lags the IANA one: in August 2022
  it refused ``Europe/Kyiv`` (400 "Invalid time zone definition for start time."), still
  naming the zone ``Europe/Kiev``. A timed event's zone is sent under its canonical name; a
  write Google refuses for it is sent again (on its own, or in a new batch) under the zone's
  next name (:func:`~calsync.timezones.zone_names`: ``Europe/Kiev``), and the backend
  remembers, for the rest of the run, each name Google refused, so later writes go straight
  to the name taken. Google renders the event back under that name, which is read as the
  canonical one: no edit. A zone refused under each of its names fails the item alone
  (:class:`ZoneRefused`, naming the zone); the next run, a new backend, asks Google again.
* **Gone.** A 404 on the calendar itself is :class:`~calsync.errors.CalendarGone`.
* **Push.** ``watch_events`` opens a ``web_hook`` channel (``events.watch`` with
  ``params.ttl``); ``stop_channel`` stops one (``channels.stop``; a channel Google no longer
  knows counts as stopped).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

import attrs
import cattrs
import tenacity
from attrs import frozen

from calsync.backends import (
    SPECIAL_EVENT_TYPES,
    CalendarBackend,
    CreateEvent,
    DeleteEvent,
    EventWrite,
    RemoteEvent,
    RemoteListing,
    UpdateEvent,
    WatchChannel,
    WriteResult,
)
from calsync.errors import (
    AccessNotGranted,
    AlreadyExists,
    BackendError,
    CalendarGone,
    CalsyncError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    SyncTokenExpired,
    TransientError,
)
from calsync.google import wire
from calsync.google.calendar_batches import EventBatches
from calsync.google.calls import PATCH_COST, Caller, pages
from calsync.google.markers import event_marker
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import default_retrying
from calsync.google.services import new_batch_request, resource
from calsync.google.split import repair_split_markers
from calsync.google.translate import (
    Skipped,
    event_body,
    event_from_json,
    is_series,
    occurrence_start,
    rfc3339,
    sync_token,
)
from calsync.ids import event_id_for, is_event_id
from calsync.model import EventFields, Marker, Timed, TimeRange
from calsync.timezones import canonical_zone, zone_names

__all__ = ["DEFAULT_SKIPPED_EVENT_TYPES", "CalendarInfo", "GoogleCalendarBackend", "ZoneRefused"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: What Google's message says of a ``timeZone`` it refuses (400 ``invalid``).
_REFUSED_ZONE_MESSAGE = "invalid time zone definition"

#: Google's special events, which are not appointments: left out of listings by default.
DEFAULT_SKIPPED_EVENT_TYPES = SPECIAL_EVENT_TYPES

#: The calendar id that names each account's primary calendar.
PRIMARY = "primary"

#: How many "not found" answers in a row, for the calendar itself, make it gone.
GONE_ANSWERS = 3


class ZoneRefused(InvalidRequest):
    """Google refuses a timed event's zone under each of its names (the item's error, 400
    ``invalid``): Google's time-zone database knows none of them (yet)."""


@frozen
class CalendarInfo:
    """A calendar the user can choose."""

    id: str
    summary: str
    time_zone: str | None = None
    primary: bool = False
    access_role: str = "owner"


class GoogleCalendarBackend(EventBatches, CalendarBackend):
    """One user's Google calendars.

    Args:
        service: a Calendar v3 ``Resource`` (see :mod:`calsync.google.services`); not
            thread-safe, so one backend per thread.
        batch_factory: makes an empty batch request for ``service`` (default: the service's
            own batch endpoint).
        pacer: the user's :class:`~calsync.google.pacing.QuotaPacer`, shared with the
            user's contacts backend (default: a pacer for 600 calls a minute).
        retrying: the retry policy for transient errors (default:
            :func:`~calsync.google.retry.default_retrying`).
        batch_size: writes per batch request (cut to the pacer's burst).
        skip_event_types: ``eventType`` values left out of listings.
        page_size: ``maxResults`` of listing pages (Google's maximum is 2500).
    """

    supports_push = True
    calendar_aliases = frozenset({PRIMARY})

    def __init__(
        self,
        service: Any,
        *,
        batch_factory: Callable[[], Any] | None = None,
        pacer: QuotaPacer | None = None,
        retrying: tenacity.Retrying | None = None,
        batch_size: int = 50,
        skip_event_types: Collection[str] = DEFAULT_SKIPPED_EVENT_TYPES,
        page_size: int = 2500,
    ) -> None:
        self.service = service
        self.batch_factory = batch_factory or (lambda: new_batch_request(service))
        self.caller = Caller(pacer or QuotaPacer(), retrying or default_retrying())
        # at most the pacer's burst, so the engine hands over whole batches (50 writes cut
        # into 48 + 2 cost a request and a window's worth of quota packing per batch)
        self.batch_size = max(1, min(batch_size, 1000, self.caller.pacer.burst))
        self.skip_event_types = frozenset(skip_event_types)
        self.page_size = page_size
        self._zones: dict[str, str] = {}
        # zone names Google refused in this backend's run ("Invalid time zone definition"):
        # each zone is sent under the first of its names not in it (``_zone_name``)
        self._refused_zone_names: set[str] = set()
        self._inserts: dict[str, Any] = {}  # calendar id -> an events.insert request
        self._primary_id: str | None = None  # what ``primary`` names (calendar_identity)
        # calendar id -> the deleted events its last listing, and the reads since, met: each
        # one's series (``recurringEventId``; None for a single event), as Google said it
        self._deleted: dict[str, dict[str, str | None]] = {}

    # -- the client's resources, each built once (building one parses its whole discovery
    # description: it was most of the client's CPU when done per request) ------------------

    @cached_property
    def events(self) -> Any:
        """The service's ``events()`` resource."""
        return resource(self.service, "events")

    @cached_property
    def calendar_list(self) -> Any:
        """The service's ``calendarList()`` resource."""
        return resource(self.service, "calendarList")

    @cached_property
    def calendars(self) -> Any:
        """The service's ``calendars()`` resource."""
        return resource(self.service, "calendars")

    # -- calendars -----------------------------------------------------------------------

    def list_writable_calendars(self) -> list[CalendarInfo]:
        """The calendars the user may write to (owner or writer), primary first."""
        calendars: list[CalendarInfo] = []
        lists = self.calendar_list
        request = lists.list(minAccessRole="writer", maxResults=250)
        for _, entries in pages(self.caller.execute, request, lists.list_next, "items"):
            for data in entries:
                entry = wire.structure(data, wire.CalendarEntry)
                if entry.id and not entry.deleted:
                    calendars.append(_info(entry))
        return sorted(calendars, key=lambda c: (not c.primary, c.summary.casefold(), c.id))

    def calendar_identity(self, calendar_id: str) -> str:
        """``primary`` resolved to the primary calendar's own id (its owner's address): one
        ``calendarList.get`` per backend, made only for that alias. Its list entry, not
        ``calendars.get``: ``calendar.calendarlist.readonly`` covers the former, and none of
        the scopes calsync asks for covers the latter. A token not allowed the calendar list
        either (granted before calsync asked for it, or the list unticked on Google's consent
        page) pairs with the alias itself, as a backend without aliases does."""
        if calendar_id != PRIMARY:
            return calendar_id
        if self._primary_id is None:
            self._primary_id = self._primary_entry_id()
        return self._primary_id

    def _primary_entry_id(self) -> str:
        """The id of the primary calendar's list entry; the alias when the token may not read
        the calendar list."""
        try:
            data = self.caller.execute(self.calendar_list.get(calendarId=PRIMARY))
        except NotFound as exc:
            raise CalendarGone(
                "the primary calendar cannot be read", status=exc.status, reason=exc.reason
            ) from exc
        except (AccessNotGranted, PermissionDenied) as exc:
            # (not the run's failure: the events themselves may be allowed, which the
            # listing tells; only another account's primary can no longer be told apart)
            logger.info(
                "the Google authorisation does not allow reading the calendar list (%s): "
                "the calendar is paired as %r, which names the primary calendar of whichever "
                "account is connected",
                exc.reason or exc.status,
                PRIMARY,
            )
            return PRIMARY
        entry = wire.structure(data, wire.CalendarEntry)
        if not entry.id:
            raise BackendError("Google's entry for the primary calendar has no id")
        return entry.id

    def create_calendar(self, summary: str, time_zone: str = "UTC") -> CalendarInfo:
        """Create a dedicated (secondary) calendar owned by the user, in ``time_zone``: under
        its canonical name, or its next name while Google refuses it (as events' zones are
        sent).

        Raises:
            ZoneRefused: Google refuses the zone under each of its names (nothing is made).
        """

        def send() -> Any:
            body = {"summary": summary, "timeZone": self._name_of_zone(time_zone)}
            return self.caller.execute(self.calendars.insert(body=body), safe=False)

        data = self._zoned(canonical_zone(time_zone), send)
        logger.info("created a calendar")
        logger.debug("created calendar %s", data.get("id"))  # (an id may be an address)
        return _info(wire.structure(data, wire.CalendarEntry))

    # -- push notifications --------------------------------------------------------------

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(max(1, int(ttl.total_seconds())))},
        }
        request = self.events.watch(calendarId=calendar_id, body=body)
        try:
            # not retried blindly: a lost answer may hide an open channel (the id is then taken)
            data = self.caller.execute(request, safe=False)
        except CalendarGone:
            raise
        except NotFound as exc:
            raise CalendarGone(
                f"calendar {calendar_id} no longer exists", status=exc.status, reason=exc.reason
            ) from exc
        expires = datetime.fromtimestamp(int(data["expiration"]) / 1000, UTC)
        logger.debug("opened push channel %s on %s until %s", channel_id, calendar_id, expires)
        return WatchChannel(str(data["id"]), str(data["resourceId"]), expires)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        channels = resource(self.service, "channels")
        request = channels.stop(body={"id": channel_id, "resourceId": resource_id})
        try:
            self.caller.execute(request)
        except NotFound:
            logger.debug("push channel %s was already gone", channel_id)

    # -- reading -------------------------------------------------------------------------

    def list_events(
        self, calendar_id: str, window: TimeRange, cursor: str | None, *, read_only: bool = False
    ) -> RemoteListing[RemoteEvent]:
        if cursor is not None:
            try:
                return self._listing(
                    calendar_id, {"syncToken": cursor}, complete=False, read_only=read_only
                )
            except SyncTokenExpired as exc:
                logger.info("a calendar's sync token expired (%s): listing in full", exc)
                logger.debug("the sync token of %s expired", calendar_id)
                restarted = f"the sync token expired ({exc.reason or exc.status})"
                return self._listing(
                    calendar_id, _window(window), True, restarted, read_only=read_only
                )
        return self._listing(calendar_id, _window(window), complete=True, read_only=read_only)

    def _listing(
        self,
        calendar_id: str,
        params: dict[str, Any],
        complete: bool,
        restarted: str | None = None,
        *,
        read_only: bool = False,
    ) -> RemoteListing[RemoteEvent]:
        events = self.events
        request = events.list(
            calendarId=calendar_id, singleEvents=True, maxResults=self.page_size, **params
        )
        items: list[RemoteEvent] = []
        warnings: list[str] = []
        originals: dict[str, Any] = {}  # instance id -> its originalStartTime
        token: str | None = None
        send = functools.partial(self._calendar_call, calendar_id)
        for page, entries in pages(send, request, events.list_next, "items"):
            if isinstance(page.get("timeZone"), str):
                self._zones[calendar_id] = page["timeZone"]
            for data in entries:
                self._collect(calendar_id, data, items, warnings)
                if isinstance(data, dict) and data.get("recurringEventId"):
                    originals[str(data.get("id"))] = data.get("originalStartTime")
            token = sync_token(page)
            if token is None and page.get("nextSyncToken") is not None:
                logger.warning("a calendar's sync token cannot be stored: the next listing is full")
        items = repair_split_markers(
            self.events, self.caller, calendar_id, items, warnings, read_only=read_only
        )
        items = self._series_seen(calendar_id, items, originals, warnings, news=not complete)
        self._deleted[calendar_id] = {e.id: e.series_id for e in items if e.deleted}
        # (the attrs plugin types a ``converter=tuple`` field as ``Iterable[_T_co]``)
        notes: Any = tuple(warnings)
        return RemoteListing(items, complete, token, notes, restarted)

    def _collect(
        self, calendar_id: str, data: Any, items: list[RemoteEvent], warnings: list[str]
    ) -> None:
        event = event_from_json(data, calendar_zone=self._zones.get(calendar_id))
        if isinstance(event, Skipped):
            logger.warning("%s", event.warning("event"))
            warnings.append(event.warning("event"))
        elif not event.deleted and event.event_type in self.skip_event_types:
            logger.debug("left out %s event %s", event.event_type, event.id)
        else:
            items.append(event)

    def _series_seen(
        self,
        calendar_id: str,
        items: list[RemoteEvent],
        originals: dict[str, Any],
        warnings: list[str],
        *,
        news: bool,
    ) -> list[RemoteEvent]:
        """What the instances of a listing say about their series.

        * **The series' id is no single event.** A listing (``singleEvents``) never holds a
          series' master, but its live instances prove that their ``recurringEventId`` is a
          recurring series now. When that id was a single event calsync synced, the event
          was made recurring in Google (it kept its id): that single event is gone, so each
          such id not listed itself is added as a tombstone, and calsync's pair with it
          follows the deletion rules in this very run, never written to.
        * **A marker on a series' instances is kept by its first occurrence only.** An event
          carrying calsync's marker made recurring in Google hands the marker on to every
          instance. The item is one occurrence, the first one (the event as it was); the
          others are the Google user's own events (unlinked appointments when inbound sync
          is on), as a split-off series' are. One ``events.get`` of the series tells its
          first occurrence and the marker it hands on; when it cannot be read, the series'
          instances are listed as they are, and its tombstone waits for a later listing. An
          occurrence whose marker is not the series' own (the series carries none, or
          another item's) had it stamped on itself: an occurrence calsync converted into a
          session keeps it, wherever it is in the series. An incremental listing (``news``)
          that meets other occurrences carrying the marker (the series was made, or changed,
          in Google since the last listing) says so in a warning; a full one only logs it.
        """
        listed = {event.id for event in items}
        series: dict[str, list[int]] = {}
        for index, event in enumerate(items):
            root = event.series_id
            if root is not None and root not in listed and not event.deleted:
                series.setdefault(root, []).append(index)
        gone: list[RemoteEvent] = []
        for root, indices in series.items():
            marked = [index for index in indices if items[index].marker is not None]
            if marked and not self._first_occurrence_keeps(
                calendar_id, root, marked, items, originals, warnings, news
            ):
                continue
            gone.append(RemoteEvent(root, "", None, deleted=True))
        # (first: the pair with the single event is settled before its occurrences are met)
        return gone + items

    def _first_occurrence_keeps(
        self,
        calendar_id: str,
        root: str,
        marked: Sequence[int],
        items: list[RemoteEvent],
        originals: dict[str, Any],
        warnings: list[str],
        news: bool,
    ) -> bool:
        """Take the marker off (in the listing, never in Google) the ``marked`` instances of
        series ``root`` but its first occurrence's; False when the series cannot be read."""
        request = self.events.get(calendarId=calendar_id, eventId=root)
        try:
            data = self.caller.execute(request)
        except CalsyncError as exc:
            warnings.append(f"recurring event {root} could not be read: {exc}")
            return False
        first = occurrence_start(data.get("start")) if isinstance(data, dict) else None
        master = event_from_json(data)
        if (
            not is_series(data)
            or data.get("status") == "cancelled"
            or first is None
            or isinstance(master, Skipped)
        ):
            warnings.append(f"recurring event {root} changed while it was listed")
            return False
        named: set[str] = set()
        dropped = 0
        for index in marked:
            event = items[index]
            if event.marker != master.marker:
                # stamped on this occurrence itself (one calsync converted into a session),
                # not handed on by the series: the occurrence is the item's, wherever it is
                continue
            if event.marker is not None:
                named.add(event.marker.host_id)
            if occurrence_start(originals.get(event.id)) != first:
                items[index] = attrs.evolve(event, marker=None)
                dropped += 1
        if not dropped:
            return True
        message = (
            f"event {root} (carrying calsync's marker for item {', '.join(sorted(named))}) "
            "was made recurring in Google: the item keeps its first occurrence; "
            + (
                "the other occurrence listed is Google's own"
                if dropped == 1
                else f"the {dropped} other occurrences listed are Google's own"
            )
        )
        logger.info("%s", message)
        if news:
            warnings.append(message)
        return True

    def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent | None:
        """The event, a tombstone when it is deleted, or ``None``. An event that is now a
        recurring series (a single event made recurring in Google keeps its id and becomes the
        series' master) is a tombstone too: the single event calsync synced is gone, and the
        series is never calsync's to write (its tombstone has no etag to write with)."""
        request = self.events.get(calendarId=calendar_id, eventId=event_id)
        try:
            data = self.caller.execute(request)
        except NotFound:
            self._check_calendar(calendar_id)
            return None
        if is_series(data):
            logger.info("event %s is a recurring series now: read as deleted", event_id)
            event = RemoteEvent(event_id, "", None, deleted=True)
        else:
            event = self._read(calendar_id, data)
        if event.deleted:
            self._deleted.setdefault(calendar_id, {})[event_id] = event.series_id
        return event

    def _read(self, calendar_id: str, data: Any) -> RemoteEvent:
        event = event_from_json(data, calendar_zone=self._zones.get(calendar_id))
        if isinstance(event, Skipped):
            # a failed read is never evidence of a deletion: refuse rather than guess
            raise BackendError(event.warning("event"))
        return event

    def _calendar_call(self, calendar_id: str, request: Any) -> Any:
        """Send a request about the calendar itself: a "not found" is :class:`CalendarGone`
        once confirmed, else a :class:`TransientError` (the run fails, nothing is forgotten,
        and the next run asks again)."""
        try:
            return self.caller.execute(request)
        except CalendarGone:
            raise
        except NotFound as exc:
            self._check_calendar(calendar_id)
            raise TransientError(
                f"Google answered 'not found' for calendar {calendar_id}, which is still there",
                status=exc.status,
                reason=exc.reason,
            ) from exc

    def _check_calendar(self, calendar_id: str) -> None:
        """Raise :class:`CalendarGone` when the calendar itself is missing: it answers "not
        found" :data:`GONE_ANSWERS` times in a row, asked with the retry policy's waits
        between (Google's 404 may be propagation noise, and a calendar taken for gone costs
        the user their choice of calendar). One small list call each, which the events scope
        allows, unlike ``calendars.get``."""
        asking = self.caller.retrying.copy(
            retry=tenacity.retry_if_exception_type(NotFound),
            stop=tenacity.stop_after_attempt(GONE_ANSWERS),
        )
        request = self.events.list(calendarId=calendar_id, maxResults=1)
        try:
            asking(self.caller.execute, request)
        except NotFound as exc:
            raise CalendarGone(
                f"calendar {calendar_id} no longer exists", status=exc.status, reason=exc.reason
            ) from exc

    # -- single writes -------------------------------------------------------------------

    def create_event(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """Create the event under ``event_id``: calsync's own id for the item (an insert, or
        the adoption of the event that holds it), or the id of an event Google made that is
        restored (:meth:`_restore`)."""
        if event_id != _own_id(marker):
            return self._restore(calendar_id, event_id, fields, marker)
        return self._insert_or_adopt(calendar_id, event_id, fields, marker)

    def _insert_or_adopt(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """Insert the event under ``event_id``; when the id is taken, :meth:`_adopt`."""
        write = CreateEvent(event_id, fields, marker)
        try:
            data = self._zoned(
                fields, lambda: self.caller.execute(self._insert(calendar_id, write))
            )
        except AlreadyExists:
            return self._adopt(calendar_id, event_id, fields, marker)
        except NotFound:
            self._check_calendar(calendar_id)
            raise
        return self._read(calendar_id, data)

    def update_event(
        self,
        calendar_id: str,
        event_id: str,
        fields: EventFields,
        marker: Marker | None,
        etag: str | None,
    ) -> RemoteEvent:
        etag = etag or self._current_etag(calendar_id, event_id)
        write = UpdateEvent(event_id, fields, marker, etag)
        try:
            data = self._zoned(
                fields,
                lambda: self.caller.execute(self._patch(calendar_id, write), cost=PATCH_COST),
            )
        except NotFound:
            self._check_calendar(calendar_id)
            raise
        return self._read(calendar_id, data)

    def delete_event(self, calendar_id: str, event_id: str, etag: str | None) -> None:
        try:
            etag = etag or self._current_etag(calendar_id, event_id)
        except _Series:
            return  # the single event is gone, which is what was asked; the series stays
        try:
            self.caller.execute(self._delete(calendar_id, DeleteEvent(event_id, etag)))
        except NotFound as exc:  # gone already, which is what was asked
            self._gone_already(calendar_id, event_id, exc)

    def write_events(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        """Send ``writes`` in batches (:mod:`calsync.google.calendar_batches`), an update or a
        delete that comes without an etag made conditional on the event's current one first
        (:meth:`_current_etag`); a restore (a create under an id not calsync's for the item)
        is sent on its own (:meth:`_restore`)."""
        results: dict[int, WriteResult[RemoteEvent]] = {}
        sent: list[tuple[int, EventWrite]] = []
        for index, write in enumerate(writes):
            if isinstance(write, CreateEvent) and write.event_id != _own_id(write.marker):
                try:  # a restore (rare): on its own, as the read it may need says
                    restored = self._restore(
                        calendar_id, write.event_id, write.fields, write.marker
                    )
                except CalsyncError as exc:
                    results[index] = WriteResult(error=exc)
                else:
                    results[index] = WriteResult(restored)
                continue
            if isinstance(write, CreateEvent) or write.etag:
                sent.append((index, write))
                continue
            try:
                etag = self._current_etag(calendar_id, write.event_id)
            except _Series as exc:
                gone = isinstance(write, DeleteEvent)  # a delete of it has nothing left to do
                results[index] = WriteResult() if gone else WriteResult(error=exc)
            except CalsyncError as exc:
                results[index] = WriteResult(error=exc)
            else:
                sent.append((index, attrs.evolve(write, etag=etag)))
        answers = self._write_zoned(calendar_id, [write for _, write in sent])
        results.update(zip((index for index, _ in sent), answers, strict=True))
        return [results[index] for index in range(len(writes))]

    # -- zones Google refuses --------------------------------------------------------------

    def _write_zoned(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        """The batched ``writes`` (:class:`EventBatches`), each one Google refused for the
        name its zone was sent under sent again, in a new batch, under the zone's next name;
        a zone refused under each of its names is that write's :class:`ZoneRefused`. One
        batch request at a time: a name refused in one is not sent in the next."""
        size = self._writes_a_batch()
        results: list[WriteResult[RemoteEvent]] = []
        for start in range(0, len(writes), size):
            results += self._write_zoned_batch(calendar_id, writes[start : start + size])
        return results

    def _write_zoned_batch(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        """:meth:`_write_zoned` of the writes of one batch request."""
        results: dict[int, WriteResult[RemoteEvent]] = {}
        pending = list(range(len(writes)))
        while pending:
            names: dict[int, str | None] = {}
            for index in pending:
                try:
                    names[index] = self._zone_name(_fields_of(writes[index]))
                except ZoneRefused as exc:  # refused under every name earlier in the run
                    results[index] = WriteResult(error=exc)
            batch = [index for index in pending if index in names]
            answers = super().write_events(calendar_id, [writes[index] for index in batch])
            pending = []
            for index, answer in zip(batch, answers, strict=True):
                name = names[index]
                if name is not None and _refuses_zone(answer.error):
                    self._refuse_zone_name(name, answer.error)
                    pending.append(index)
                else:
                    results[index] = answer
        return [results[index] for index in range(len(writes))]

    def _zoned(self, fields: EventFields | str, send: Callable[[], _T]) -> _T:
        """``send()`` (which builds its request with :meth:`_zone_name` of ``fields``, or
        :meth:`_name_of_zone` of a calendar's zone), sent again under the zone's next name
        while Google refuses the name it was sent under.

        Raises:
            ZoneRefused: Google refuses the zone under each of its names.
        """
        while True:
            if isinstance(fields, str):
                name: str | None = self._name_of_zone(fields)
            else:
                name = self._zone_name(fields)
            try:
                return send()
            except InvalidRequest as exc:
                if name is None or not _refuses_zone(exc):
                    raise
                self._refuse_zone_name(name, exc)

    def _zone_name(self, fields: EventFields | None) -> str | None:
        """The name the zone of a timed event is sent under: the first of its names
        (:func:`~calsync.timezones.zone_names`, canonical first) Google has not refused in
        this run; ``None`` for an all-day event (or none).

        Raises:
            ZoneRefused: Google refused each of the zone's names in this run.
        """
        if fields is None or not isinstance(fields.when, Timed):
            return None
        return self._name_of_zone(fields.when.zone, "the event is not written")

    def _name_of_zone(self, zone: str, what: str = "the calendar is not made") -> str:
        """The first of ``zone``'s names Google has not refused in this run.

        Raises:
            ZoneRefused: Google refused each of them (``what`` says what is not done).
        """
        names = zone_names(zone)
        for name in names:
            if name not in self._refused_zone_names:
                return name
        raise ZoneRefused(
            f"Google refuses time zone {zone} under each of its names ({', '.join(names)}): "
            f"{what} (the next run asks again)",
            status=400,
            reason="invalid",
        )

    def _refuse_zone_name(self, name: str, error: BaseException | None) -> None:
        """Google refused zone name ``name`` (``error``): later writes in the run are sent
        under the zone's next name."""
        if name in self._refused_zone_names:
            return
        self._refused_zone_names.add(name)
        following = [n for n in zone_names(name) if n not in self._refused_zone_names]
        logger.warning(
            "Google refuses the time zone name %s (%s): %s",
            name,
            error,
            f"sending the zone as {following[0]} in this run"
            if following
            else "it knows none of the zone's names",
        )

    def _current_etag(self, calendar_id: str, event_id: str) -> str | None:
        """The etag to send with an update or a delete that came without one: the event's
        current one, so that the write can only reach the single event calsync meant (``None``
        when there is no such event: Google answers the write itself).

        Raises:
            _Series: the event is a recurring series now (made recurring in Google): the
                single event is gone, and calsync never writes to a series.
        """
        request = self.events.get(calendarId=calendar_id, eventId=event_id)
        try:
            data = self.caller.execute(request)
        except NotFound:
            return None
        if is_series(data):
            raise _Series(
                f"event {event_id} is a recurring series now (made recurring in Google): "
                "calsync never writes to a series",
                status=404,
                reason="notFound",
            )
        etag = data.get("etag") if isinstance(data, dict) else None
        return etag if isinstance(etag, str) and etag else None

    def _gone_already(self, calendar_id: str, event_id: str, error: NotFound) -> None:
        """A delete found nothing: fine for the event (410 deleted, 404 unknown), unless the
        whole calendar is missing."""
        if error.status == 404:
            self._check_calendar(calendar_id)
        logger.debug("event %s was already gone", event_id)

    def _adopt(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """The id is taken: take the event over if it is ours or deleted — ours: it carries
        the item's marker, or, under calsync's own id for the item, no marker at all (only an
        API client chooses ids; another app's full update of calsync's event drops its
        private properties, the marker with them: it is put back); create it under an id
        Google chooses (:meth:`_create_under_googles_id`) if a recurring series holds the
        id, if Google refuses (403) to bring the deleted event back, or if a live event
        carrying another marker (a colleague's calsync, on a shared calendar) holds calsync's
        own id for the item; else (an id calsync did not choose, being restored) refuse."""
        request = self.events.get(calendarId=calendar_id, eventId=event_id)
        data = self.caller.execute(request)
        try:
            existing = wire.structure(data, wire.Event)
        except cattrs.BaseValidationError as exc:  # unreadable: not provably ours
            raise AlreadyExists(f"event id {event_id} is taken by an unreadable event") from exc
        if existing.recurrence:  # made recurring in Google, deleted since or not
            logger.info(
                "event id %s is held by a recurring series (made recurring in Google): "
                "creating the event under an id Google chooses",
                event_id,
            )
            return self._create_under_googles_id(calendar_id, event_id, fields, marker)
        held_by = event_marker(existing)
        stripped = held_by is None and event_id == _own_id(marker)
        if existing.status != "cancelled" and held_by != marker and not stripped:
            if event_id == _own_id(marker):  # (never written to: it is not calsync's)
                logger.info(
                    "event id %s is held by an event another profile owns: creating the "
                    "event of item %s under an id Google chooses",
                    event_id,
                    marker.host_id,
                )
                return self._create_under_googles_id(calendar_id, event_id, fields, marker)
            raise AlreadyExists(
                f"event id {event_id} is taken by an event calsync does not own",
                status=409,
                reason="duplicate",
            )
        if existing.status != "cancelled":
            current = self._read(calendar_id, data)
            if current.fields == fields and held_by == marker:  # a create repeated after a crash
                return current
        logger.info("adopting existing event %s (%s)", event_id, existing.status)
        try:
            return self._confirm_again(calendar_id, event_id, existing.etag, fields, marker)
        except PermissionDenied as exc:
            if existing.status != "cancelled":
                raise
            # reported for events the user deleted in Google's own UI: the id stays theirs
            logger.info(
                "Google refuses to bring back deleted event %s (%s): "
                "creating the event under an id Google chooses",
                event_id,
                exc,
            )
            return self._create_under_googles_id(calendar_id, event_id, fields, marker)

    def _restore(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """Create the event of an item under ``event_id``, which is not calsync's id for it:
        the event Google made that the item's pair holds (an unlinked appointment converted
        into a session), deleted since. What the id is, Google said (:meth:`_series_of`):

        * an occurrence of a Google user's series: confirmed again in its series
          (:meth:`_revive_occurrence`);
        * an occurrence of calsync's own event made recurring in Google (the series holds
          calsync's id): made as the item's own, beside the series (the insert under calsync's
          id meets the series, and the event is made under an id Google chooses);
        * a single event: revived under its id when the id may be given on create, else made
          under calsync's id.
        """
        own = _own_id(marker)
        series_id, occurrence = self._series_of(calendar_id, event_id)
        if series_id is not None and series_id != own:
            return self._revive_occurrence(
                calendar_id, series_id, event_id, fields, marker, occurrence
            )
        if series_id is None and is_event_id(event_id):
            try:
                return self._insert_or_adopt(calendar_id, event_id, fields, marker)
            except CalendarGone:
                raise
            except NotFound:  # taken (409), yet Google shows nothing under it
                logger.info(
                    "event id %s is held by nothing readable: creating as %s", event_id, own
                )
        return self._insert_or_adopt(calendar_id, own, fields, marker)

    def _series_of(self, calendar_id: str, event_id: str) -> tuple[str | None, Any]:
        """The series whose occurrence ``event_id`` is (``None`` for a single event, or an id
        Google does not know), as Google said it: the listing's tombstone, or the read that
        met the event deleted; else one ``events.get``, whose answer comes along (``None``
        when the event was not read now)."""
        known = self._deleted.get(calendar_id, {})
        if event_id in known:
            return known[event_id], None
        data = self._found(calendar_id, event_id)
        series_id = data.get("recurringEventId") if isinstance(data, dict) else None
        if isinstance(series_id, str) and series_id:
            return series_id, data
        return None, None

    def _revive_occurrence(
        self,
        calendar_id: str,
        series_id: str,
        event_id: str,
        fields: EventFields,
        marker: Marker,
        occurrence: Any = None,
    ) -> RemoteEvent:
        """Create the event of an occurrence (``event_id``, of series ``series_id``; its JSON
        as just read, when it was): one calsync converted into a session, deleted in Google
        since, restored. Google never takes an occurrence's id on create: the occurrence is
        confirmed again, with the item's fields and marker (a patch, conditional on its etag),
        so that the session keeps its place in the series and a Google user's undo of the
        deletion finds it there (a second event would make the undo a duplicate). When the
        series is gone, or no longer has that occurrence, the event is created as any item's,
        under calsync's id for the item. An occurrence live with another item's marker is not
        taken over (``AlreadyExists``)."""
        series = self._found(calendar_id, series_id)
        if not is_series(series) or series.get("status") == "cancelled":
            occurrence = None
        elif occurrence is None:
            occurrence = self._found(calendar_id, event_id)
        if not isinstance(occurrence, dict):
            own = _own_id(marker)
            logger.info("occurrence %s is gone with its series: creating it as %s", event_id, own)
            return self._insert_or_adopt(calendar_id, own, fields, marker)
        try:
            existing = wire.structure(occurrence, wire.Event)
        except cattrs.BaseValidationError as exc:  # unreadable: not provably ours
            raise AlreadyExists(f"occurrence {event_id} cannot be read") from exc
        live = existing.status != "cancelled"
        theirs = event_marker(existing)
        if live and theirs is not None and theirs != marker:
            raise AlreadyExists(
                f"occurrence {event_id} is another item's event", status=409, reason="duplicate"
            )
        if live and theirs == marker:
            current = self._read(calendar_id, occurrence)
            if current.fields == fields:  # revived already (a run that crashed after it)
                return current
        logger.info("restoring occurrence %s (%s)", event_id, existing.status)
        return self._confirm_again(calendar_id, event_id, existing.etag, fields, marker)

    def _confirm_again(
        self,
        calendar_id: str,
        event_id: str,
        etag: str | None,
        fields: EventFields,
        marker: Marker,
    ) -> RemoteEvent:
        """Write ``fields`` and ``marker`` over the event and confirm it (a deleted one comes
        back under its id), conditional on the etag it was read at."""

        def send() -> Any:
            body = event_body(fields, marker, confirm=True, zone_name=self._zone_name(fields))
            patch = self.events.patch(
                calendarId=calendar_id, eventId=event_id, body=body, sendUpdates="none"
            )
            if etag:
                patch.headers["If-Match"] = etag
            return self.caller.execute(patch, cost=PATCH_COST)

        return self._read(calendar_id, self._zoned(fields, send))

    def _found(self, calendar_id: str, event_id: str) -> Any:
        """The event as Google sends it, or ``None`` when Google does not know it."""
        try:
            return self.caller.execute(self.events.get(calendarId=calendar_id, eventId=event_id))
        except NotFound:
            return None

    def _create_under_googles_id(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """Create the event whose id ``event_id`` cannot be the item's again under an id
        Google chooses, carrying the marker as any create does. Either a recurring series
        holds the id (a single event made recurring in Google, live or deleted since: calsync
        never writes to a series, and a series' id is never a single event's again), or
        Google refuses (403) to bring the deleted event back, or a live event calsync does not
        own holds calsync's id for the item (never written to). Without this, such an item
        could never reach Google, and its create would fail in every run.

        One insert of its own (quota cost 1, after the batch that met the 409), sent once:
        without an id, a resend after an answer lost on the way would make a second event, so
        a failure that may have reached Google is the item's error, not retried in the run.
        Whether the event was made or not, the engine's journaled intent settles it: the next
        run lists in full and adopts the event carrying the item's marker, or creates it.
        The event's id is not calsync's deterministic id, so calsync cannot prove it made it
        (an unpaired one is never deleted as an orphan, nor by ``cleanup_old_calendar``).
        """
        write = CreateEvent(event_id, fields, marker)

        def send() -> Any:
            request = self._insert(calendar_id, write, google_chooses=True)
            return self.caller.execute(request, cost=1, safe=False)

        try:
            data = self._zoned(fields, send)
        except NotFound:
            self._check_calendar(calendar_id)
            raise
        return self._read(calendar_id, data)


def _fields_of(write: EventWrite) -> EventFields | None:
    """The fields a write sends (``None`` for a delete)."""
    return None if isinstance(write, DeleteEvent) else write.fields


def _refuses_zone(error: BaseException | None) -> bool:
    """Whether ``error`` is Google refusing the ``timeZone`` a write was sent with (400
    ``invalid`` "Invalid time zone definition for start time."), not calsync's own
    :class:`ZoneRefused`."""
    return (
        isinstance(error, InvalidRequest)
        and not isinstance(error, ZoneRefused)
        and _REFUSED_ZONE_MESSAGE in str(error).lower()
    )


def _own_id(marker: Marker) -> str:
    """calsync's deterministic id for the item ``marker`` names."""
    return event_id_for(marker.namespace, marker.host_id)


class _Series(NotFound):
    """The event a write was meant for is a recurring series now: the single event calsync
    synced is gone (a "not found" for an update; a delete of it is done)."""


def _window(window: TimeRange) -> dict[str, Any]:
    return {"timeMin": rfc3339(window.start), "timeMax": rfc3339(window.end)}


def _info(entry: wire.CalendarEntry) -> CalendarInfo:
    return CalendarInfo(
        id=entry.id or "",
        summary=entry.summary_override or entry.summary or "",
        time_zone=entry.time_zone,
        primary=bool(entry.primary),
        access_role=entry.access_role or "owner",
    )

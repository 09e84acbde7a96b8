"""The remote-side contracts: what a calendar and a contacts service must offer calsync.

The Google backend (``calsync.google``) implements them on google-api-python-client; the
in-memory backends in :mod:`calsync.testing` implement them for tests and honour the same
preconditions Google does (stable ids, etags, 409 on a duplicate create).

One backend instance serves one remote account (one user's credentials).

A backend calls :func:`before_write` right before each request it sends for
:meth:`CalendarBackend.write_events` and :meth:`ContactsBackend.write_contacts`, after any wait
(for quota, before a retry): a run whose runner lost the profile's lease while it waited stops
there, before the request goes out. The built-in writes (one call per write) do it already.
The engine checks the same way the requests of calls that may write outside its plan:
:meth:`ContactsBackend.ensure_group`, :meth:`CalendarBackend.list_events` (Google's backend
repairs a split series there) and the processor's :meth:`CalendarBackend.watch_events` and
:meth:`CalendarBackend.stop_channel`; a backend that sends its requests itself calls
:func:`before_write` before each of them too.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Generic, TypeAlias, TypeVar

from attrs import field, frozen

from calsync.errors import CalsyncError, NotFound
from calsync.model import ContactFields, EventFields, Marker, TimeRange

__all__ = [
    "SPECIAL_EVENT_TYPES",
    "CalendarBackend",
    "ContactsBackend",
    "CreateContact",
    "CreateEvent",
    "DeleteContact",
    "DeleteEvent",
    "RemoteContact",
    "RemoteEvent",
    "RemoteListing",
    "UpdateContact",
    "UpdateEvent",
    "WatchChannel",
    "WriteResult",
    "before_write",
]

R = TypeVar("R")

#: What :func:`before_write` calls in this thread: the checkpoint of the run writing now.
_checkpoint: ContextVar[Callable[[], None] | None] = ContextVar("calsync_checkpoint", default=None)


@contextmanager
def writes_checked_by(checkpoint: Callable[[], None] | None) -> Iterator[None]:
    """Within the block (in this thread), :func:`before_write` calls ``checkpoint``. The engine
    wraps its remote writes in it with the run's checkpoint."""
    token = _checkpoint.set(checkpoint)
    try:
        yield
    finally:
        _checkpoint.reset(token)


def before_write() -> None:
    """Called by a backend right before it sends a request that writes, after any wait: the
    checkpoint of the run that asked for the write raises
    :class:`~calsync.errors.RunStopped` (:class:`~calsync.errors.LeaseLost`: another runner
    may be syncing the profile now) when the request must not go out. Outside the engine's
    writes it does nothing."""
    checkpoint = _checkpoint.get()
    if checkpoint is not None:
        checkpoint()


def _items(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


#: Remote event types that are not appointments (Google's out of office, focus time, working
#: location, birthdays, events from Gmail): calendar backends leave them out of listings by
#: default, so they never come back to the host.
SPECIAL_EVENT_TYPES = frozenset(
    {"outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail"}
)


@frozen(weakref_slot=False)
class RemoteEvent:
    """A calendar event as the remote side holds it.

    ``fields`` is ``None`` for a deleted event (a tombstone). ``series_id`` is set on an
    instance of a recurring series; ``event_type`` is the remote's kind of event
    (``"default"`` for ordinary events).
    """

    id: str
    etag: str
    fields: EventFields | None
    marker: Marker | None = None
    deleted: bool = False
    updated: datetime | None = None
    series_id: str | None = None
    event_type: str = "default"


@frozen(weakref_slot=False)
class RemoteContact:
    """A contact as the remote side holds it. ``in_group`` says whether it carries the sync
    group's label; ``fields`` is ``None`` for a deleted contact. ``previous_ids`` are the ids
    the contact had before (the remote side gave it a new one): the engine moves the pair of
    a previous id to this one."""

    id: str
    etag: str
    fields: ContactFields | None
    marker: Marker | None = None
    deleted: bool = False
    in_group: bool = True
    updated: datetime | None = None
    previous_ids: tuple[str, ...] = field(default=(), converter=_texts)


@frozen(weakref_slot=False)
class RemoteListing(Generic[R]):
    """One listing of the remote side.

    Attributes:
        items: the items listed.
        complete: ``True`` for a full listing (of the window, or of the group): an item missing
            from it *may* be deleted, and calsync confirms before acting. ``False`` for an
            incremental listing: only what changed, deletions as tombstones.
        cursor: the position to list from next time; stored only after the changes are applied.
        warnings: items skipped because they could not be read (each names the item).
        restarted: why an incremental listing became a full one (e.g. the token expired).
    """

    items: tuple[R, ...] = field(converter=_items)
    complete: bool
    cursor: str | None
    warnings: tuple[str, ...] = field(default=(), converter=_texts)
    restarted: str | None = None


@frozen(weakref_slot=False)
class CreateEvent:
    event_id: str
    fields: EventFields
    marker: Marker


@frozen(weakref_slot=False)
class UpdateEvent:
    event_id: str
    fields: EventFields
    marker: Marker | None
    etag: str | None


@frozen(weakref_slot=False)
class DeleteEvent:
    event_id: str
    etag: str | None


@frozen(weakref_slot=False)
class CreateContact:
    fields: ContactFields
    marker: Marker


@frozen(weakref_slot=False)
class UpdateContact:
    contact_id: str
    fields: ContactFields
    marker: Marker | None
    etag: str


@frozen(weakref_slot=False)
class DeleteContact:
    contact_id: str
    keep: bool = False  # keep the contact, only remove the group label


EventWrite: TypeAlias = CreateEvent | UpdateEvent | DeleteEvent
ContactWrite: TypeAlias = CreateContact | UpdateContact | DeleteContact


@frozen(weakref_slot=False)
class WriteResult(Generic[R]):
    """The outcome of one write: the item as it is now (``None`` after a delete), or the
    error that stopped it."""

    item: R | None = None
    error: CalsyncError | None = None


@frozen(weakref_slot=False)
class WatchChannel:
    """A push-notification channel the remote opened on a calendar's events."""

    channel_id: str
    #: The remote's id of the watched resource (needed to stop the channel).
    resource_id: str
    #: When the remote ends the channel (it may be sooner than asked for).
    expires_at: datetime


class CalendarBackend(abc.ABC):
    """One remote account's calendars."""

    #: How many writes the engine hands to one :meth:`write_events` call (and commits
    #: together); the backend may split them further.
    batch_size: int = 50
    #: Whether :meth:`watch_events` works: the remote pushes change notifications.
    supports_push: bool = False
    #: Calendar ids that name a different calendar in each account (Google's ``primary``),
    #: which :meth:`calendar_identity` returns as they are when it cannot resolve them now.
    calendar_aliases: frozenset[str] = frozenset()

    def calendar_identity(self, calendar_id: str) -> str:
        """The id of the calendar ``calendar_id`` names for the account connected now: an
        alias that names a different calendar in each account (Google's ``primary``) resolved
        to the calendar's own id; any other id as it is (the default). The engine pairs a
        profile's items with this identity, so that connecting another account is a calendar
        switch, never a mass deletion of the first account's events. An alias (one of
        :attr:`calendar_aliases`) returned as it is means "cannot tell now": the engine then
        looks for a few of the paired events in the calendar before calling it a switch.

        Raises:
            CalendarGone: the calendar no longer exists.
        """
        return calendar_id

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        """Ask the remote to POST a notification to ``address`` whenever the calendar's events
        change, on a new channel ``channel_id`` carrying ``token``, for about ``ttl``.

        Raises:
            NotImplementedError: the backend has no push notifications (``supports_push``
                is false; the default).
            CalendarGone: the calendar no longer exists.
            InvalidRequest: the remote refused the channel (e.g. the address).
        """
        raise NotImplementedError(f"{type(self).__name__} has no push notifications")

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Stop a channel: no notification is sent on it after this. Stopping a channel the
        remote no longer knows (expired, stopped, its calendar deleted) succeeds.

        Raises:
            NotImplementedError: the backend has no push notifications (the default).
        """
        raise NotImplementedError(f"{type(self).__name__} has no push notifications")

    @abc.abstractmethod
    def list_events(
        self, calendar_id: str, window: TimeRange, cursor: str | None, *, read_only: bool = False
    ) -> RemoteListing[RemoteEvent]:
        """Events of ``calendar_id``: everything in ``window`` when ``cursor`` is ``None``,
        else what changed since ``cursor`` (including deletions). Every page is read before
        returning; the cursor comes from the last page. When ``cursor`` has expired the backend
        lists in full and says so in ``restarted``. Recurring series are listed as instances.
        Events of the types the backend skips (by default :data:`SPECIAL_EVENT_TYPES`) are
        left out. A listing may repair what it finds (a series split in Google that copied
        calsync's marker); with ``read_only`` (a dry run) it writes nothing and lists the items
        as the repair would leave them.

        Raises:
            CalendarGone: the calendar no longer exists.
            AuthError, TransientError: the listing failed; nothing may be inferred from it.
        """

    @abc.abstractmethod
    def get_event(self, calendar_id: str, event_id: str) -> RemoteEvent | None:
        """The event (a tombstone if deleted), or ``None`` if there is no such event.

        Raises:
            CalendarGone: the calendar no longer exists.
        """

    @abc.abstractmethod
    def create_event(
        self, calendar_id: str, event_id: str, fields: EventFields, marker: Marker
    ) -> RemoteEvent:
        """Create an event with the caller-chosen ``event_id``. Idempotent: when ``event_id``
        exists already (a retry after a crash, or a deleted event of ours), that event is
        brought to ``fields`` (revived if deleted) and returned.

        An ``event_id`` that is not calsync's id for the item ``marker`` names is a restore of
        an event the remote side made: the backend restores it as what the remote says it is
        (never parsing the id): an occurrence revived in its series, a single event under its
        id when that id may be given on create; else the event is made, and returned, under
        another id (calsync's for the item).

        When calsync's own id for the item is held by a live event with no marker, that event
        is calsync's (another app dropped its marker): it is taken over. When it is held by a
        live event carrying another marker (a colleague's calsync on a shared calendar), that
        event is left as it is and the item's is made, and returned, under an id the remote
        chooses.

        Raises:
            AlreadyExists: the id of an event being restored is taken by an event calsync
                does not own.
            InvalidRequest: the remote refused the event as malformed.
            CalendarGone: the calendar no longer exists.
        """

    @abc.abstractmethod
    def update_event(
        self,
        calendar_id: str,
        event_id: str,
        fields: EventFields,
        marker: Marker | None,
        etag: str | None,
    ) -> RemoteEvent:
        """Replace the event's synced fields (and set ``marker`` when given). With ``etag``,
        only if the event is unchanged since.

        Raises:
            PreconditionFailed: the event changed since ``etag``.
            NotFound: the event does not exist or is deleted.
            CalendarGone: the calendar no longer exists.
        """

    @abc.abstractmethod
    def delete_event(self, calendar_id: str, event_id: str, etag: str | None) -> None:
        """Delete the event. Deleting a deleted or missing event succeeds.

        Raises:
            PreconditionFailed: the event changed since ``etag``.
        """

    def write_events(
        self, calendar_id: str, writes: Sequence[EventWrite]
    ) -> list[WriteResult[RemoteEvent]]:
        """Apply ``writes`` and return one result per write, in order. Per-write failures are
        returned, not raised. Built on the single calls, each checked with
        :func:`before_write`; Google overrides it to batch.

        Raises:
            RunStopped: from :func:`before_write`; the writes not sent yet are not made.
        """
        return [self._write_event(calendar_id, write) for write in writes]

    def _write_event(self, calendar_id: str, write: EventWrite) -> WriteResult[RemoteEvent]:
        before_write()
        try:
            if isinstance(write, CreateEvent):
                created = self.create_event(calendar_id, write.event_id, write.fields, write.marker)
                return WriteResult(created)
            if isinstance(write, UpdateEvent):
                updated = self.update_event(
                    calendar_id, write.event_id, write.fields, write.marker, write.etag
                )
                return WriteResult(updated)
            self.delete_event(calendar_id, write.event_id, write.etag)
            return WriteResult()
        except CalsyncError as exc:
            return WriteResult(error=exc)


class ContactsBackend(abc.ABC):
    """One remote account's address book."""

    #: How many writes the engine hands to one :meth:`write_contacts` call (and commits
    #: together); the backend may split them further.
    batch_size: int = 50

    @abc.abstractmethod
    def find_group(self, name: str) -> str | None:
        """The id of the contact group called ``name``, or ``None``; writes nothing."""

    @abc.abstractmethod
    def ensure_group(self, name: str) -> str:
        """The id of the contact group called ``name``, created when missing."""

    @abc.abstractmethod
    def list_contacts(self, group_id: str, cursor: str | None) -> RemoteListing[RemoteContact]:
        """With no cursor: every contact in the group (``complete=True``). With a cursor:
        contacts changed since, including those that left the group (``in_group=False``) and
        deleted ones. When the cursor expired the backend lists in full (``restarted``)."""

    @abc.abstractmethod
    def get_contact(self, contact_id: str) -> RemoteContact | None:
        """The contact, or ``None`` when it does not exist (or was deleted). Its ``in_group``
        says whether it is in the group this backend last ensured, listed or wrote to (the
        sync group: after a switch of the sync group, the new one)."""

    @abc.abstractmethod
    def create_contact(self, group_id: str, fields: ContactFields, marker: Marker) -> RemoteContact:
        """Create a contact in the group. Not idempotent: the engine records its intent first
        and looks for the marker after a crash."""

    @abc.abstractmethod
    def update_contact(
        self,
        group_id: str,
        contact_id: str,
        fields: ContactFields,
        marker: Marker | None,
        etag: str,
    ) -> RemoteContact:
        """Replace the contact's synced fields (and set ``marker`` when given), and make sure it
        is in the group again if it left it.

        Raises:
            PreconditionFailed: the contact changed since ``etag``.
            NotFound: the contact does not exist.
        """

    @abc.abstractmethod
    def delete_contact(self, contact_id: str) -> None:
        """Delete the contact; a missing contact is not an error."""

    @abc.abstractmethod
    def remove_from_group(self, contact_id: str, group_id: str) -> None:
        """Remove the group label, keeping the contact."""

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        """Apply ``writes`` in order, one result each. Built on the single calls, each checked
        with :func:`before_write`.

        Raises:
            RunStopped: from :func:`before_write`; the writes not sent yet are not made.
        """
        return [self._write_contact(group_id, write) for write in writes]

    def _write_contact(self, group_id: str, write: ContactWrite) -> WriteResult[RemoteContact]:
        before_write()
        try:
            if isinstance(write, CreateContact):
                return WriteResult(self.create_contact(group_id, write.fields, write.marker))
            if isinstance(write, UpdateContact):
                updated = self.update_contact(
                    group_id, write.contact_id, write.fields, write.marker, write.etag
                )
                return WriteResult(updated)
            if write.keep:
                self.remove_from_group(write.contact_id, group_id)
            else:
                self.delete_contact(write.contact_id)
            return WriteResult()
        except NotFound as exc:
            # deleting what is already gone succeeded; anything else did not
            return WriteResult() if isinstance(write, DeleteContact) else WriteResult(error=exc)
        except CalsyncError as exc:
            return WriteResult(error=exc)

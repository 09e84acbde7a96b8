"""What a state store keeps, row by row: the mapping rows (and their heads), the intents
journaled before creates, the lease, the notice sent, the push channels and the remote contact
group. The store contract that keeps them is :mod:`calsync.state.base`."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Protocol

from attrs import frozen

from calsync.model import Channel, RecordKind

__all__ = [
    "Lease",
    "MappingHead",
    "MappingRow",
    "PendingCreate",
    "PushChannel",
    "RemoteGroup",
    "SentNotice",
    "StoredHead",
    "SyncState",
]


@frozen(weakref_slot=False)
class MappingRow:
    """One synced pair.

    Attributes:
        profile_id, channel: whose pair.
        host_id: the host item's id (unique per profile and channel).
        remote_id: the remote item's id (unique per profile and channel).
        kind: what the pair is about (session, appointment, unlinked appointment, client).
        base: the field values both sides agreed on at the last sync, serialised by the engine
            (opaque text to the store; a side whose fields encode to it has not changed since
            the last sync, whatever its revision or etag says).
        host_revision: the host's revision seen then (``None`` when the host gives none).
        remote_etag: the remote etag seen then.
        synced_at: when the pair was last synced.
    """

    profile_id: str
    channel: Channel
    host_id: str
    remote_id: str
    kind: RecordKind
    base: str
    host_revision: str | None
    remote_etag: str | None
    synced_at: datetime


class MappingHead(Protocol):
    """What a run reads of every mapping row of a channel: enough to tell, for each listed
    item, whether it changed since its pair was last synced. A :class:`MappingRow` is one;
    :meth:`StateStore.mapping_heads` may give lighter ones (without the base), and a run reads
    the whole rows of the few pairs it acts on."""

    @property
    def host_id(self) -> str: ...

    @property
    def remote_id(self) -> str: ...

    @property
    def kind(self) -> RecordKind: ...

    @property
    def host_revision(self) -> str | None: ...

    @property
    def remote_etag(self) -> str | None: ...


class StoredHead(NamedTuple):
    """A :class:`MappingHead` as a store reads it from its table: a tuple, cheap to make for
    every row of a channel."""

    host_id: str
    remote_id: str
    kind: RecordKind
    host_revision: str | None
    remote_etag: str | None


@frozen(weakref_slot=False)
class RemoteGroup:
    """The remote contact group a profile's client sync group is written to."""

    name: str
    id: str


@frozen(weakref_slot=False)
class PendingCreate:
    """The intent to create a remote item for ``host_id``, recorded before the create.

    ``base`` is the field values being written (serialised by the engine, like a mapping
    row's base): when a crash leaves the create unrecorded, the next run adopts the remote
    item with this as the base of its three-way merge, so an edit made remotely since is seen
    as an edit, not overwritten.
    """

    profile_id: str
    channel: Channel
    host_id: str
    created_at: datetime
    base: str | None = None


@frozen(weakref_slot=False)
class Lease:
    """``holder`` syncs ``profile_id`` until ``expires_at``."""

    profile_id: str
    holder: str
    expires_at: datetime


@frozen(weakref_slot=False)
class SentNotice:
    """The problem a profile's user was last told about by email.

    Attributes:
        problem: a digest naming the problem (equal digests: the same problem).
        sent_at: when the last email about it went out (the first one or a reminder).
        lasting: the problem lasts until someone acts (a revoked authorisation, a failing
            item), so a "resolved" note follows when it clears; one-off news (a conflict
            settled, an event restored) is not followed by one.
    """

    problem: str
    sent_at: datetime
    lasting: bool = True


@frozen(weakref_slot=False)
class PushChannel:
    """One push-notification (watch) channel open on a profile's calendar.

    Not to be confused with :class:`~calsync.model.Channel` (calendar or contacts): this is
    Google's notification channel, named after Google's API.

    Attributes:
        channel_id: the id calsync chose when opening it; unique across every profile, since
            notifications are routed to their profile by it (``X-Goog-Channel-ID``).
        profile_id: whose calendar is watched.
        calendar_id: the watched calendar.
        resource_id: Google's id of the watched resource, needed to stop the channel; ``""``
            while the watch request is in flight (the row is written before it, so that a
            notification that overtakes Google's answer still finds its channel).
        token_hash: the hex SHA-256 of the channel's secret token; the token itself is never
            stored.
        expires_at: when Google ends the channel (aware).
        created_at: when calsync opened it (aware).
        confirmed_at: when its first message (``sync``) arrived, proving that notifications
            reach the host; ``None`` until then.
        stopping: calsync has given the channel up and stops it at Google: its notifications
            are refused, and the row stays until a stop succeeds or the channel expires.
        stop_tried_at: when a stop of a stopping channel was last tried, or put off (the
            credentials could not be read); the next one is due a retry interval later, for
            every process sharing the store. ``None``: never tried, due now.
    """

    channel_id: str
    profile_id: str
    calendar_id: str
    resource_id: str
    token_hash: str
    expires_at: datetime
    created_at: datetime
    confirmed_at: datetime | None = None
    stopping: bool = False
    stop_tried_at: datetime | None = None


@frozen(weakref_slot=False)
class SyncState:
    """What a run of a channel reads before it lists: where each side's change feed was last
    read up to (``None``: list in full) and the digest of the options they were taken under;
    and where the channel's pairs live: the calendar channel's ``paired_calendar``, the
    contacts channel's ``remote_group``; the calendar channel's ``listed_window``; the
    deletions the last run ``held``; and where the host's feed was after the last run's own
    writes to the host (``host_reached``)."""

    host_cursor: str | None
    remote_cursor: str | None
    config_digest: str | None
    paired_calendar: str | None = None
    remote_group: RemoteGroup | None = None
    #: the calendar channel's window as resolved when both sides were last listed in full
    listed_window: str | None = None
    #: the deletions the channel's last run held, as the engine encoded them (opaque here)
    held: str | None = None
    #: the host's change-feed position after the last run's own writes to it: a host found
    #: behind it went back in time (see :class:`~calsync.sources.HostRewound`)
    host_reached: str | None = None

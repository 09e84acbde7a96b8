"""The state store contract: what calsync remembers between runs.

Per profile, the store keeps

* **mapping rows** — one per synced pair (host item ↔ remote item) with the last synced field
  values (the *base* of the three-way merge, and the planner's "unchanged" test), and the
  host revision and remote etag seen at that sync;
* **cursors** — named opaque positions: the host change feed and the calendar and contacts
  sync tokens, plus a few named values kept the same way (a digest of the options the
  cursors were taken under, the remote contact group, the last run, the remote items host
  items were made from, the host items unlinked). Each has its own
  accessor below, built on :meth:`StateStore.get_cursor` / :meth:`StateStore.set_cursor`, so
  the names live here and nowhere else;
* **pending creates** — the intent recorded before a remote create that has no client-chosen
  id (contacts), so a crash between the create and its mapping row cannot duplicate;
* a **lease** — which runner syncs the profile now, until when;
* the **notice sent** — what problem the user was last told about by email, and when (kept as
  JSON under one cursor by default, so every store has it for free).
* **push channels** — the Google watch channels open on the profile's calendar (id, Google's
  resource id, expiry, a hash of the channel's secret token), found again by channel id when
  a notification arrives.

Implementations: :class:`~calsync.state.sqlite.SqliteStateStore` (the default, stdlib
``sqlite3``) and :class:`~calsync.state.memory.MemoryStateStore`. The contract asks nothing a
server database (PostgreSQL) could not give: row upserts, a transaction, and an atomic
compare-and-set for the lease.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Self

from calsync.model import Channel
from calsync.policies import Side
from calsync.state.rows import (
    Lease,
    MappingHead,
    MappingRow,
    PendingCreate,
    PushChannel,
    RemoteGroup,
    SentNotice,
    StoredHead,
    SyncState,
)

__all__ = [
    "Lease",
    "MappingHead",
    "MappingRow",
    "PendingCreate",
    "PushChannel",
    "RemoteGroup",
    "SentNotice",
    "StateStore",
    "StoredHead",
    "SyncState",
    "origin_cursors",
]

logger = logging.getLogger(__name__)

#: (profile id, value) of the unreadable last runs logged already
_unreadable_last_runs: set[tuple[str, str]] = set()


class StateStore(abc.ABC):
    """Persistent sync state. Every method is atomic on its own; :meth:`transaction` groups
    several into one. Implementations must be safe to share between threads.

    Every method raises :class:`~calsync.errors.StateError` when the store fails.
    """

    #: The schema version this implementation reads and writes.
    SCHEMA_VERSION: ClassVar[int] = 1
    #: True when :meth:`mapping_revisions` reads much less than :meth:`mapping_heads` (a
    #: database store): a run with a full host listing then reads the revisions first, the
    #: heads only to match a full Google listing, and whole only the rows it acts on.
    reads_revisions: ClassVar[bool] = False

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them happen, or none. Nested transactions join the outer one."""

    # -- mapping -------------------------------------------------------------------------

    @abc.abstractmethod
    def mappings(self, profile_id: str, channel: Channel) -> dict[str, MappingRow]:
        """All mapping rows of a profile's channel, by host id."""

    def mapping_heads(self, profile_id: str, channel: Channel) -> dict[str, MappingHead]:
        """The head of every mapping row of a profile's channel, by host id: what a run with a
        full listing reads of each pair. The default gives the whole rows; stores that keep
        rows outside Python override it to leave the bases (most of a row) where they are."""
        return dict(self.mappings(profile_id, channel))

    def mapping_revisions(self, profile_id: str, channel: Channel) -> dict[str, str | None]:
        """The host revision of every mapping row of a profile's channel, by host id: all a
        quiet run with a full host listing reads of each pair, when the store
        :attr:`reads_revisions`. The default takes them from :meth:`mapping_heads`."""
        heads = self.mapping_heads(profile_id, channel)
        return {host_id: head.host_revision for host_id, head in heads.items()}

    def mappings_of(
        self,
        profile_id: str,
        channel: Channel,
        host_ids: Collection[str] = (),
        remote_ids: Collection[str] = (),
    ) -> dict[str, MappingRow]:
        """The rows whose host id is among ``host_ids`` or whose remote id is among
        ``remote_ids``, by host id: what a run driven by change feeds needs, without reading
        every row. The default filters :meth:`mappings`; stores override it with an indexed
        read."""
        hosts, remotes = set(host_ids), set(remote_ids)
        return {
            host_id: row
            for host_id, row in self.mappings(profile_id, channel).items()
            if host_id in hosts or row.remote_id in remotes
        }

    def count_mappings(self, profile_id: str, channel: Channel) -> int:
        """How many rows a profile's channel has (the mass-deletion rule's denominator)."""
        return len(self.mappings(profile_id, channel))

    @abc.abstractmethod
    def put_mapping(self, row: MappingRow) -> None:
        """Insert or replace the row for ``(profile_id, channel, host_id)``.

        Raises:
            StateError: another host id of the same profile and channel maps ``remote_id``.
        """

    def put_mappings(self, rows: Sequence[MappingRow]) -> None:
        """Insert or replace several rows, as :meth:`put_mapping` does each: all of them, or
        none. A run records each batch of creates this way.

        The default puts them one by one in a transaction; stores override it with one
        statement (one round trip to a database server).

        Raises:
            StateError: one of the rows cannot be put (then none is).
        """
        with self.transaction():
            for row in rows:
                self.put_mapping(row)

    @abc.abstractmethod
    def delete_mapping(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Remove a row; removing a missing row is not an error."""

    # -- cursors -------------------------------------------------------------------------

    @abc.abstractmethod
    def get_cursor(self, profile_id: str, name: str) -> str | None:
        """The cursor called ``name``, or ``None``."""

    @abc.abstractmethod
    def set_cursor(self, profile_id: str, name: str, value: str | None) -> None:
        """Store a cursor; ``None`` removes it."""

    def set_cursors(self, profile_id: str, values: Mapping[str, str | None]) -> None:
        """Store several cursors (``None`` removes one), as :meth:`set_cursor` does each: all
        of them, or none. The default sets them one by one in a transaction; stores override
        it with one statement (one round trip to a database server)."""
        with self.transaction():
            for name, value in values.items():
                self.set_cursor(profile_id, name, value)

    # -- named values kept as cursors --------------------------------------------------------

    def get_cursors(self, profile_id: str, names: Collection[str]) -> dict[str, str]:
        """The cursors called ``names`` that exist, by name: several in one read. The default
        reads them one by one; stores override it with one query."""
        found = {}
        for name in names:
            value = self.get_cursor(profile_id, name)
            if value is not None:
                found[name] = value
        return found

    def get_sync_state(self, profile_id: str, channel: Channel) -> SyncState:
        """Both change cursors of ``channel``, its options digest and where its pairs live
        (the paired calendar, or the remote contact group), in one read: what a run reads
        before it lists."""
        host, remote = _sync_cursor(channel, Side.HOST), _sync_cursor(channel, Side.REMOTE)
        digest = _config_digest(channel)
        place = _PAIRED_CALENDAR if channel is Channel.CALENDAR else _REMOTE_GROUP
        calendar = channel is Channel.CALENDAR
        held, reached = _held(channel), _host_reached(channel)
        names = [host, remote, digest, place, held, reached]
        if calendar:
            names.append(_LISTED_WINDOW)
        found = self.get_cursors(profile_id, names)
        return SyncState(
            found.get(host),
            found.get(remote),
            found.get(digest),
            paired_calendar=found.get(place) if calendar else None,
            remote_group=None if calendar else _decode_group(found.get(place)),
            listed_window=found.get(_LISTED_WINDOW) if calendar else None,
            held=found.get(held),
            host_reached=found.get(reached),
        )

    def set_held(self, profile_id: str, channel: Channel, held: str | None) -> None:
        """Record (``None``: forget) the deletions the channel's last run held, as the engine
        encodes them (read back in :meth:`get_sync_state`): a confirmation lets through
        those, and only those."""
        self.set_cursor(profile_id, _held(channel), held)

    def set_host_reached(self, profile_id: str, channel: Channel, cursor: str | None) -> None:
        """Record (``None``: forget) the host's change-feed position after a run's own writes
        to the host (read back in :meth:`get_sync_state`)."""
        self.set_cursor(profile_id, _host_reached(channel), cursor)

    def set_listed_window(self, profile_id: str, window: str | None) -> None:
        """Record (``None``: forget) the calendar channel's window as resolved when both
        sides were last listed in full (read back in :meth:`get_sync_state`)."""
        self.set_cursor(profile_id, _LISTED_WINDOW, window)

    def get_sync_cursor(self, profile_id: str, channel: Channel, side: Side) -> str | None:
        """Where ``side``'s change feed of ``channel`` was last read up to (a host change
        cursor or a Google sync token), or ``None`` for a full listing."""
        return self.get_cursor(profile_id, _sync_cursor(channel, side))

    def set_sync_cursor(
        self, profile_id: str, channel: Channel, side: Side, value: str | None
    ) -> None:
        """Store (``None``: drop) ``side``'s change cursor of ``channel``."""
        self.set_cursor(profile_id, _sync_cursor(channel, side), value)

    def get_config_digest(self, profile_id: str, channel: Channel) -> str | None:
        """The digest of the options ``channel``'s cursors were taken under."""
        return self.get_cursor(profile_id, _config_digest(channel))

    def set_config_digest(self, profile_id: str, channel: Channel, digest: str | None) -> None:
        """Store (``None``: drop) the options digest of ``channel``."""
        self.set_cursor(profile_id, _config_digest(channel), digest)

    def get_remote_group(self, profile_id: str) -> RemoteGroup | None:
        """The remote contact group the profile's sync group was last written to."""
        return _decode_group(self.get_cursor(profile_id, _REMOTE_GROUP))

    def set_remote_group(self, profile_id: str, group: RemoteGroup | None) -> None:
        """Remember (``None``: forget) the profile's remote contact group."""
        value = None if group is None else json.dumps({"name": group.name, "id": group.id})
        self.set_cursor(profile_id, _REMOTE_GROUP, value)

    def get_last_run(self, profile_id: str) -> datetime | None:
        """When the profile's last successful run finished, if any (``None`` too when the
        stored value is not an instant with its offset, as calsync writes it: hand-edited or
        written by another tool; the profile is then due, and its next successful run
        records a readable one)."""
        value = self.get_cursor(profile_id, "processor:last_run")
        return None if value is None else _decode_last_run(profile_id, value)

    def set_last_run(self, profile_id: str, when: datetime | None) -> None:
        """Record (``None``: clear) when the profile's last successful run finished."""
        self.set_cursor(
            profile_id, "processor:last_run", None if when is None else when.isoformat()
        )

    def get_sent_notice(self, profile_id: str) -> SentNotice | None:
        """The problem the user was last told about, or ``None`` when nothing is outstanding.

        Kept as JSON in the cursor ``notify:sent``; a store may override the pair with a
        table of its own.
        """
        return _decode_sent(self.get_cursor(profile_id, _SENT))

    def get_notices(self, profile_id: str) -> tuple[SentNotice | None, str | None]:
        """What a run's notice is weighed against, in one read: the problem the user was last
        told about (:meth:`get_sent_notice`), and a problem settling (the notices module's,
        opaque here: :meth:`set_settling`)."""
        found = self.get_cursors(profile_id, (_SENT, _SETTLING))
        return _decode_sent(found.get(_SENT)), found.get(_SETTLING)

    def set_settling(self, profile_id: str, settling: str | None) -> None:
        """Record (``None``: forget) a problem that cleared by itself and is not yet told
        cleared, as the notices module encodes it (read back by :meth:`get_notices`)."""
        self.set_cursor(profile_id, _SETTLING, settling)

    def set_sent_notice(self, profile_id: str, notice: SentNotice | None) -> None:
        """Record what the user was told (``None``: nothing outstanding any more).

        Raises:
            ValueError: ``notice.sent_at`` is naive.
        """
        if notice is None:
            self.set_cursor(profile_id, _SENT, None)
            return
        if notice.sent_at.utcoffset() is None:
            raise ValueError("sent_at must be an aware datetime")
        data = {
            "problem": notice.problem,
            "sent_at": notice.sent_at.astimezone(UTC).isoformat(),
            "lasting": notice.lasting,
        }
        self.set_cursor(profile_id, _SENT, json.dumps(data, sort_keys=True))

    def get_origins(
        self, profile_id: str, channel: Channel, host_ids: Collection[str]
    ) -> dict[str, str]:
        """The remote items that host items among ``host_ids`` were made from (a client
        made from a contact the Google user made), by host id: what tells, once the host
        item is gone, that its remote item is the remote user's, not calsync's. One read.
        (Kept when the channel is forgotten: an origin only ever speaks of a pair with that
        very remote item.)"""
        names = {_origin(channel, host_id): host_id for host_id in host_ids}
        found = self.get_cursors(profile_id, names)
        return {names[name]: remote_id for name, remote_id in found.items()}

    def set_origin(
        self, profile_id: str, channel: Channel, host_id: str, remote_id: str | None
    ) -> None:
        """Record (``None``: forget) that host item ``host_id`` was made from the remote
        item ``remote_id``."""
        self.set_cursor(profile_id, _origin(channel, host_id), remote_id)

    def set_origins(
        self, profile_id: str, channel: Channel, origins: Mapping[str, str | None]
    ) -> None:
        """Record (``None``: forget) the remote items several host items were made from, by
        host id, as :meth:`set_origin` does each: all of them, or none. A run records the
        origins of a chunk of host items this way, with their pairs.

        The default records them one by one in a transaction (so a store that keeps origins
        its own way, overriding :meth:`set_origin`, keeps them so); the stores of calsync
        override it with one write (:meth:`set_cursors` of :func:`origin_cursors`)."""
        with self.transaction():
            for host_id, remote_id in origins.items():
                self.set_origin(profile_id, channel, host_id, remote_id)

    def get_unlinked(self, profile_id: str, channel: Channel) -> dict[str, str]:
        """The host items of ``channel`` whose pair was unlinked (``RemoteDeletion.UNLINK``)
        and that are not to be sent again, by host id, each with the fingerprint of its
        fields at the unlink (the engine's; opaque to the store)."""
        value = self.get_cursor(profile_id, _unlinked(channel))
        return {} if value is None else {str(k): str(v) for k, v in json.loads(value).items()}

    def set_unlinked(self, profile_id: str, channel: Channel, unlinked: dict[str, str]) -> None:
        """Replace the unlinked host items of ``channel`` (empty: none)."""
        value = json.dumps(unlinked, sort_keys=True) if unlinked else None
        self.set_cursor(profile_id, _unlinked(channel), value)

    def get_paired_calendar(self, profile_id: str) -> str | None:
        """The remote calendar the profile's calendar mapping belongs to."""
        return self.get_cursor(profile_id, _PAIRED_CALENDAR)

    def set_paired_calendar(self, profile_id: str, calendar_id: str | None) -> None:
        """Record (``None``: forget) which remote calendar the calendar mapping belongs to."""
        self.set_cursor(profile_id, _PAIRED_CALENDAR, calendar_id)

    def forget_channel(self, profile_id: str, channel: Channel) -> None:
        """Drop a channel's mapping rows, intents, cursors and named values (start over)."""
        with self.transaction():
            for host_id in self.mappings(profile_id, channel):
                self.delete_mapping(profile_id, channel, host_id)
            for host_id in self.pending(profile_id, channel):
                self.remove_pending(profile_id, channel, host_id)
            for side in Side:
                self.set_sync_cursor(profile_id, channel, side, None)
            self.set_config_digest(profile_id, channel, None)
            self.set_held(profile_id, channel, None)
            self.set_host_reached(profile_id, channel, None)
            self.set_unlinked(profile_id, channel, {})
            if channel is Channel.CONTACTS:
                self.set_remote_group(profile_id, None)
            else:
                self.set_paired_calendar(profile_id, None)
                self.set_listed_window(profile_id, None)

    # -- pending creates -----------------------------------------------------------------

    @abc.abstractmethod
    def add_pending(self, pending: PendingCreate) -> None:
        """Record the intent to create (replacing an older intent for the same host id)."""

    @abc.abstractmethod
    def pending(self, profile_id: str, channel: Channel) -> dict[str, PendingCreate]:
        """The recorded intents of a profile's channel, by host id."""

    @abc.abstractmethod
    def remove_pending(self, profile_id: str, channel: Channel, host_id: str) -> None:
        """Drop an intent; dropping a missing one is not an error."""

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        """Record several intents, as :meth:`add_pending` does each: all of them, or none. A
        run journals each batch of creates this way. The default adds them one by one in a
        transaction; stores override it with one statement."""
        with self.transaction():
            for intent in intents:
                self.add_pending(intent)

    def remove_pendings(self, profile_id: str, channel: Channel, host_ids: Collection[str]) -> None:
        """Drop the intents of ``host_ids`` (missing ones are not an error): all of them, or
        none. The default removes them one by one in a transaction; stores override it."""
        with self.transaction():
            for host_id in host_ids:
                self.remove_pending(profile_id, channel, host_id)

    # -- leases --------------------------------------------------------------------------

    @abc.abstractmethod
    def acquire_lease(
        self, profile_id: str, holder: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        """Take or renew the profile's lease for ``ttl`` from ``now``, atomically.

        Succeeds when there is no lease, when it expired (``now >= expires_at``), or when
        ``holder`` already holds it. ``holder`` must be unique per runner (host, process and
        a random part); runners on different machines compare their own clocks against
        ``expires_at``, so their clocks must agree to well within ``ttl``.

        Returns:
            The lease now held, or ``None`` when another holder's lease is still valid.
        """

    @abc.abstractmethod
    def release_lease(self, profile_id: str, holder: str) -> None:
        """Give the lease up, if ``holder`` holds it."""

    @abc.abstractmethod
    def get_lease(self, profile_id: str) -> Lease | None:
        """The profile's lease (possibly expired), or ``None``."""

    # -- push channels -------------------------------------------------------------------

    @abc.abstractmethod
    def put_push_channel(self, channel: PushChannel) -> None:
        """Insert or replace the channel with ``channel.channel_id``."""

    @abc.abstractmethod
    def get_push_channel(self, channel_id: str) -> PushChannel | None:
        """The channel with that id (whatever its profile), or ``None``."""

    @abc.abstractmethod
    def push_channels(self, profile_id: str | None = None) -> list[PushChannel]:
        """The profile's channels, or every profile's with ``None``, soonest expiry first
        (ties by channel id)."""

    @abc.abstractmethod
    def delete_push_channel(self, channel_id: str) -> None:
        """Forget a channel; forgetting a missing one is not an error."""

    # -- whole profile -------------------------------------------------------------------

    @abc.abstractmethod
    def forget_profile(self, profile_id: str) -> None:
        """Drop a profile's mappings, cursors and intents (start over). The lease and the push
        channels stay: channels are open at Google and must be stopped there before they are
        forgotten (:mod:`calsync.push` does both)."""

    @abc.abstractmethod
    def profile_ids(self) -> list[str]:
        """Every profile with any mapping row, cursor or pending create."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to close by default
        """Release resources. The default does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _sync_cursor(channel: Channel, side: Side) -> str:
    return f"{side.value}:{channel.value}"


def _config_digest(channel: Channel) -> str:
    return f"config:{channel.value}"


def _origin(channel: Channel, host_id: str) -> str:
    return f"origin:{channel.value}:{host_id}"


def origin_cursors(channel: Channel, origins: Mapping[str, str | None]) -> dict[str, str | None]:
    """The cursors :meth:`StateStore.set_origin` keeps ``origins`` (host id -> remote id, or
    ``None``) of ``channel`` under, by name: what a store's :meth:`StateStore.set_origins`
    writes in one :meth:`StateStore.set_cursors`."""
    return {_origin(channel, host_id): remote_id for host_id, remote_id in origins.items()}


def _decode_sent(text: str | None) -> SentNotice | None:
    if text is None:
        return None
    data = json.loads(text)
    return SentNotice(
        data["problem"], datetime.fromisoformat(data["sent_at"]), bool(data["lasting"])
    )


_SENT = "notify:sent"  # the problem the user was last told about
_SETTLING = "notify:settling"  # a problem that cleared by itself, not yet told cleared


def _decode_last_run(profile_id: str, value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is not None and when.utcoffset() is not None:
        return when
    if (profile_id, value) not in _unreadable_last_runs:  # once, not on every read
        _unreadable_last_runs.add((profile_id, value))
        logger.warning(
            "profile %s: last run %r is unreadable; the profile is due", profile_id, value
        )
    return None


def _held(channel: Channel) -> str:
    return f"held:{channel.value}"


def _host_reached(channel: Channel) -> str:
    return f"host-reached:{channel.value}"


def _unlinked(channel: Channel) -> str:
    return f"unlinked:{channel.value}"


_PAIRED_CALENDAR = "calendar:paired"  # the cursor naming the calendar the pairs belong to
_REMOTE_GROUP = "group:contacts"  # the remote contact group the sync group is written to
_LISTED_WINDOW = "window:calendar"  # the calendar's window when last listed in full


def _decode_group(value: str | None) -> RemoteGroup | None:
    if value is None:
        return None
    data = json.loads(value)
    return RemoteGroup(str(data["name"]), str(data["id"]))

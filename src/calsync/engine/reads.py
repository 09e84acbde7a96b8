"""What a channel reads beyond its listings, shared by the calendar and contacts channels (see
:mod:`calsync.engine.channel`): the records of listed items (a host item at its recorded
revision is skipped unbuilt; a remote item's marker is checked and its ownership proven), one
item read again, and every absence confirmed before it may count as a deletion.

Read failures are per item: an item whose read fails is reported by id and left out of this
run (neither side is touched for it), and the rest of the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from calsync.engine.channel_spec import ChannelSpec
from calsync.engine.context import FATAL, H, HostRead, MappingLoader, R, RunContext, whole
from calsync.engine.records import F, HostRecord, RemoteRecord, Snapshot
from calsync.engine.report import ItemError
from calsync.errors import BackendError, SourceError, TransientError
from calsync.model import MAX_MARKER_ID, Channel, Contact, ScheduleItem, whole_characters
from calsync.sources import Unreadable
from calsync.state.base import MappingHead

__all__ = [
    "ChannelReads",
    "answer_of",
    "id_problem",
    "item_problem",
    "keepable_id",
    "listing_of",
    "shown_id",
    "storable_id",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: how much of an id calsync cannot keep a report shows
SHOWN_ID = 60
#: the longest remote id a host item may name (Google's event ids are at most 1024 long)
MAX_REMOTE_ID = 1024


def storable_id(host_id: str) -> bool:
    """True when ``host_id`` is text a state store can hold (no half of a UTF-16 pair)."""
    return whole_characters(host_id)


def id_problem(record: HostRecord[F]) -> str | None:
    """Why calsync cannot keep the ids of ``record``, or ``None``. A host id is stored and
    named in the ownership marker of its remote item: it must be 1 to :data:`MAX_MARKER_ID`
    printable characters (no control characters, no half of a UTF-16 pair), as a marker
    calsync reads back must be. The remote id an item names (its origin) is read from the
    remote side: 1 to :data:`MAX_REMOTE_ID` printable characters."""
    ids = (
        ("its id", record.id, MAX_MARKER_ID),
        ("the id of the item it replaces", record.replaces, MAX_MARKER_ID),
        ("the remote id it names", record.origin, MAX_REMOTE_ID),
    )
    for what, an_id, longest in ids:
        if an_id is None:
            continue
        if not isinstance(an_id, str):
            return f"{what} is {type(an_id).__name__}, not text"
        if not keepable_id(an_id, longest):
            return f"{what} is not 1 to {longest} printable characters"
    return None


def item_problem(item: ScheduleItem | Contact) -> str | None:
    """Why calsync cannot keep what ``item`` says of itself beyond its ids, or ``None``.

    Its ``revision`` is stored with its pair: it must be text a state store can hold (no NUL,
    which PostgreSQL refuses, and no half of a UTF-16 pair, which no UTF-8 store can hold),
    or ``None``; any length is fine. Its ``updated`` is compared with Google's modification
    time (``newest_wins``): it must be a timezone-aware datetime, or ``None``. The answer
    names what is wrong, never the value (a revision may be made of the item's content)."""
    revision: object = item.revision
    if revision is not None:
        if not isinstance(revision, str):
            return f"its revision is {type(revision).__name__}, not text"
        if "\x00" in revision:
            return "its revision holds a NUL character, which cannot be stored"
        if not whole_characters(revision):
            return "its revision holds half of a UTF-16 pair, which cannot be stored"
    updated: object = item.updated
    if updated is not None:
        if not isinstance(updated, datetime):
            return f"its updated time is {type(updated).__name__}, not a datetime"
        if updated.tzinfo is None or updated.utcoffset() is None:
            return "its updated time has no time zone"
    return None


def keepable_id(an_id: str, longest: int = MAX_MARKER_ID) -> bool:
    """True when ``an_id`` can be kept: 1 to ``longest`` printable characters."""
    return isinstance(an_id, str) and 0 < len(an_id) <= longest and an_id.isprintable()


def answer_of(answer: object, expected: type[T], method: str) -> T:
    """``answer``, which the host adapter's ``method`` returned, when it is an ``expected``.

    Raises:
        SourceError: it is something else (``None``, a row of the host's own), named with
            the method that returned it.
    """
    if not isinstance(answer, expected):
        raise SourceError(f"{method} returned {_named(answer)}, not the item as it now is")
    return answer


def listing_of(answer: Iterable[T] | None, method: str) -> Iterable[T]:
    """``answer``, which the host adapter's ``method`` returned, when it is a listing.

    Raises:
        SourceError: it is not (``None``, a mapping, text), named with the method.
    """
    if not isinstance(answer, Iterable) or isinstance(answer, str | bytes | Mapping):
        raise SourceError(f"{method} returned {_named(answer)}, not the items")
    return answer


def _named(answer: object) -> str:
    return "None" if answer is None else f"a {type(answer).__name__}"


def shown_id(host_id: str) -> str:
    """``host_id`` as a report shows it: unchanged when printable and short, else escaped
    (``bad\\x00id``) and cut."""
    if not isinstance(host_id, str):
        return repr(host_id)
    if keepable_id(host_id):
        return host_id
    shown = host_id[:SHOWN_ID].encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown + "\N{HORIZONTAL ELLIPSIS}" if len(host_id) > SHOWN_ID else shown


class ChannelReads(ChannelSpec[F, H, R]):
    """The reads of one channel of one profile in one run, and what they found unreadable."""

    channel: ClassVar[Channel]
    #: the channel's field record
    fields_cls: type[F]
    #: a complete host listing is authoritative: a mapped item missing from it is gone (a
    #: client left the group) without a confirming read
    host_listing_is_scope: ClassVar[bool] = False

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.user_id = ctx.profile.user_id
        self.warnings: list[str] = []
        self.unreadable: dict[str, str] = {}
        #: mapped host ids whose remote item could not be read this run
        self.unknown: set[str] = set()
        self.read_failures = 0

    @property
    def profile_id(self) -> str:
        return self.ctx.profile.id

    def _records(
        self,
        items: Iterable[H | Unreadable],
        recorded: Mapping[str, str | None] | Mapping[str, MappingHead] | None = None,
        unchanged: set[str] | None = None,
    ) -> dict[str, HostRecord[F]]:
        """The records of ``items``, but for those listed at the host revision recorded for
        them (``recorded``: the rows' host revisions, or their heads): they go into
        ``unchanged``, unbuilt."""
        records: dict[str, HostRecord[F]] = {}
        # a quiet full listing spends its time in this loop: one lookup per item
        look_up = recorded.get if recorded is not None and unchanged is not None else None
        add_unchanged = unchanged.add if unchanged is not None else None
        revision_of = self.host_revision
        unreadable = self.unreadable
        twice: set[str] = set()  # ids listed more than once, one of them to be sent
        for item in items:
            try:
                if isinstance(item, Unreadable):
                    unreadable[item.id] = item.reason
                    continue
                if look_up is not None and add_unchanged is not None:
                    found = look_up(item.id)
                    if found is not None and not isinstance(found, str):
                        found = found.host_revision  # (a head)
                    if found is not None and revision_of(item) == found:
                        add_unchanged(item.id)  # (twins here are both left alone anyway)
                        continue
                if item.id in records:
                    twice.add(item.id)
                    continue
                record = self.host_record(item)
                problem = id_problem(record) or item_problem(item) or self.refuse(record)
            except Exception as exc:  # a host item of the wrong shape: that item is skipped
                self._misshapen(item, exc)
                continue
            if problem is not None:
                unreadable[item.id] = f"it was not sent: {problem}"
                continue
            records[item.id] = record
        self._listed_twice(twice, records, unchanged)
        return records

    def _misshapen(self, item: object, error: Exception) -> None:
        an_id = getattr(item, "id", None)
        if an_id is None and isinstance(item, dict):
            an_id = item.get("id")
        kind = type(item).__name__
        if not isinstance(item, ScheduleItem | Contact):
            reason = f"it was not sent: the host listed a {kind}, not an item"
        else:
            reason = f"it could not be read: {type(error).__name__}: {error}"
        logger.warning("profile %s: host %s %r skipped: %s", self.profile_id, kind, an_id, error)
        self.unreadable[an_id if isinstance(an_id, str) else repr(an_id)] = reason

    def _listed_twice(
        self, twice: set[str], records: dict[str, HostRecord[F]], unchanged: set[str] | None
    ) -> None:
        """Items listed under one id (the host's mistake), one of them changed or new: none
        of them is sent, and their pair, if any, is left as it is, since calsync cannot tell
        which is the item. (Twins both at the recorded revision send nothing anyway: they go
        unnoticed until one changes.)"""
        if unchanged is not None:
            twice.update(records.keys() & unchanged)
        twice.update(
            host_id
            for host_id in self.unreadable
            if host_id in records or (unchanged is not None and host_id in unchanged)
        )
        for host_id in twice:
            records.pop(host_id, None)
            if unchanged is not None:
                unchanged.discard(host_id)
            self.unreadable[host_id] = (
                "it was not sent: the host listed more than one item under its id"
            )

    def _unreadable_warnings(self) -> list[str]:
        what = "client" if self.channel is Channel.CONTACTS else "item"
        return [
            f"{what} {shown_id(host_id)} was skipped: {reason}"
            if reason.startswith("it was not sent")
            else f"{what} {shown_id(host_id)} could not be read, so it was skipped: {reason}"
            for host_id, reason in self.unreadable.items()
        ]

    def _remote(self, item: R, intents: Mapping[str, F]) -> RemoteRecord[F]:
        """The record of a remote item, with its marker checked and its ownership proven."""
        record = self.remote_record(item)
        marker = record.marker
        if marker is None:
            return record
        if not marker.is_well_formed():
            return RemoteRecord(
                record.id,
                record.etag,
                record.view,
                None,
                record.deleted,
                record.updated,
                record.in_scope,
            )
        # only an id proves it: a journaled intent says calsync made *one* item for that host
        # item, not which (a user's copy carries the same marker, and the one calsync made may
        # be gone); intents serve adoption, which never deletes anything
        ours = marker.namespace == self.profile_id and self.made_by_us(record.id, marker)
        return RemoteRecord(
            record.id,
            record.etag,
            record.view,
            marker,
            record.deleted,
            record.updated,
            record.in_scope,
            ours,
        )

    def _read_remote(
        self, remote_id: str, host_id: str, intents: Mapping[str, F]
    ) -> tuple[bool, RemoteRecord[F] | None]:
        """Read one remote item: ``(True, record or None)``, or ``(False, None)`` when the
        read failed (the failure is reported against ``host_id``)."""
        try:
            item = self.get_remote(remote_id)
        except FATAL:
            raise
        except BackendError as exc:
            self._read_failed(host_id, f"read remote {self.channel.value} item {remote_id}", exc)
            return False, None
        return True, None if item is None else self._remote(item, intents)

    def _read_failed(self, item: str, what: str, error: BaseException) -> None:
        self.read_failures += 1
        message = str(error) or type(error).__name__
        logger.warning("profile %s: could not %s: %s", self.profile_id, what, message)
        transient = isinstance(error, TransientError)
        self.ctx.report.errors.append(
            ItemError(self.channel, item, what, message, transient=transient)
        )

    def _confirm_remote_absences(
        self,
        rows: MappingLoader,
        mapping: MutableMapping[str, MappingHead],
        remote: dict[str, RemoteRecord[F]],
        unchanged: set[str],
        forgotten: dict[str, str],
    ) -> None:
        absent = [
            row.host_id
            for row in mapping.values()
            if row.remote_id not in remote and row.remote_id not in unchanged
        ]
        rows.complete(mapping, absent)
        for host_id in absent:
            row = whole(mapping[host_id])
            if self.left_window(row):
                forgotten[row.host_id] = "it left the sync window"
                continue
            read, fetched = self._read_remote(row.remote_id, row.host_id, {})
            if not read:
                self.unknown.add(row.host_id)
                continue
            remote[row.remote_id] = (
                fetched
                if fetched is not None
                else RemoteRecord(row.remote_id, "", None, deleted=True)
            )

    def _confirm_host_absences(
        self,
        rows: MappingLoader,
        mapping: MutableMapping[str, MappingHead],
        host: HostRead[F],
        forgotten: dict[str, str],
    ) -> None:
        if len(host.unchanged) == len(mapping):
            return  # every mapped item was listed unchanged (they are mapped ids): none missing
        replaced = {record.replaces for record in host.records.values() if record.replaces}
        missing = [
            host_id
            for host_id in mapping
            if host_id not in host.records
            and host_id not in host.unchanged
            and host_id not in host.deleted  # (set aside: its id was given again)
            and host_id not in replaced
            and host_id not in self.unreadable
        ]
        if self.host_listing_is_scope:
            host.deleted.update(missing)
            return
        to_check = []
        rows.complete(mapping, missing)
        for host_id in missing:
            if self.left_window(whole(mapping[host_id])):
                forgotten[host_id] = "it left the sync window"
            else:
                to_check.append(host_id)
        self._confirm_host_ids(to_check, host)

    def _confirm_host_ids(self, host_ids: Sequence[str], host: HostRead[F]) -> None:
        if not host_ids:
            return
        found = self.host_items(host_ids)
        for host_id in host_ids:
            item = found.get(host_id)
            if item is None:
                host.deleted.add(host_id)
            elif isinstance(item, Unreadable) or not self.host_listing_is_scope:
                host.records.update(self._records([item]))
            elif host.complete:  # it exists, but the full listing of the scope left it out
                host.out_of_scope.add(host_id)
            # else: the item exists but its place in the scope is unknown this run (a feed)

    def _resolve_unmapped(
        self,
        mapping: Mapping[str, MappingHead],
        host: HostRead[F],
        remote: dict[str, RemoteRecord[F]],
        intents: Mapping[str, F],
    ) -> None:
        """Fetch what adoption needs: host items named by our markers, remote origins, and the
        remote items of creates journaled before a crash. Unpaired remote items a full listing
        would not list (:meth:`outside_listing`) are left out first."""
        if not remote and all(host_id in mapping for host_id in host.records):
            return  # nothing unmapped on either side (a quiet run, or only mapped changes)
        mapped_remote = {row.remote_id for row in mapping.values()}
        origins = {record.origin for record in host.records.values() if record.origin}
        self._leave_out_unpaired_outside(remote, mapped_remote | origins)
        claimed = [
            r.marker.host_id
            for r in remote.values()
            if r.marker is not None
            and r.marker.namespace == self.profile_id
            and r.id not in mapped_remote
            and r.marker.host_id not in host.records
            and r.marker.host_id not in host.unchanged
            and r.marker.host_id not in host.deleted
            and r.marker.host_id not in self.unreadable
        ]
        self._confirm_host_ids(claimed, host)
        for record in list(host.records.values()):
            if record.id in mapping:
                continue
            wanted = record.origin
            if wanted is None and record.id in intents:
                wanted = self.intended_remote_id(record.id)
            if wanted is None or wanted in remote or wanted in mapped_remote:
                continue
            read, fetched = self._read_remote(wanted, record.id, intents)
            if not read:
                del host.records[record.id]  # unknown this run: neither adopted nor created
            elif fetched is not None:
                remote[wanted] = fetched

    def _leave_out_unpaired_outside(
        self, remote: dict[str, RemoteRecord[F]], kept: set[str]
    ) -> None:
        """Leave out the unpaired live remote items that a full listing would not list (a
        change feed may list anything that changed: Google's sync token is not windowed).
        What is synced is what a full listing holds: such an item is neither brought in nor
        read again, as if it had not been listed; it comes in once a full listing holds it
        (days pass and the window reaches it, say). The items of pairs and those host items
        came from (``kept``) stay, whatever they hold now: a pair follows the rules of any
        pair (an item moved out of the window is moved in the studio too; moved into the
        past, it is forgotten once it has left the window)."""
        outside = [
            remote_id
            for remote_id, record in remote.items()
            if remote_id not in kept
            and not record.deleted
            and record.view is not None
            and self.outside_listing(record)
        ]
        for remote_id in outside:
            logger.debug("left out remote item %s: a full listing would not list it", remote_id)
            del remote[remote_id]

    def outside_listing(self, record: RemoteRecord[F]) -> bool:
        """Whether a full listing would leave out the live ``record`` (the calendar: it lies
        outside the sync window). Default: never."""
        return False

    def _leave_out_unknown(
        self,
        mapping: Mapping[str, MappingHead],
        host: HostRead[F],
        remote: dict[str, RemoteRecord[F]],
    ) -> None:
        """Pairs whose remote item could not be read take no part in this run, nor do pairs
        whose host item was skipped (unreadable, or the host's mistake): a remote change of
        theirs would otherwise be planned against a host item calsync did not see, and could
        overwrite an edit made there. Such a change is read again next run (the cursors stay
        where they were), until the host item can be read."""
        for host_id in self.unknown:
            host.records.pop(host_id, None)
            host.deleted.discard(host_id)
            row = mapping.get(host_id)
            if row is not None:
                remote.pop(row.remote_id, None)
        for host_id in self.unreadable:
            row = mapping.get(host_id) if host_id in mapping else None
            if row is not None and remote.pop(row.remote_id, None) is not None:
                self.read_failures += 1

    def host_record_of(self, host_id: str, snapshot: Snapshot[F]) -> HostRecord[F] | None:
        """The host record of ``host_id`` in ``snapshot``, if any."""
        return snapshot.host.get(host_id)

    def fetch_remote(self, remote_id: str) -> RemoteRecord[F] | None:
        """Read one remote item again (after a precondition failure)."""
        item = self.get_remote(remote_id)
        return None if item is None else self._remote(item, {})

"""The channel core: one skeleton for reading both sides of a channel, shared by the calendar
and contacts channels.

A channel takes the snapshot — reads the host (its change feed or a full listing) and the
remote side (a sync token or a full listing), confirms every absence before it may count as a
deletion, and fetches what adoption needs — then turns actions into writes on each side. The
skeleton lives here once; a channel supplies only what differs: its field record, its host
and backend calls, and its scope rules (the window of the calendar, the group of contacts).
The reads beyond the listings (records, single items, absences) are in
:mod:`calsync.engine.reads`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from itertools import chain, islice

import attrs

from calsync.backends import RemoteListing
from calsync.engine.context import (
    ChannelSnapshot,
    H,
    HostRead,
    HostWrite,
    LazyHeads,
    MappingLoader,
    Progress,
    R,
    RunContext,
    digest,
    ids_to_look_up,
    whole,
)
from calsync.engine.cursors import ChannelCursors
from calsync.engine.deletions import unlinked_pairs
from calsync.engine.fields import decode_base, encode_base
from calsync.engine.journal import CreateJournal
from calsync.engine.planner import LOST_BY_THE_HOST
from calsync.engine.reads import ChannelReads, storable_id
from calsync.engine.records import F, Fields, HostRecord, RemoteRecord, Snapshot
from calsync.engine.report import ItemError
from calsync.model import Channel
from calsync.policies import Side
from calsync.sources import HostChanges, HostRewound, Unreadable
from calsync.state.base import MappingHead, MappingRow

__all__ = [
    "ChannelAdapter",
    "ChannelSnapshot",
    "HostWrite",
    "MappingLoader",
    "Progress",
    "RunContext",
]

logger = logging.getLogger(__name__)

#: change feeds naming at least this many items, and more than a quarter of the rows, read
#: every row's head rather than the rows of the ids named (:meth:`ChannelAdapter._long_feeds`)
LONG_FEED = 1000


class ChannelAdapter(ChannelReads[F, H, R]):
    """One channel of one profile: the shared snapshot skeleton over the channel's reads
    (:class:`~calsync.engine.reads.ChannelReads`) and I/O
    (:class:`~calsync.engine.channel_spec.ChannelSpec`)."""

    #: whether the channel records the remote items its host items were made from
    #: (:attr:`origins`): what tells, once a host item is gone, that its remote item is the
    #: remote user's own (the contacts channel's; an unlinked appointment's kind tells it)
    records_origins = False

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        #: the creates this run journals before sending them
        self.journal: CreateJournal[F] = CreateJournal(
            ctx.store, ctx.profile.id, self.channel, ctx.now
        )
        #: the cursors, options digest and intents, read once; written back when they moved
        self.cursors = ChannelCursors(ctx.store, ctx.profile.id, self.channel)
        #: host ids whose pair this run unlinks (remembered before, checked after)
        self._unlinking: set[str] = set()
        #: host items a host write made from remote items (host id -> remote id), not yet
        #: recorded: the executor records them with the pairs of its chunk, never after them
        self.origins: dict[str, str] = {}
        #: the pairs of host items a host gone back in time lost, which the plan makes again
        #: from their remote item (remote id -> the lost host id): each is dropped as its
        #: item is made (:meth:`made_from`), and while any is left, the evidence that the
        #: host went back stays (:meth:`note_host_reached`)
        self._lost: dict[str, str] = {}
        #: host ids the host gave a new item of its own while the pair of the item it lost
        #: under that id stands (host id -> that pair's remote id): read once, as stored
        self._reused: dict[str, str] | None = None
        self._held_notes: set[str] = set()  # (the host ids of :meth:`held_notes`)

    # -- cursors -------------------------------------------------------------------------

    def cursor(self, side: Side) -> str | None:
        return self.cursors.cursor(side)

    def needs_full_listing(self) -> bool:
        """A full listing of both sides is needed: first sync, changed options, or intents."""
        if self.ctx.profile.options.initial_sync_pending or self.cursors.pending():
            return True
        return self.cursors.options_changed(self.config_digest())

    def unsettle_options(self) -> None:
        """Called before a run writes: see :meth:`ChannelCursors.unsettle`."""
        self.cursors.unsettle(self.config_digest())

    def commit_cursors(
        self, snapshot: ChannelSnapshot[F], *, advance_host: bool, advance_remote: bool
    ) -> None:
        """Store the cursors the snapshot was taken at, for the sides that were fully applied;
        and forget an unlink this run planned but did not make (its pair is still there)."""
        self.cursors.commit(
            snapshot.host_cursor,
            snapshot.remote_cursor,
            self.config_digest(),
            advance_host=advance_host,
            advance_remote=advance_remote,
        )
        if not self._unlinking:
            return
        store, pid = self.ctx.store, self.profile_id
        kept = store.mappings_of(pid, self.channel, self._unlinking)
        if kept:  # an unlink that was not made (its run failed first): not unlinked
            unlinked = store.get_unlinked(pid, self.channel)
            store.set_unlinked(
                pid, self.channel, {h: f for h, f in unlinked.items() if h not in kept}
            )

    def forget(self) -> None:
        """Drop this channel's mapping, intents and cursors (start over)."""
        self.ctx.store.forget_channel(self.profile_id, self.channel)
        self.cursors.forget()

    def prepare(self) -> bool:
        """Called before the mapping is read. ``True``: plan as if nothing were mapped (a new
        pairing; a real run has dropped the old mapping, a dry run only pretends to)."""
        return False

    # -- the snapshot skeleton -----------------------------------------------------------

    def snapshot(self, rows: MappingLoader, full: bool) -> ChannelSnapshot[F]:
        """Read both sides (in full when ``full``) and confirm absences."""
        intents = self._intents()
        host = self._read_host(full, rows)
        aside = self._set_aside_reused(host)
        listing = self.list_remote(None if full else self.cursor(Side.REMOTE))
        self.warnings.extend(listing.warnings)
        renamed = self.renamed(listing)
        items: Iterable[R] = (item for item in listing.items if self.accepts(item))
        partial = not (host.complete or listing.complete)
        # mapped items listed at their recorded etag: needed to confirm absences in a full
        # listing (a change feed leaves out what it does not list anyway)
        unchanged_remote: set[str] | None = set() if listing.complete else None
        if partial:  # change feeds on both sides: only the rows of what changed
            items = listed = list(items)
            if self._long_feeds(rows, host, listed):
                partial, mapping = False, rows.all()  # (every row's head, as a listing reads)
            else:
                host_ids, remote_ids = ids_to_look_up(host.records, host.deleted, listed)
                mapping = rows.some(host_ids, remote_ids | renamed.keys())
        else:
            mapping = rows.all()
        self._release_reused(aside, mapping, host)
        self._move_pairs(renamed, rows, mapping)
        remote = self._changed_remote(items, mapping, intents, unchanged_remote)
        self._disown_copies_of_others(remote)
        forgotten: dict[str, str] = {}
        if unchanged_remote is not None:
            self._confirm_remote_absences(rows, mapping, remote, unchanged_remote, forgotten)
        if host.complete:
            self._confirm_host_absences(rows, mapping, host, forgotten)
        successors = self.successors(mapping, remote, host.deleted | host.out_of_scope)
        for gone in self._move_pairs(successors, rows, mapping):
            del remote[gone]  # (its tombstone: the pair has its successor now)
        self._resolve_unmapped(mapping, host, remote, intents)
        if partial:  # host items found while resolving (a successor our marker led to)
            more, _ = ids_to_look_up(host.records, host.deleted, ())
            if more - host_ids:
                mapping.update(rows.some(more - host_ids, set()))
        self._leave_out_unknown(mapping, host, remote)
        # the pairs the plan acts on: their whole rows (a full listing read only the heads)
        acted_on = set(host.records) | host.deleted
        acted_on.update(record.replaces for record in host.records.values() if record.replaces)
        rows.complete(mapping, acted_on, remote.keys())
        deleted = frozenset(host.deleted - self.unreadable.keys())
        snapshot = Snapshot(
            host.records,
            deleted,
            remote,
            forgotten,
            intents,
            frozenset(host.out_of_scope),
            host.rewound,
            host_reused=frozenset(aside),
        )
        warnings = [*self.warnings, *self._unreadable_warnings()]
        snapshot = self._leave_unlinked_unsent(snapshot, mapping)
        return ChannelSnapshot(
            snapshot,
            host.cursor,
            listing.cursor,
            mapping,
            rows.count,
            tuple(warnings),
            self.read_failures,
        )

    @staticmethod
    def _long_feeds(rows: MappingLoader, host: HostRead[F], listed: Sequence[R]) -> bool:
        """Whether the change feeds name so many items (the run after an initial sync reads
        every write back) that reading every row's head costs less, in time and in memory,
        than gathering their ids to read their whole rows: more than a quarter of the rows."""
        changed = len(listed) + len(host.records) + len(host.deleted)
        return changed >= LONG_FEED and changed > rows.count() // 4

    def renamed(self, listing: RemoteListing[R]) -> dict[str, str]:
        """The items ``listing`` shows under a new id, by the id they had before (the remote
        side renamed them). Default: none."""
        return {}

    def successors(
        self,
        mapping: Mapping[str, MappingHead],
        remote: Mapping[str, RemoteRecord[F]],
        leaving: Collection[str],
    ) -> dict[str, str]:
        """The remote items that take the place of paired ones found gone (listed as deleted,
        or missing from a full listing and not found), by the gone item's id; none for the
        host items ``leaving`` the sync this run (deleted, or out of its scope), whose pairs
        end. Default: none (a gone item is a deletion)."""
        return {}

    def _move_pairs(
        self,
        moves: Mapping[str, str],
        rows: MappingLoader,
        mapping: MutableMapping[str, MappingHead],
    ) -> list[str]:
        """Move the pairs of the remote items ``moves`` names (by their former id) to the new
        id, keeping what the sides agreed on: in the mapping the run plans with, and in the
        store (but in a dry run), with the origins that name them. A move to an id paired
        already, or shared by two pairs, is not made. Returns the former ids moved."""
        if not moves:
            return []
        paired = {row.remote_id for row in mapping.values()}
        targets = Counter(moves[r] for r in paired if r in moves)
        host_ids = [
            row.host_id
            for row in mapping.values()
            if row.remote_id in moves
            and moves[row.remote_id] not in paired
            and targets[moves[row.remote_id]] == 1
        ]
        if not host_ids:
            return []
        rows.complete(mapping, host_ids)
        moved, former = [], []
        for host_id in host_ids:
            row = whole(mapping[host_id])
            new_id = moves[row.remote_id]
            logger.info(
                "profile %s: remote %s item %s is now %s",
                self.profile_id,
                self.channel.value,
                row.remote_id,
                new_id,
            )
            former.append(row.remote_id)
            moved.append(attrs.evolve(row, remote_id=new_id))
        mapping.update((row.host_id, row) for row in moved)
        if not self.ctx.dry_run:
            self._store_moves(moved, moves)
        reused = self._reused_ids()
        if any(row.host_id in reused for row in moved):  # (the pair a reused id holds moved)
            followed = {row.host_id: row.remote_id for row in moved if row.host_id in reused}
            self._store_reused({**reused, **followed})
        return former

    def _store_moves(self, moved: Sequence[MappingRow], moves: Mapping[str, str]) -> None:
        store, pid = self.ctx.store, self.profile_id
        self.ctx.go_on()
        with store.transaction():  # a pair and the origin naming its item move together
            store.put_mappings(moved)
            origins = store.get_origins(pid, self.channel, [row.host_id for row in moved])
            followed = {host_id: moves[o] for host_id, o in origins.items() if o in moves}
            if followed:
                store.set_origins(pid, self.channel, followed)

    def _leave_unlinked_unsent(
        self, snapshot: Snapshot[F], mapping: Mapping[str, MappingHead]
    ) -> Snapshot[F]:
        """Host items whose pair was unlinked (``RemoteDeletion.UNLINK``) are not sent again
        while they are as they were then: they are left out of the snapshot, until the studio
        edits them or the remote user brings their item (which still carries calsync's marker)
        back into the scope, which links them again. The unlinks this run plans are remembered
        before they are made (and forgotten after, should one not be made)."""
        unlinking = unlinked_pairs(snapshot, mapping, self.rules())
        unmapped = [h for h in snapshot.host if h not in mapping]
        if not unlinking and not unmapped:
            return snapshot
        store = self.ctx.store
        stored = store.get_unlinked(self.profile_id, self.channel)
        unlinked = {h: f for h, f in stored.items() if h not in mapping}
        claimed = self._claimed(snapshot)
        host = dict(snapshot.host)
        for host_id in unmapped:
            known = unlinked.get(host_id)
            if known is None:
                continue
            if known == _fingerprint(host[host_id].view) and host_id not in claimed:
                del host[host_id]
            else:  # edited in the studio, or brought back remotely: linked again
                del unlinked[host_id]
        unlinked.update((h, _fingerprint(fields)) for h, fields in unlinking.items())
        if not self.ctx.dry_run:
            self._unlinking = set(unlinking)
            if unlinked != stored:
                store.set_unlinked(self.profile_id, self.channel, unlinked)
        if len(host) == len(snapshot.host):
            return snapshot
        return attrs.evolve(snapshot, host=host)

    def _claimed(self, snapshot: Snapshot[F]) -> set[str]:
        """Host ids named by the marker of a live remote item in the scope (none of a pair)."""
        return {
            r.marker.host_id
            for r in snapshot.remote.values()
            if r.marker is not None
            and r.marker.namespace == self.profile_id
            and r.in_scope
            and not r.deleted
            and r.view is not None
        }

    def _disown_copies_of_others(self, remote: dict[str, RemoteRecord[F]]) -> None:
        """Items carrying another profile's marker that are not that profile's are the remote
        user's own: a colleague's event the Google user copied into their own calendar
        (Google copies the private marker, with a new id). Their marker is dropped, so they
        come in as any Google-made event does. An item is the other profile's when it bears
        the id calsync chose for it, or that profile's mapping holds it; of a profile this
        store knows nothing, or on a channel whose ids the remote side chooses, nothing can
        be told, and the item is left as another profile's."""
        suspects: dict[str, list[str]] = {}
        for record in remote.values():
            marker = record.marker
            if marker is None or marker.namespace == self.profile_id or record.deleted:
                continue
            chosen = self.chosen_id(marker.namespace, marker.host_id)
            if chosen is not None and chosen != record.id:
                suspects.setdefault(marker.namespace, []).append(record.id)
        store = self.ctx.store
        for namespace, ids in suspects.items():
            rows = store.mappings_of(namespace, self.channel, (), ids)
            theirs = {row.remote_id for row in rows.values()}
            copies = [remote_id for remote_id in ids if remote_id not in theirs]
            if copies and (theirs or store.count_mappings(namespace, self.channel)):
                for remote_id in copies:
                    remote[remote_id] = attrs.evolve(remote[remote_id], marker=None)

    def _intents(self) -> dict[str, F]:
        pending = self.cursors.pending()
        return {
            host_id: decode_base(intent.base, self.fields_cls)
            for host_id, intent in pending.items()
            if intent.base is not None
        }

    def _read_host(self, full: bool, rows: MappingLoader) -> HostRead[F]:
        changes, rewound = self._host_feed(self.cursor(Side.HOST), full)
        rewound = rewound or self._behind_own_writes()
        if changes is not None and not full and not rewound:
            records = self._records(changes.changed)
            # (an id a store cannot hold was never synced: nothing of it to delete)
            deleted = {host_id for host_id in changes.deleted if storable_id(host_id)}
            return HostRead(records, deleted, changes.cursor, False, set())
        new_cursor = self.host_cursor()
        unchanged: set[str] = set()
        recorded = rows.revisions()  # (else the heads, which hold them too)
        listing = self.host_listing()
        records = self._records(listing, rows.all() if recorded is None else recorded, unchanged)
        return HostRead(records, set(), new_cursor, True, unchanged, rewound=rewound)

    def _host_feed(
        self, cursor: str | None, full: bool
    ) -> tuple[HostChanges[H | Unreadable] | None, bool]:
        """The host's changes since ``cursor`` (``None``: there is no feed, or its cursor is
        unknown), and whether the host went back in time past it. A full listing asks the
        feed too: only the feed can tell that the host was restored from a backup, which
        changes what the listing's absences mean."""
        if cursor is None:
            return None, False
        try:
            return self.host_changes(cursor), False
        except HostRewound:
            logger.warning("the host of %s went back in time; listing in full", self.user_id)
            return None, True
        except LookupError:
            if not full:
                logger.info("host change cursor of %s expired; listing in full", self.user_id)
            return None, False

    def _behind_own_writes(self) -> bool:
        """Whether the host is behind where the last run's own writes to it took its feed:
        it lost them, as a host restored from a backup does (its feed cursor, taken before
        those writes, cannot tell)."""
        reached = self.cursors.reached()
        if reached is None or reached == self.cursor(Side.HOST):
            return False
        try:
            self.host_changes(reached)
        except HostRewound:
            logger.warning("the host of %s lost calsync's last writes to it", self.user_id)
            return True
        except LookupError:
            return False
        return False

    def settle_host_reached(self, wrote_host: bool, keep_evidence: bool) -> None:
        """After the plan was applied: remember where this run's own writes took the host's
        feed (the next run checks the host is not behind it), or forget it. A run that found
        the host gone back in time and holds what it lost keeps the evidence until the user
        confirms (``keep_evidence``). The executor has noted it as it wrote, with the pairs
        of each chunk of host writes: this is the last word."""
        if keep_evidence or self._lost:
            return
        self.cursors.record_reached(self.host_cursor() if wrote_host else None)

    def note_host_reached(self) -> None:
        """Note where the host's feed is after writes whose pairs are committed in the same
        transaction: a run killed after them, and then a restore of the host, still shows
        the host behind its own writes. A host that cannot tell now is asked again at the
        end of the run (the pairs are kept all the same). Not while an item the host lost
        going back in time is still to be made again (:meth:`bring_back_lost`): the
        evidence stays, so that the next run finds it lost again and makes it."""
        if self._lost:
            return
        try:
            reached = self.host_cursor()
        except Exception:  # (the writes are done: their pairs must be recorded regardless)
            logger.warning(
                "the host of %s could not tell where its change feed is",
                self.user_id,
                exc_info=True,
            )
            return
        if reached is not None:
            self.cursors.record_reached(reached)

    # -- items the host lost going back in time ------------------------------------------

    def bring_back_lost(self, snapshot: Snapshot[F], lost: Mapping[str, str]) -> Snapshot[F]:
        """``snapshot`` with the pairs ``lost`` (host id -> remote id) forgotten with
        :data:`~calsync.engine.planner.LOST_BY_THE_HOST` rather than deleted: their host items
        were made from the remote user's own items, which a host gone back in time lost, and
        the plan makes each again from its remote item. The pair is not dropped before then:
        :meth:`made_from` drops it in the executor's commit that records the new one, so
        that a create the host refuses, or a run that stops first, leaves it (and the
        evidence that the host went back) for the next run to try again."""
        if not lost:
            return snapshot
        self._lost.update((remote_id, host_id) for host_id, remote_id in lost.items())
        forgotten = dict(snapshot.forgotten)
        forgotten.update(dict.fromkeys(lost, LOST_BY_THE_HOST))
        deleted = snapshot.host_deleted - lost.keys()
        return attrs.evolve(snapshot, host_deleted=deleted, forgotten=forgotten)

    def made_from(self, remote_id: str, host_id: str) -> None:
        """The host has made ``host_id`` from ``remote_id`` (the executor checked that no
        other pair holds that id): that is remembered when the channel records origins (in
        the open transaction of the executor's chunk, with its pairs), and when it brings
        back an item the host lost (:meth:`bring_back_lost`), the lost item's pair goes now,
        in the same transaction, which records the new pair."""
        if self.records_origins:
            self.origins[host_id] = remote_id
        lost = self._lost.pop(remote_id, None)
        if lost is not None and lost != host_id:
            self.ctx.store.delete_mapping(self.profile_id, self.channel, lost)

    # -- host ids the host gave again ----------------------------------------------------

    def note_reused(self, host_id: str, remote_id: str) -> None:
        """The host made a new item under ``host_id``, the id of an item it lost, whose pair
        with ``remote_id`` stands: from the next run on, that pair is the lost item's (its
        deletion held until the user confirms it), and the new item is left out of the sync,
        and reported, until the pair ends (:meth:`_set_aside_reused`)."""
        self._store_reused({**self._reused_ids(), host_id: remote_id})
        self._held_notes.add(host_id)
        if not self.ctx.dry_run:  # (in the same transaction: the next run reads the note)
            self.cursors.record_held(self.cursors.held() | set(self.held_notes()))

    def held_notes(self) -> list[str]:
        """Keys to record with the deletions this run held, one for each item set aside or
        noted this run (:meth:`note_reused`): they let nothing through when confirmed, but
        tell the next run to read what was noted (:meth:`_set_aside_reused`)."""
        return sorted(f"reused\x1f{host_id}" for host_id in self._held_notes)

    def _reused_ids(self) -> dict[str, str]:
        if self._reused is None:
            stored = self.ctx.store.get_cursor(self.profile_id, _reused_cursor(self.channel))
            self._reused = dict(json.loads(stored)) if stored else {}
        return self._reused

    def _store_reused(self, reused: dict[str, str]) -> None:
        self._reused = reused
        if not self.ctx.dry_run:
            value = json.dumps(reused, sort_keys=True) if reused else None
            self.ctx.store.set_cursor(self.profile_id, _reused_cursor(self.channel), value)

    def _set_aside_reused(self, host: HostRead[F]) -> dict[str, HostRecord[F] | None]:
        """The host items whose id the host gave again (:meth:`note_reused`) are set aside:
        their records leave the read, and their pairs count as deleted in the host (the
        item they were made with is lost). Returns what was set aside, by host id (the
        record, when the read had it): :meth:`_release_reused` puts back those whose pair
        has ended.

        What was noted is read only when the last run held something: while an item is
        noted, its run records a held key for it (:meth:`held_notes`), so a quiet run still
        reads its cursors in one read."""
        aside: dict[str, HostRecord[F] | None] = {}
        if not self.cursors.stored.held:
            return aside
        for host_id in self._reused_ids():
            aside[host_id] = host.records.pop(host_id, None)
            host.unchanged.discard(host_id)
            host.deleted.add(host_id)
        return aside

    def _release_reused(
        self,
        aside: dict[str, HostRecord[F] | None],
        mapping: Mapping[str, MappingHead],
        host: HostRead[F],
    ) -> None:
        """Put back the items set aside whose lost item's pair has ended (confirmed deleted,
        or gone remotely): they sync as any new item from now on. Those still set aside are
        reported at every run, and the cursors stay (a failure of the read), so that the
        host's feed still holds the new item when it is put back."""
        if not aside:
            return
        reused = self._reused_ids()
        ended = [h for h in aside if (row := mapping.get(h)) is None or row.remote_id != reused[h]]
        for host_id in ended:
            host.deleted.discard(host_id)
            record = aside.pop(host_id)
            if record is not None:
                host.records[host_id] = record
        if ended:
            self._store_reused({h: r for h, r in reused.items() if h not in ended})
        self._held_notes.update(aside)
        for host_id in sorted(aside):
            self.read_failures += 1
            message = (
                f"the studio gave a new item the id {host_id} of an item it lost, which is still "
                f"paired with Google item {reused[host_id]}: a host must never reuse ids "
                "(restored from a backup?). The new item is not synced until that pair ends: "
                f"confirm the held deletion of {reused[host_id]}, or delete it in Google"
            )
            logger.warning("profile %s: %s", self.profile_id, message)
            self.ctx.report.errors.append(
                ItemError(self.channel, host_id, f"sync host item {host_id}", message)
            )

    def _changed_remote(
        self,
        items: Iterable[R],
        mapping: Mapping[str, MappingHead],
        intents: Mapping[str, F],
        unchanged: set[str] | None,
    ) -> dict[str, RemoteRecord[F]]:
        """The records of the listed items, but for those whose marker (this profile's)
        leads to their own mapping row at the recorded etag: they are left out (into
        ``unchanged``, when given), as a change feed leaves out what did not change, and the
        planner takes them for unchanged. Reading back an initial sync's writes, or a full
        listing of a quiet calendar, then costs a lookup per item: no record, no proof of
        ownership."""
        remote: dict[str, RemoteRecord[F]] = {}
        row_of = mapping.get
        if isinstance(mapping, LazyHeads):  # the rows these items can lead to, in one read
            few = len(mapping) // 4 + 1  # (more items than that: every row's head)
            first = [] if unchanged is not None else list(islice(items, few))
            if unchanged is not None or len(first) == few:  # a full listing, or a long feed
                row_of = mapping.every().get  # (a lookup per item: the dict's own)
                items = chain(first, items)
            else:  # a change feed of a few items: their whole rows
                items = first
                mapping.fetch(
                    item.marker.host_id
                    for item in first
                    if item.marker is not None and item.marker.namespace == self.profile_id
                )
        for item in items:
            marker = item.marker
            row = None
            if marker is not None and marker.namespace == self.profile_id:
                row = row_of(marker.host_id)
            if (
                row is not None
                and row.remote_id == item.id
                and row.remote_etag is not None
                and row.remote_etag == item.etag
                and self.in_scope_and_readable(item)
            ):
                remote.pop(item.id, None)  # the last listing of an id is the one that counts
                if unchanged is not None:
                    unchanged.add(item.id)
            else:
                remote[item.id] = self._remote(item, intents)
                if unchanged is not None:
                    unchanged.discard(item.id)
        return remote


def _reused_cursor(channel: Channel) -> str:
    """The store's name for the host ids of ``channel`` the host gave again
    (:meth:`ChannelAdapter.note_reused`)."""
    return f"reused:{channel.value}"


def _fingerprint(fields: Fields) -> str:
    """A short digest of a host item's synced fields (whether the studio edited it since)."""
    return digest(encode_base(fields))

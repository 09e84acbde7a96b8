"""How the executor records what it did (see :mod:`calsync.engine.executor`): the pairs, in
the state store (many rows in one write, one by one when that write is refused, so only the
pair that cannot be recorded fails), and the counts, failures, conflicts, news and progress,
in the run's report."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic

from calsync.engine.actions import Action, CreateHost, CreateRemote, DeleteRemote, Link, Update
from calsync.engine.channel import ChannelAdapter
from calsync.engine.context import FATAL, H, R, RunContext
from calsync.engine.records import F, Snapshot
from calsync.engine.report import ConflictNote, ItemError, display
from calsync.errors import SourceError, TransientError
from calsync.model import RecordKind
from calsync.policies import Side
from calsync.state.base import MappingRow

__all__ = ["Entry", "Recording"]

logger = logging.getLogger(__name__)

#: An action and the row that records its pair.
Entry = tuple[Action[F], MappingRow]


class Recording(Generic[F, H, R]):
    """The executor's records of one channel's plan: its pairs and its report."""

    #: set by the executor
    adapter: ChannelAdapter[F, H, R]
    ctx: RunContext
    #: what the plan was made from (the host records of the items it acts on)
    snapshot: Snapshot[F]
    replanning: bool
    #: the items that failed, the actions done, and how many there are in all
    failed: int
    done: int
    total: int
    #: host items a create answered with as the host already had them (counted as updated)
    existing_hosts: set[str]
    #: the remote write a re-plan follows (refused because it had landed already, its answer
    #: lost, and was sent again): what finds the remote as it asked counts as that write
    landed: Update[F] | DeleteRemote | None

    # -- state ---------------------------------------------------------------------------

    def _record(self, entries: list[Entry[F]]) -> None:
        """Record the pairs of ``entries`` in one write (and drop their intents in another),
        then count each (:meth:`_recorded`); when that write fails, one by one, so that only
        the items that cannot be recorded fail. The origins of the host items made since the
        last record go first (:meth:`_record_origins`), once those of the host items created
        are checked (:meth:`_check_new_host_ids`). Empties ``entries``."""
        self._check_new_host_ids(entries)
        done = self._record_origins(entries)
        entries.clear()
        if not done:
            return
        store = self.ctx.store
        rows = [row for _, row in done]
        try:
            with store.transaction():
                store.put_mappings(rows)
                store.remove_pendings(
                    self.ctx.profile.id, self.adapter.channel, [row.host_id for row in rows]
                )
        except FATAL:
            raise
        except Exception as exc:  # each item's own failure is reported below
            logger.debug("recording %d pairs at once failed (%s); one by one", len(rows), exc)
            for action, row in done:
                self._guarded(action, partial(self._commit, row, None, action))
            return
        tally: Counter[tuple[Side, str]] = Counter()  # counted once for the lot
        for action, row in done:
            self.adapter.journal.recorded(row.host_id)
            self._recorded(action, row, tally)
        self._count_all(tally)

    def _check_new_host_ids(self, entries: list[Entry[F]]) -> None:
        """Fail each host create of ``entries`` answered with an id that a pair with another
        remote item holds (the host gave the id again: a database restored with its id
        counter, say), dropping it from ``entries``: recorded, the new pair would overwrite
        that one, and its remote item, which may be calsync's own, would be left unpaired,
        its deletion forgotten. That pair stays; when the host lost its item (the id was
        given again), the channel sets the new item aside from the next run on, until the
        user confirms the pair's deletion (``ChannelAdapter.note_reused``). The others are
        remembered as made from their remote item (``ChannelAdapter.made_from``: a lost item
        made again, its pair goes). One read of the store for the lot."""
        created = [row.host_id for action, row in entries if isinstance(action, CreateHost)]
        if not created:
            return
        ctx, channel = self.ctx, self.adapter.channel
        stored = ctx.store.mappings_of(ctx.profile.id, channel, created)
        paired: dict[str, str] = {}  # the pairs of the entries before, in the plan's order
        kept: list[Entry[F]] = []
        for action, row in entries:
            if isinstance(action, CreateHost):
                holder = paired.get(row.host_id)
                if holder is None and row.host_id in stored:
                    holder = stored[row.host_id].remote_id
                if holder is not None and holder != action.remote_id:
                    self._reused(action, row.host_id, holder)
                    continue
                self.adapter.made_from(action.remote_id, row.host_id)
            paired[row.host_id] = row.remote_id
            kept.append((action, row))
        entries[:] = kept

    def _reused(self, action: CreateHost[F], host_id: str, holder: str) -> None:
        if host_id in self.snapshot.host_deleted or host_id in self.snapshot.forgotten:
            self.adapter.note_reused(host_id, holder)
        self._fail(
            action,
            SourceError(
                f"the studio gave the new item id {host_id}, which is paired with another "
                f"Google item ({holder}): a host must never reuse ids (restored from a backup?)"
            ),
        )

    def _record_origins(self, entries: Sequence[Entry[F]]) -> list[Entry[F]]:
        """Record the remote items the host items made since the last record were made from
        (:attr:`ChannelAdapter.origins`) in one write, before the pairs of ``entries``: in
        the same transaction as those (the executor's chunk), so an origin is never recorded
        after its pair; and kept should its pair not be recorded (the host item was made
        from that item all the same). When that write fails, one by one: an entry whose
        origin cannot be recorded fails, unrecorded. Returns the entries to record."""
        origins, self.adapter.origins = self.adapter.origins, {}
        if not origins:
            return list(entries)
        ctx, channel = self.ctx, self.adapter.channel
        try:
            ctx.store.set_origins(ctx.profile.id, channel, origins)
        except FATAL:
            raise
        except Exception as exc:  # each origin's own failure is reported below
            logger.debug("recording %d origins at once failed (%s); one by one", len(origins), exc)
        else:
            return list(entries)
        failed: dict[str, Exception] = {}
        for host_id, remote_id in origins.items():
            try:
                ctx.store.set_origin(ctx.profile.id, channel, host_id, remote_id)
            except FATAL:
                raise
            except Exception as exc:
                failed[host_id] = exc
        for action, row in entries:
            if row.host_id in failed:
                self._fail(action, failed[row.host_id])
        return [(action, row) for action, row in entries if row.host_id not in failed]

    def _recorded(
        self, action: Action[F], row: MappingRow, tally: Counter[tuple[Side, str]]
    ) -> None:
        """Log a recorded pair and tally what it counts as (what an update wrote was counted
        when it was written)."""
        if isinstance(action, CreateRemote):
            op = "restored" if action.restore else "created"
            channel = self.adapter.channel.value
            logger.info("%s remote %s %s for %s", op, channel, row.remote_id, row.host_id)
            tally[Side.REMOTE, op] += 1
            self._tell(action)
        elif isinstance(action, CreateHost):
            tally[Side.HOST, "updated" if row.host_id in self.existing_hosts else "created"] += 1
        elif isinstance(action, Link):
            landed = self.landed
            if isinstance(landed, Update) and landed.to_remote and landed.fields == action.fields:
                tally[Side.REMOTE, "updated"] += 1  # the remote is as the refused write asked
                self._tell(landed)
                return
            self.ctx.report.counts["adopted" if action.adopted else "linked"] += 1

    def _commit(
        self, row: MappingRow, replaces: str | None = None, action: Action[F] | None = None
    ) -> None:
        """Record ``row`` (and drop the intent of its item, and the pair it takes over); with
        ``action``, log and count it as :meth:`_recorded` does."""
        ctx = self.ctx
        channel = self.adapter.channel
        with ctx.store.transaction():
            if replaces is not None:
                ctx.store.delete_mapping(ctx.profile.id, channel, replaces)
                self._origin_follows(row, replaces)
            ctx.store.put_mapping(row)
            ctx.store.remove_pending(ctx.profile.id, channel, row.host_id)
        self.adapter.journal.recorded(row.host_id)
        if action is not None:
            tally: Counter[tuple[Side, str]] = Counter()
            self._recorded(action, row, tally)
            self._count_all(tally)

    def _origin_follows(self, row: MappingRow, replaces: str) -> None:
        """``row``'s host item takes over the pair of ``replaces``: when the host says it was
        made from the pair's remote item (its origin names it: a client made again from the
        Google user's contact, which takes the pair of the client the host lost back), that
        is recorded for it, as for any host item made from a remote item (the channel's
        :attr:`~calsync.engine.channel.ChannelAdapter.origins`), and the lost one's is
        dropped: else the remote user's own item would be taken for calsync's, and deleted
        with the host item."""
        adapter = self.adapter
        if not adapter.records_origins:
            return
        host = adapter.host_record_of(row.host_id, self.snapshot)
        if host is None or host.origin != row.remote_id:
            return
        origins = {row.host_id: row.remote_id, replaces: None}
        self.ctx.store.set_origins(self.ctx.profile.id, adapter.channel, origins)

    def _row(
        self,
        host_id: str,
        remote_id: str,
        kind: RecordKind,
        fields: F,
        host_revision: str | None,
        etag: str | None,
    ) -> MappingRow:
        return MappingRow(
            profile_id=self.ctx.profile.id,
            channel=self.adapter.channel,
            host_id=host_id,
            remote_id=remote_id,
            kind=kind,
            base=self.adapter.journal.encoded(host_id, fields),
            host_revision=host_revision,
            remote_etag=etag,
            synced_at=self.ctx.now,
        )

    def _delete_mapping(self, host_id: str) -> None:
        self.ctx.store.delete_mapping(self.ctx.profile.id, self.adapter.channel, host_id)

    # -- reporting -----------------------------------------------------------------------

    def _guarded(self, action: Action[F], step: Callable[[], None]) -> None:
        try:
            step()
        except FATAL:
            raise
        except Exception as exc:
            self._fail(action, exc)

    def _fail(self, action: Action[F], error: BaseException) -> None:
        self.failed += 1
        item = action.remote_id if isinstance(action, CreateHost) else action.host_id
        message = str(error) or type(error).__name__
        logger.warning("could not %s: %s", action.describe(), message)
        self.ctx.report.errors.append(
            ItemError(
                self.adapter.channel,
                item,
                action.describe(),
                message,
                transient=isinstance(error, TransientError),
            )
        )

    def _progress(self, count: int) -> None:
        self.done += count
        progress = self.ctx.progress
        if progress is not None and not self.replanning:
            progress(self.ctx.profile.id, self.adapter.channel.value, self.done, self.total)

    def _count(self, side: Side, operation: str, count: int = 1) -> None:
        self.ctx.report.counts[f"{side.value}.{operation}"] += count
        self.ctx.report.channel_counts[
            f"{self.adapter.channel.value}.{side.value}.{operation}"
        ] += count

    def _count_all(self, tally: Counter[tuple[Side, str]]) -> None:
        for (side, operation), count in tally.items():
            self._count(side, operation, count)

    def _tell(self, action: CreateRemote[F] | Update[F] | DeleteRemote) -> None:
        """Tell the news of ``action`` (:class:`~calsync.engine.actions.News`), now that its
        write is done."""
        if action.news is not None:
            self.ctx.report.warnings.append(action.news.told())

    def _note_conflicts(self, actions: Sequence[Action[F]]) -> None:
        for action in actions:
            if not isinstance(action, Update):
                continue
            for resolved in action.conflicts:
                conflict = resolved.conflict
                self.ctx.report.conflicts.append(
                    ConflictNote(
                        self.adapter.channel,
                        conflict.item_id,
                        conflict.field,
                        display(conflict.host),
                        display(conflict.remote),
                        resolved.winner,
                    )
                )

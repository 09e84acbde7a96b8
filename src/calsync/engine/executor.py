"""The executor: performs a plan, one item at a time, recording each result at once.

* Remote writes go out in batches (``batch_size``); the results of a batch are committed to the
  state store together as soon as they are known, with the intents of the next batch's
  creates (one transaction a batch, and one per ``LOCAL_CHUNK`` host writes), so a crash loses
  at most the in-flight batch — and deterministic ids, journaled intents and idempotent host
  creates make replaying it safe.
* Per-item failures are reported and never stop the run. Failures that concern the whole
  profile (:class:`~calsync.errors.AuthError`, :class:`~calsync.errors.CalendarGone`) stop it.
* A remote precondition failure (the item changed since it was read), or a "not found"
  answering an update or a delete (the item is gone since it was read), re-reads the item and
  plans that item again, once; a re-read that finds nothing confirms the item is gone, and
  the deletion rules apply. The deletions such re-reads find are weighed together, with the
  plan's own, against the mass-deletion hold at the end of the run.
* A host item deleted because its remote item was, after the studio changed it since the
  last sync (the change was on its way to Google), is named in the report's warnings: the
  change went with the item.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeGuard

from calsync.backends import WriteResult
from calsync.engine.actions import (
    Action,
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Forget,
    Link,
    Update,
)
from calsync.engine.channel import ChannelAdapter
from calsync.engine.context import FATAL, H, HostWrite, R
from calsync.engine.fields import encode_base, field_names
from calsync.engine.planner import plan
from calsync.engine.recording import Entry, Recording
from calsync.engine.records import F, RemoteRecord, Snapshot
from calsync.engine.report import HeldDeletion
from calsync.errors import NotFound, PreconditionFailed
from calsync.model import Channel, RecordKind
from calsync.policies import Side
from calsync.state.base import MappingHead, MappingRow

__all__ = ["Executor", "needs_remote_write", "writes_host"]

logger = logging.getLogger(__name__)


def writes_host(action: Action[Any]) -> bool:
    """Whether ``action`` writes to the host."""
    return isinstance(action, CreateHost | DeleteHost) or (
        isinstance(action, Update) and bool(action.to_host)
    )


def needs_remote_write(action: Action[F]) -> bool:
    """True when ``action`` writes to the remote side."""
    if isinstance(action, Update):
        return action.to_remote
    return isinstance(action, CreateRemote | DeleteRemote)


def _plain_create(action: Action[F]) -> TypeGuard[CreateRemote[F]]:
    """A remote create that takes no other pair over: recorded with the batch's others."""
    return isinstance(action, CreateRemote) and action.replaces is None


#: How a warning names a schedule item of each kind.
_KIND_NAMES = {RecordKind.UNLINKED: "unlinked appointment"}

#: Host writes and bookkeeping committed together (a crash loses at most that many records,
#: which the next run finds again: host creates are idempotent per origin).
LOCAL_CHUNK = 200


def _deferrable(action: Action[F]) -> bool:
    """True when ``action`` is recorded by putting one row and nothing else (no pair taken
    over, no row deleted): such rows are put together, at the end of their chunk."""
    if isinstance(action, CreateHost):
        return True
    return isinstance(action, Link | Update) and action.replaces is None


def _refused(action: Action[F], error: BaseException) -> bool:
    """Whether ``error`` says the remote item changed, or went, since it was read: the item
    is read again and planned afresh (a "not found" may answer only an item's own write: a
    gone calendar is :class:`~calsync.errors.CalendarGone`, which stops the run)."""
    if isinstance(error, PreconditionFailed):
        return True
    return isinstance(error, NotFound) and isinstance(action, Update | DeleteRemote)


def _of(actions: Sequence[Action[F]], kind: type) -> int:
    return sum(type(action) is kind for action in actions)


def _taken(actions: list[Action[F]], size: int) -> Iterator[list[Action[F]]]:
    """``actions`` in order, ``size`` at a time, each batch taken out of the list as it is
    handed out (so the list no longer holds what was done)."""
    actions.reverse()
    while actions:
        batch = actions[-size:]
        del actions[-size:]
        batch.reverse()
        yield batch


class Executor(Recording[F, H, R]):
    """Applies the actions of one channel's plan."""

    def __init__(
        self,
        adapter: ChannelAdapter[F, H, R],
        mapping: Mapping[str, MappingHead],
        snapshot: Snapshot[F],
        *,
        replanning: bool = False,
        landed: Update[F] | DeleteRemote | None = None,
        track_host_reached: bool = False,
    ) -> None:
        self.adapter = adapter
        #: note where each chunk of host writes took the host's feed, with its pairs
        self.track_host_reached = track_host_reached
        self.ctx = adapter.ctx
        self.replanning = replanning
        self.landed = landed
        self.failed = self.done = self.total = 0
        self.existing_hosts: set[str] = set()
        self.mapping = mapping
        self.snapshot: Snapshot[F] = snapshot
        #: the plan's deletions of each kind, and those found by re-reads after a refused write
        self.planned_deletions: Counter[type] = Counter()
        self.late: list[DeleteHost | DeleteRemote] = []
        #: the late deletions held as a mass deletion: recorded with the plan's held ones, so
        #: that the user's confirmation of what this run reported lets them through
        self.late_held: list[DeleteHost | DeleteRemote] = []

    def run(self, actions: list[Action[F]]) -> None:
        """Perform ``actions``, emptying the list; failures are counted in ``self.failed``
        and reported.

        Each batch is let go once done, with the host records of the items it created: the
        memory of a large plan (an initial sync plans an action per item) goes back while it
        is carried out instead of after.
        """
        self._note_conflicts(actions)
        self.total = len(actions)
        self.planned_deletions.update(
            type(a) for a in actions if isinstance(a, DeleteHost | DeleteRemote)
        )
        remote = [a for a in actions if needs_remote_write(a)]
        local = [a for a in actions if not needs_remote_write(a)]
        actions.clear()
        size = self.ctx.batch_size or self.adapter.remote_batch_size
        batches = _taken(remote, max(1, size))
        batch, journaled = next(batches, None), False
        while batch is not None:
            self.ctx.go_on()
            upcoming = next(batches, None)
            journaled = self._remote_batch(batch, upcoming, journaled)
            self._let_go(batch)
            batch = upcoming
        for chunk in _taken(local, LOCAL_CHUNK):
            self.ctx.go_on()
            with self.ctx.store.transaction():  # one commit per chunk, not per item
                deferred: list[Entry[F]] = []  # the pairs recorded together, in one write
                for action in chunk:
                    self._guarded(action, partial(self._local, action, deferred))
                    self._progress(1)
                self._record(deferred)
                if self.track_host_reached and any(writes_host(a) for a in chunk):
                    self.adapter.note_host_reached()
        self._settle_late()

    def _let_go(self, batch: Sequence[Action[F]]) -> None:
        """Drop the host records of the items a done batch created (a create is never
        re-planned, so nothing reads them again)."""
        for action in batch:
            if isinstance(action, CreateRemote):
                self.snapshot.host.pop(action.host_id, None)

    # -- remote writes -------------------------------------------------------------------

    def _remote_batch(
        self, batch: Sequence[Action[F]], upcoming: Sequence[Action[F]] | None, journaled: bool
    ) -> bool:
        """Write one batch and record its results. Its creates' intents are journaled before
        it is sent: with the previous batch's results (``journaled``), or on their own. The
        results are recorded in one commit, with the intents of the ``upcoming`` batch: one
        commit a batch, and still none sent before its intents are stored. Returns whether
        the upcoming batch's intents were journaled."""
        if not journaled:
            self.adapter.journal.record(batch)
            self.ctx.go_on()  # (storing the intents took a while: the lease may be gone)
        try:
            with self.ctx.remote_writes():  # checked again right before each request
                results = self.adapter.write_remote(batch)
        except FATAL:
            raise
        except Exception as exc:  # the whole batch failed: every item in it is retried later
            for action in batch:
                self._fail(action, exc)
            return False
        finally:
            self._progress(len(batch))
        ahead = False
        with self.ctx.store.transaction():  # the batch's results: one commit
            fatal = self._record_results(batch, results)
            if fatal is None and upcoming is not None:
                ahead = self._journal_ahead(upcoming)
        if fatal is not None:  # raised once what came before it is recorded
            raise fatal
        return ahead

    def _journal_ahead(self, batch: Sequence[Action[F]]) -> bool:
        """Journal the intents of ``batch`` in the open transaction; when that fails, the
        results recorded before it stay, and the batch journals on its own before it is
        sent (where a failure is the run's)."""
        try:
            with self.ctx.store.transaction():
                self.adapter.journal.record(batch)
        except FATAL:
            raise
        except Exception as exc:
            logger.debug("journaling the next batch with these results failed: %s", exc)
            return False
        return True

    def _record_results(
        self, batch: Sequence[Action[F]], results: Sequence[WriteResult[R]]
    ) -> BaseException | None:
        """Record each result; the first error that concerns the whole profile stops it and is
        returned (so the transaction keeps what was recorded before it). The pairs of the
        items the batch created are recorded together, at the end."""
        created: list[Entry[F]] = []
        try:
            for action, result in zip(batch, results, strict=True):
                if result.error is None:
                    if _plain_create(action) and result.item is not None:
                        created.append((action, self._created_row(action, result.item)))
                    else:
                        self._guarded(action, partial(self._after_remote, action, result.item))
                elif isinstance(result.error, FATAL):
                    return result.error
                elif _refused(action, result.error) and not self.replanning:
                    self._guarded(action, partial(self._replan, action))
                else:
                    self._fail(action, result.error)
        except FATAL as exc:
            return exc
        finally:
            self._record(created)
        return None

    def _created_row(self, action: CreateRemote[F], item: R) -> MappingRow:
        """The row that records the pair of a created item."""
        return self._row(
            action.host_id, item.id, action.kind, action.fields, action.host_revision, item.etag
        )

    def _after_remote(self, action: Action[F], item: R | None) -> None:
        channel = self.adapter.channel.value
        if isinstance(action, CreateRemote | Update):
            if item is None:
                raise TypeError(f"the backend returned no item for: {action.describe()}")
            # the written item's id and etag are all its record is needed for
            if isinstance(action, Update):
                logger.info("updated remote %s %s", channel, item.id)
                self._count(Side.REMOTE, "updated")
                self._tell(action)  # the remote write its news is about is done
                self._finish_update(action, item.etag)
                return
            self._commit(self._created_row(action, item), action.replaces, action)
        elif isinstance(action, DeleteRemote):
            # a kept contact is not deleted: it is updated, out of the group
            verb = "unlabelled" if action.keep else "deleted"
            logger.info("%s remote %s %s", verb, channel, action.remote_id)
            self._delete_mapping(action.host_id)
            self._count(Side.REMOTE, "updated" if action.keep else "deleted")
            self._tell(action)

    def _replan(self, action: Action[F]) -> None:
        """The remote item changed, or went, under us: read it again and plan this one item
        afresh. A read that finds nothing confirms that it is gone (as a read confirms an
        absence from a full listing): the deletion rules apply to it now, rather than the
        write failing in every run until a full listing finds it gone."""
        if not isinstance(action, Update | DeleteRemote):
            raise TypeError(f"only updates and deletes are replanned: {action.describe()}")
        host_id, remote_id = action.host_id, action.remote_id
        replaces = action.replaces if isinstance(action, Update) else None
        row = self.mapping.get(host_id) or (self.mapping.get(replaces) if replaces else None)
        remote = self.adapter.fetch_remote(remote_id)
        if remote is None:
            remote = RemoteRecord(remote_id, "", None, deleted=True)
        host = self.adapter.host_record_of(host_id, self.snapshot)
        mini = Snapshot(
            host={host_id: host} if host is not None else {},
            host_deleted=self.snapshot.host_deleted & {host_id},
            remote={remote_id: remote},
        )
        mapping = {row.host_id: row} if row is not None else {}
        retry = plan(mini, mapping, self.adapter.rules(), confirm_deletions=True)
        actions = [a for a in retry.actions if not self._found_late(action, a)]
        logger.info("re-planned %s after a remote change: %d action(s)", host_id, len(actions))
        # a write sent again (its first answer lost) finds the remote as it asked: it is
        # counted as that write, not as a link or a forgotten pair
        executor = Executor(self.adapter, mapping, mini, replanning=True, landed=action)
        executor.run(actions)
        self.failed += executor.failed

    def _found_late(self, refused: Action[F], action: Action[F]) -> bool:
        """Whether ``action`` is a deletion the re-read after ``refused`` found (not the one
        ``refused`` was, which the plan's mass-deletion hold weighed): such deletions are
        kept for the end of the run (:meth:`_settle_late`), which weighs them together."""
        if not isinstance(action, DeleteHost | DeleteRemote):
            return False
        if isinstance(refused, DeleteRemote) and isinstance(action, DeleteRemote):
            return False  # the refused deletion itself, planned again
        self.late.append(action)
        return True

    def _settle_late(self) -> None:
        """Carry out the deletions the re-reads found, unless they are a mass deletion with
        the plan's own of their side: then they are held, as the plan's would be, and the
        cursors stay (they count as failed), so that the next run finds them again. Carried
        out as each was found, deletions made remotely while a run writes would never be
        held."""
        late, self.late = self.late, []
        if not late:
            return
        rules = self.adapter.rules().deletion_rules
        mapped = self.ctx.store.count_mappings(self.ctx.profile.id, self.adapter.channel)
        held_kinds = {
            kind
            for kind in {type(a) for a in late}
            if rules.holds(self.planned_deletions[kind] + _of(late, kind), mapped)
        }
        for action in late:
            if type(action) in held_kinds:
                self._hold(action)
        due: list[Action[F]] = [a for a in late if type(a) not in held_kinds]
        if due:
            executor = Executor(self.adapter, self.mapping, self.snapshot, replanning=True)
            executor.run(due)
            self.failed += executor.failed

    def _hold(self, action: DeleteHost | DeleteRemote) -> None:
        self.failed += 1  # (the cursors stay: the next run finds it again)
        logger.info("held: %s", action.describe())
        self.ctx.report.held.append(HeldDeletion.of(action))
        self.late_held.append(action)

    # -- host-side and bookkeeping actions -----------------------------------------------

    def _local(self, action: Action[F], deferred: list[Entry[F]]) -> None:
        """Perform a host-side or bookkeeping action. The row of a pair is put with the
        chunk's others (``deferred``); a write of another kind first puts those before it,
        so the store sees the writes in the plan's order."""
        if not _deferrable(action):
            self._record(deferred)
        if isinstance(action, Update):
            self._finish_update(action, action.etag, deferred)
        elif isinstance(action, CreateHost):
            written = self.adapter.create_host(action)
            logger.info("created host item %s from remote %s", written.host_id, action.remote_id)
            if written.view != action.fields:
                written = self._bring_up_to_date(action, written)
            row = self._row(
                written.host_id,
                action.remote_id,
                written.kind,
                action.fields,
                written.revision,
                action.etag,
            )
            deferred.append((action, row))
        elif isinstance(action, DeleteHost):
            self.adapter.delete_host(action)
            logger.info("deleted host item %s", action.host_id)
            self._delete_mapping(action.host_id)
            self._count(Side.HOST, "deleted")
            self._tell_lost_change(action)
        elif isinstance(action, Link):
            row = self._row(
                action.host_id,
                action.remote_id,
                action.kind,
                action.fields,
                action.host_revision,
                action.etag,
            )
            if action.replaces is None:
                deferred.append((action, row))
            else:
                self._commit(row, action.replaces, action)
        elif isinstance(action, Forget):
            self._delete_mapping(action.host_id)
            landed = self.landed
            if isinstance(landed, DeleteRemote) and landed.host_id == action.host_id:
                self._count(Side.REMOTE, "updated" if landed.keep else "deleted")
                self._tell(landed)  # the item is gone from the remote, as the deletion asked
            else:
                self.ctx.report.counts["forgotten"] += 1

    def _tell_lost_change(self, action: DeleteHost) -> None:
        """Warn when the schedule item just deleted (its Google event was deleted, and the
        deletion rules delete it in the studio too) had been changed in the studio since the
        last sync: that change is gone with it, and the user should know. (A client is only
        taken out of the sync group: nothing of it is lost.)"""
        if self.adapter.channel is not Channel.CALENDAR:
            return
        host = self.snapshot.host.get(action.host_id)
        row = self.mapping.get(action.host_id)
        if host is None or not isinstance(row, MappingRow):  # (a head: no base to tell by)
            return
        if host.revision is not None and host.revision == row.host_revision:
            return
        if encode_base(host.view) == row.base:
            return
        kind = _KIND_NAMES.get(action.kind, action.kind.value)
        named = action.name or action.host_id
        self.ctx.report.warnings.append(
            f"the {kind} {named} was changed in the studio, but its Google event is gone "
            "(deleted in Google): it has been deleted in the studio, and the change with it"
        )

    def _bring_up_to_date(self, action: CreateHost[F], written: HostWrite[F]) -> HostWrite[F]:
        """The host answered a create with other content than the remote item's: a host that
        already had the item (creates are idempotent per origin: its pair was forgotten, say,
        and the remote item edited since) answers with what it holds. That is brought to the
        remote item's content now; sent back as the host's, it would undo the remote edit. A
        host that stores the content otherwise (truncated, reformatted) still differs after,
        and sends its version out once, next run (its revision is not trusted)."""
        to_host = frozenset(
            name
            for name in field_names(type(action.fields))
            if getattr(written.view, name) != getattr(action.fields, name)
        )
        update = Update(
            action.channel,
            written.host_id,
            action.remote_id,
            written.kind,
            action.fields,
            False,
            to_host,
            action.etag,
            written.revision,
        )
        brought = self.adapter.update_host(update)
        if brought.view == action.fields:  # it was the host's already: an update, no create
            logger.info(
                "host item %s was brought up to remote %s", brought.host_id, action.remote_id
            )
            self.existing_hosts.add(brought.host_id)
        return brought

    def _finish_update(
        self, action: Update[F], etag: str | None, deferred: list[Entry[F]] | None = None
    ) -> None:
        revision = action.host_revision
        kind = action.kind
        if action.to_host:
            written: HostWrite[F] = self.adapter.update_host(action)
            revision, kind = written.revision, written.kind
            logger.info(
                "updated host item %s (%s)", action.host_id, ", ".join(sorted(action.to_host))
            )
            self._count(Side.HOST, "updated")
        row = self._row(action.host_id, action.remote_id, kind, action.fields, revision, etag)
        if deferred is not None and action.replaces is None:
            deferred.append((action, row))
        else:
            self._commit(row, action.replaces)

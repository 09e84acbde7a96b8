"""The engine's entry point: sync one profile, both channels, and report.

    engine = SyncEngine(store, schedule_source, contact_source)
    report = engine.sync(profile, calendar_backend, contacts_backend)

A run is snapshot → plan → apply → report, per channel. ``dry_run=True`` stops after the plan
and writes nothing (not even state). ``confirm_deletions=True`` lets through the deletions
the mass-deletion rule held back on the last run, and only those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from calsync.backends import CalendarBackend, ContactsBackend
from calsync.engine.actions import DeleteHost, DeleteRemote
from calsync.engine.calendar import CalendarSync
from calsync.engine.channel import ChannelAdapter
from calsync.engine.contacts import ContactsSync
from calsync.engine.context import H, MappingLoader, Progress, R, RunContext
from calsync.engine.executor import Executor, writes_host
from calsync.engine.planner import Plan, plan
from calsync.engine.plans import deletion_key
from calsync.engine.records import F
from calsync.engine.report import HeldDeletion, SyncReport, would_count
from calsync.errors import AccessNotGranted, AuthError, CalendarGone, TransientError
from calsync.policies import Side
from calsync.profile import SyncProfile
from calsync.sources import ContactSource, ScheduleSource
from calsync.state.base import StateStore
from calsync.wording import DEFAULT_WORDING

__all__ = ["SyncEngine"]

logger = logging.getLogger(__name__)

# the host's screens are named in calsync.wording, the one place for them; the processor
# swaps these defaults for the host's own wording
REAUTHORISE = DEFAULT_WORDING.reauthorise
CALENDAR_GONE = DEFAULT_WORDING.calendar_gone


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    """Syncs profiles of one host.

    Args:
        store: where sync state lives.
        schedule: the host's schedules.
        contacts: the host's client groups (needed for profiles with contact sync on).
        clock: returns the current time (aware); injectable for tests.
        batch_size: remote writes per batch (and per state commit); by default each
            backend's own ``batch_size`` (50 calendar writes, 200 Google contacts).
        progress: called as ``progress(profile_id, channel, done, total)`` while a run
            applies its actions (for progress bars on long initial syncs).
    """

    def __init__(
        self,
        store: StateStore,
        schedule: ScheduleSource,
        contacts: ContactSource | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.schedule = schedule
        self.contacts = contacts
        self.clock = clock
        self.batch_size = batch_size
        self.progress = progress

    def sync(
        self,
        profile: SyncProfile,
        calendar: CalendarBackend | None,
        contacts: ContactsBackend | None = None,
        *,
        dry_run: bool = False,
        confirm_deletions: bool = False,
        checkpoint: Callable[[], None] | None = None,
    ) -> SyncReport:
        """Sync ``profile`` and return what happened. Never raises for sync problems: they are
        in the report (``fatal``, ``errors``, ``needs_reauth``, ``calendar_gone``,
        ``not_authorised``).

        A channel the Google authorisation does not give access to
        (:class:`~calsync.errors.AccessNotGranted`) waits, with a warning saying what the
        user must allow; the other channel syncs, and the run is not failed for it.

        ``confirm_deletions`` lets through the deletions the last run held (``report.held``)
        and only those: what was deleted since is weighed against the mass-deletion limit as
        any run's deletions are, and held again if it exceeds it.

        ``checkpoint`` is called before each batch of writes (to Google, to the host, to the
        state store); it may raise :class:`~calsync.errors.RunStopped` to stop the run there,
        as the processor does when its runner lost the profile's lease. What the run recorded
        before stays recorded."""
        now = self.clock()
        report = SyncReport(profile.id, now, dry_run)
        ctx = RunContext(
            profile,
            self.store,
            report,
            now,
            self.batch_size,
            self.progress,
            dry_run=dry_run,
            checkpoint=checkpoint,
        )
        try:
            for adapter in self._adapters(ctx, calendar, contacts):
                if isinstance(adapter, CalendarSync):
                    self._run_channel(adapter, confirm_deletions)
                else:
                    self._run_channel(adapter, confirm_deletions)
        except AuthError as exc:
            logger.warning("profile %s: authorisation refused: %s", profile.id, exc)
            report.needs_reauth = True
            report.fatal = REAUTHORISE
        report.initial_sync_completed = (
            profile.options.initial_sync_pending
            and not dry_run
            and report.ok
            and not report.held
            and not report.calendar_gone
        )
        report.finished_at = self.clock()
        if dry_run:
            logger.info(
                "profile %s dry run: %d actions planned, %d held, nothing written",
                profile.id,
                report.planned_total,
                len(report.held),
            )
            return report
        logger.info(
            "profile %s synced: %d writes, %d errors, %d held",
            profile.id,
            report.writes,
            len(report.errors),
            len(report.held),
        )
        return report

    def _adapters(
        self,
        ctx: RunContext,
        calendar: CalendarBackend | None,
        contacts: ContactsBackend | None,
    ) -> list[CalendarSync | ContactsSync]:
        adapters: list[CalendarSync | ContactsSync] = []
        profile = ctx.profile
        if profile.calendar_id is not None and calendar is not None:
            adapters.append(CalendarSync(ctx, self.schedule, calendar))
        elif profile.calendar_id is None:
            ctx.report.warnings.append("no Google calendar is chosen: the schedule was not synced")
        if profile.options.contacts:
            if contacts is None or self.contacts is None:
                ctx.report.warnings.append("contact sync is on but no contacts service was given")
            else:
                adapters.append(ContactsSync(ctx, self.contacts, contacts))
        return adapters

    def _run_channel(self, adapter: ChannelAdapter[F, H, R], confirm: bool) -> None:
        ctx, channel = adapter.ctx, adapter.channel
        applying = False
        ctx.go_on()
        try:
            fresh = adapter.prepare()
            rows = MappingLoader(self.store, ctx.profile.id, channel, empty=fresh)
            full = fresh or adapter.needs_full_listing()
            snapshot = adapter.snapshot(rows, full)
            mapping = snapshot.mapping
            # a confirmation lets through what the last run held, and nothing else: what
            # was deleted since is weighed as any run's deletions are
            the_plan = plan(
                snapshot.snapshot,
                mapping,
                adapter.rules(),
                confirm_deletions=adapter.cursors.held() if confirm else False,
                mapped=snapshot.mapped,
            )
            self._note_plan(ctx.report, adapter, the_plan, snapshot.warnings)
            if ctx.dry_run:
                return
            held = [deletion_key(action) for action in the_plan.held]
            adapter.cursors.record_held(held + adapter.held_notes())
            pinned = pinned_cursors(the_plan.held)
            actions = list(the_plan.actions)
            del the_plan  # the executor lets the actions go as it carries them out
            adapter.unsettle_options()
            applying = True
            wrote_host = any(writes_host(action) for action in actions)
            # (a run that found the host gone back and holds what it lost keeps the evidence:
            # where the last writes took the host's feed, until the user confirms)
            keep_evidence = snapshot.snapshot.host_rewound and bool(held)
            executor = Executor(
                adapter, mapping, snapshot.snapshot, track_host_reached=not keep_evidence
            )
            executor.run(actions)
            if executor.late_held or adapter.held_notes():
                # held as the plan's are: a confirmation lets them through
                late = [deletion_key(a) for a in executor.late_held]
                adapter.cursors.record_held(held + late + adapter.held_notes())
            adapter.settle_host_reached(wrote_host, keep_evidence)
        except CalendarGone:
            self._calendar_gone(adapter)
            return
        except AccessNotGranted as exc:  # this channel waits for the user; the other syncs
            self._not_authorised(adapter, exc)
            return
        except AuthError:
            raise
        except Exception as exc:  # a side failed as a whole: report, never crash the run
            logger.warning(
                "profile %s: %s sync failed", ctx.profile.id, channel.value, exc_info=True
            )
            self._channel_failed(adapter, exc, applying)
            return
        clean = executor.failed == 0 and snapshot.read_failures == 0
        ctx.go_on()
        adapter.commit_cursors(
            snapshot,
            advance_host=clean and Side.HOST not in pinned,
            advance_remote=clean and Side.REMOTE not in pinned,
        )
        adapter.journal.finish(full and clean)

    def _note_plan(
        self,
        report: SyncReport,
        adapter: ChannelAdapter[F, H, R],
        the_plan: Plan[F],
        warnings: tuple[str, ...],
    ) -> None:
        report.warnings.extend(warnings)
        report.warnings.extend(the_plan.warnings)
        report.note_planned(the_plan.actions)
        if report.dry_run:
            report.would.update(would_count(the_plan.actions))
        report.held.extend(HeldDeletion.of(action) for action in the_plan.held)

    def _calendar_gone(self, adapter: ChannelAdapter[F, H, R]) -> None:
        ctx = adapter.ctx
        logger.warning("profile %s: the calendar is gone; starting over", ctx.profile.id)
        if not ctx.dry_run:
            adapter.forget()
        ctx.report.calendar_gone = True
        ctx.report.fatal = CALENDAR_GONE

    def _not_authorised(self, adapter: ChannelAdapter[F, H, R], exc: AccessNotGranted) -> None:
        ctx, channel = adapter.ctx, adapter.channel
        logger.info(  # the user's to act on, told in the report: no warning at every run
            "profile %s: %s sync waits for the user to allow it in Google: %s",
            ctx.profile.id,
            channel.value,
            exc,
        )
        ctx.report.not_authorised.append(channel)
        ctx.report.warnings.append(ctx.profile.options.wording.not_authorised(channel))

    def _channel_failed(
        self, adapter: ChannelAdapter[F, H, R], exc: BaseException, applying: bool
    ) -> None:
        ctx = adapter.ctx
        what = adapter.channel.value
        if applying:
            message = f"{what} sync stopped part-way (what was done is kept): {exc}"
        else:
            message = f"{what} sync failed, nothing was changed for it: {exc}"
        logger.warning("profile %s: %s", ctx.profile.id, message)
        ctx.report.fatal = message if ctx.report.fatal is None else f"{ctx.report.fatal}; {message}"
        if isinstance(exc, TransientError):
            ctx.report.unavailable.append(adapter.channel)


def pinned_cursors(held: Iterable[DeleteRemote | DeleteHost]) -> set[Side]:
    """The sides whose cursors held deletions keep where they are, so that the next run reads
    their evidence again: the host's for a remote deletion of a pair (its host item was
    deleted), the remote side's for a host deletion (its remote item was deleted) and for an
    orphan (an unmapped item calsync made, seen in the remote listing)."""
    pinned: set[Side] = set()
    for action in held:
        if isinstance(action, DeleteRemote) and not action.orphan:
            pinned.add(Side.HOST)
        else:
            pinned.add(Side.REMOTE)
    return pinned

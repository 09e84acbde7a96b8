"""The sync processor: keeps every user with sync on in sync, on a schedule.

    processor = SyncProcessor(engine, profiles, connect, notifier=EmailNotifier(smtp))
    runs = processor.run_once()               # one round over every eligible profile
    processor.serve(interval=300)             # rounds until processor.stop()

* Each profile is synced on its own: one profile's failure (authorisation revoked, calendar
  gone, a bug in an adapter) is reported for that profile and never stops the others.
* Two runners never sync the same user at once: a profile is synced under its lease in the
  state store, renewed while the run lasts; a lease left by a crashed runner expires and is
  taken over, and a run whose lease was lost (:class:`~calsync.errors.LeaseLost`) stops
  before its next batch of writes. A scheduled round skips a profile synced successfully by
  anyone within the last half interval, so racing runners sync each profile once per round;
  an explicit
  :meth:`SyncProcessor.run_profile` ("sync now") waits for a run in progress and then runs.
* Profiles run concurrently in a bounded thread pool (one Google connection per run, as
  google-api-python-client's HTTP objects are not thread-safe), sequentially within a profile.
* After a run the processor tells the host what only calsync can know (initial sync done,
  Google account not connected, re-authorisation needed, calendar gone) and sends the user's
  notifications: a problem once when it starts or changes, a reminder a day while it lasts,
  a note when it clears (:mod:`calsync.notices`).
* With push notifications (``push=PushChannels(...)``) the processor is also the
  :class:`~calsync.push.SyncTrigger`: :meth:`SyncProcessor.request_sync` wakes :meth:`serve`,
  which syncs the profile at once. Each run keeps the profile's channel open and renewed;
  while it is healthy the profile is polled only every ``safety_interval`` (a safety net),
  and at the normal ``interval`` as soon as it is not.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from datetime import UTC, datetime, timedelta

import attrs

from calsync.backends import writes_checked_by
from calsync.engine import SyncEngine, SyncReport
from calsync.engine.sync import CALENDAR_GONE, REAUTHORISE
from calsync.errors import (
    AuthError,
    LeaseLost,
    NotConnected,
    RunStopped,
    StateError,
    StateUnavailable,
)
from calsync.leases import HeldLease, ProfileLease
from calsync.model import Channel
from calsync.notices import DEFAULT_REMINDER
from calsync.notify import Notifier
from calsync.outage import Outage, backoff
from calsync.profile import ProfileStore, SyncProfile
from calsync.push.channels import PushChannels
from calsync.push.retire import retire_stale
from calsync.push.trigger import SyncTrigger
from calsync.runs import (
    Connect,
    Connection,
    Outcome,
    ProfileRun,
    send_notice,
    status_after,
    tell_host,
    who,
)
from calsync.schedule import MAX_IDLE, Schedule
from calsync.trace import trace_run

__all__ = ["Connect", "Connection", "ProfileRun", "SyncProcessor"]

logger = logging.getLogger(__name__)

#: The longest ``interval`` a processor takes (seconds): a week.
MAX_INTERVAL = 7 * 24 * 3600.0
#: Seconds :meth:`SyncProcessor.serve` waits after a pass that could not read what is due;
#: doubled after each such pass in a row, up to :data:`MAX_BACKOFF`.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
#: Seconds after which a requested run that met a failing state store is requested again;
#: doubled after each such run in a row, up to ten times as long.
STORE_RETRY = 10.0
#: How far ahead of this runner's clock another runner's record of a run may be and still
#: count as "synced moments ago" (clocks of runners differ a little).
CLOCK_SKEW = timedelta(minutes=5)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_holder() -> str:
    """A runner id unique per host, process and instance."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncProcessor(SyncTrigger):
    """Runs many profiles.

    Args:
        engine: the host's engine (its store holds the leases too).
        profiles: the host's profiles.
        connect: builds the remote side for a profile; a ``StateUnavailable`` it raises (the
            token store unreachable) is the store's trouble, not the user's.
        notifier: tells users about runs (``None``: nobody is told).
        interval: seconds between two syncs of a profile when serving (0 to
            :data:`MAX_INTERVAL`, a week).
        jitter: the fraction by which each profile's interval varies (0.25 = ±25%; at least
            0 and less than 1).
        workers: profiles synced at once.
        lease_ttl: how long a lease lasts without renewal (renewed every third of it); also
            how long an explicit run waits for a run in progress.
        lease_poll: seconds between two tries for a lease another runner holds.
        remind_every: how long a lasting problem goes before the user gets a reminder
            (``None``: never).
        holder: this runner's id (default: host, pid and a random part).
        clock: the current time (aware), injectable for tests.
        push: the profiles' push channels (``None``: polling only).
        safety_interval: seconds between two polls of a profile whose push channel is
            healthy (with ``push``).
    """

    def __init__(
        self,
        engine: SyncEngine,
        profiles: ProfileStore,
        connect: Connect,
        *,
        notifier: Notifier | None = None,
        interval: float = 300.0,
        jitter: float = 0.25,
        workers: int = 4,
        lease_ttl: timedelta = timedelta(minutes=10),
        lease_poll: float = 1.0,
        remind_every: timedelta | None = DEFAULT_REMINDER,
        holder: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
        push: PushChannels | None = None,
        safety_interval: float = 3600.0,
    ) -> None:
        if not 0 <= interval <= MAX_INTERVAL:  # (also refuses NaN)
            raise ValueError(
                f"interval must be a number of seconds from 0 to {MAX_INTERVAL:.0f}, "
                f"not {interval!r}"
            )
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {jitter!r}")
        self.engine = engine
        self.store = engine.store
        self.profiles = profiles
        self.connect = connect
        self.notifier = notifier
        self.interval = interval
        self.jitter = jitter
        self.workers = max(1, workers)
        self.lease_ttl = lease_ttl
        self.lease_poll = lease_poll
        self.remind_every = remind_every
        self.holder = holder or default_holder()
        self.clock = clock
        self._stop = threading.Event()
        # the store's lease keeps other runners out; these keep this runner's own threads from
        # syncing one profile twice at once (a lease is re-entrant for its holder)
        self._syncing: dict[str, threading.Lock] = {}
        self._syncing_lock = threading.Lock()
        self.push = push
        self.safety_interval = safety_interval
        # profile id -> monotonic time from which a requested sync may start
        self._requested: dict[str, float] = {}
        self._wake = threading.Event()
        #: serve()'s runs in progress, by profile id (each ends with when it ended)
        self._running: dict[str, Future[float]] = {}
        #: requested runs that met a failing store in a row, by profile (serve's back-off)
        self._store_failures: dict[str, int] = {}
        self._retiring = Outage(
            "stopping the push channels of profiles that no longer sync",
            first=FIRST_BACKOFF,
            most=MAX_BACKOFF,
            log=logger,
        )

    # -- one round -----------------------------------------------------------------------

    def eligible(self) -> list[SyncProfile]:
        """The profiles to sync: sync on, nothing the user must do first, something to sync
        (:meth:`~calsync.profile.SyncProfile.held_back`)."""
        return [p for p in self.profiles.profiles() if p.held_back() is None]

    def run_once(self) -> dict[str, ProfileRun]:
        """Sync every eligible profile once (concurrently) and return what happened to each.

        A scheduled round: profiles another runner is syncing, or synced successfully within
        the last half interval, are skipped.
        """
        profiles = self.eligible()
        self.retire_push(profiles)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="calsync") as pool:
            runs = list(pool.map(self._scheduled_run, profiles))
        return {run.profile_id: run for run in runs}

    def request_sync(self, profile_id: str) -> None:
        """Sync ``profile_id`` as soon as possible in :meth:`serve` (a change notification).

        The run is not skipped as "synced recently"; a request made while the profile is
        syncing gives one more run after it, so the change is never missed.
        """
        now = time.monotonic()
        with self._syncing_lock:
            self._requested[profile_id] = min(now, self._requested.get(profile_id, now))
            running = profile_id in self._running
        if not running:  # (the end of its run wakes serve(), which then finds the request)
            self._wake.set()

    def _scheduled_run(self, profile: SyncProfile) -> ProfileRun:
        return self.run_profile(profile, scheduled=True)

    def run_profile(
        self,
        profile: SyncProfile,
        *,
        confirm_deletions: bool = False,
        scheduled: bool = False,
        wait: float | None = None,
    ) -> ProfileRun:
        """Sync one profile under its lease. Never raises for a profile's problems.

        An explicit run (the default: "sync now", a confirmation of held deletions) runs now,
        however recently the profile was synced: when a run of the profile is in progress, in
        this processor or at another runner, it waits for that run to end (up to ``wait``
        seconds, by default the lease time) and then runs; two runs of one profile never
        overlap. A scheduled run (``scheduled=True``, as in :meth:`run_once` and
        :meth:`serve`) is skipped instead, and also when the profile was synced successfully
        within the last half interval (a failed run does not count). A profile whose sync is
        off or that has nothing to sync is never run (nor, scheduled, one whose user must act
        first: :meth:`~calsync.profile.SyncProfile.held_back`). A state store failing around
        the run (its lease, the time of the last run) gives a failed run (``report.fatal``)
        that nobody is told about: the store's trouble, not the user's.

        Raises:
            ValueError: ``wait`` is negative, not a number or infinite (never for a profile's
                problems).
        """
        if wait is not None and not 0 <= wait <= threading.TIMEOUT_MAX:  # (also refuses NaN)
            raise ValueError(f"wait must be a number of seconds, 0 or more, not {wait!r}")
        try:
            return self._run_profile(profile, confirm_deletions, scheduled, wait)
        except StateError as exc:
            return self._store_failed(profile, exc)

    def _run_profile(
        self, profile: SyncProfile, confirm: bool, scheduled: bool, wait: float | None
    ) -> ProfileRun:
        """:meth:`run_profile`, raising :class:`~calsync.errors.StateError` when the state
        store fails outside the engine's run (the lease, the last run's time, the notices)."""
        held_back = profile.held_back(status_too=scheduled)
        if held_back is not None:
            return ProfileRun(profile.id, skipped=held_back)
        timeout = self.lease_ttl.total_seconds() if wait is None else wait
        deadline = time.monotonic() + timeout
        with self._syncing_lock:
            guard = self._syncing.setdefault(profile.id, threading.Lock())
        if not guard.acquire(blocking=not scheduled, timeout=-1 if scheduled else timeout):
            return ProfileRun(profile.id, skipped="already being synced by this runner")
        try:
            left = max(0.0, deadline - time.monotonic())
            return self._run_leased(profile, confirm, scheduled, left, timeout)
        finally:
            guard.release()

    def _run_leased(
        self, profile: SyncProfile, confirm: bool, scheduled: bool, left: float, wait: float
    ) -> ProfileRun:
        with self._lease(profile.id, 0.0 if scheduled else left) as held:
            if held is None:
                why = "another runner is syncing this user"
                if not scheduled:
                    why += f" (waited {wait:.0f}s)"
                return ProfileRun(profile.id, skipped=why)
            if scheduled and self._synced_recently(profile.id):
                return ProfileRun(profile.id, skipped="synced moments ago")
            try:
                outcome = self._sync(profile, confirm, held.check)
            except LeaseLost as lost:  # another runner has the profile: not the user's concern
                stopped = self._stopped(profile, lost)
                return ProfileRun(profile.id, stopped.report, stopped=str(lost), lease_lost=True)
            except RunStopped as stop:  # reported and told as any failed run; the lease goes
                outcome = self._stopped(profile, stop)
            if outcome.report.fatal is None:
                self.store.set_last_run(profile.id, self.clock())
            status = tell_host(self.profiles, profile, outcome) or profile.status
            if self.notifier is not None:  # under the lease: two runners never send one notice
                notified = attrs.evolve(profile, status=status)
                send_notice(self.notifier, self.store, notified, outcome, self.clock(),
                            self.remind_every)  # fmt: skip
        return ProfileRun(profile.id, outcome.report, status=status, stopped=outcome.stopped)

    def _store_failed(self, profile: SyncProfile, exc: StateError) -> ProfileRun:
        # the store's trouble, not the user's: nobody is told, the status stays
        store = "token" if isinstance(exc, _TokensUnavailable) else "state"
        logger.warning("profile %s: not synced, the %s store failed: %s", profile.id, store, exc)
        fatal = f"the {store} store failed ({exc}); the next sync tries again"
        return ProfileRun(profile.id, SyncReport(profile.id, self.clock(), fatal=fatal))

    def _stopped(self, profile: SyncProfile, stop: RunStopped) -> Outcome:
        logger.warning("profile %s: the run was stopped before it finished: %s", profile.id, stop)
        fatal = (
            f"the sync was stopped before it finished ({stop}); what it did is kept, and the "
            "next sync goes on from there"
        )
        report = SyncReport(profile.id, self.clock(), fatal=fatal)
        return Outcome(report, "", None, stopped=str(stop))

    def _sync(self, profile: SyncProfile, confirm: bool, checkpoint: Callable[[], None]) -> Outcome:
        switches = profile.options.notifications
        with trace_run(switches.verbose) as trace:
            logger.info("syncing profile %s", profile.id)
            report, connected = self._sync_traced(profile, confirm, checkpoint)
        wording = profile.options.wording
        if report.fatal is not None:  # the engine's words for the host's screens, in the host's
            report.fatal = report.fatal.replace(REAUTHORISE, wording.reauthorise)
            report.fatal = report.fatal.replace(CALENDAR_GONE, wording.calendar_gone)
        return Outcome(
            report,
            trace.text if trace is not None else "",
            status_after(profile, report, connected),
        )

    def _sync_traced(
        self, profile: SyncProfile, confirm: bool, checkpoint: Callable[[], None]
    ) -> tuple[SyncReport, bool | None]:
        """The run's report, and whether the user has a Google account connected (``None``:
        connecting failed for another reason, so nobody knows)."""
        wording = profile.options.wording
        try:
            connection = self.connect(profile)
        except NotConnected:
            logger.warning(
                "profile %s (%s) has sync on but no Google account connected: the user must "
                "connect one in %s",
                profile.id,
                who(profile),
                wording.preferences,
            )
            return SyncReport(profile.id, self.clock(), fatal=wording.not_connected), False
        except AuthError as exc:
            logger.warning("profile %s (%s) cannot authorise: %s", profile.id, who(profile), exc)
            report = SyncReport(profile.id, self.clock(), needs_reauth=True)
            report.fatal = wording.reauthorise
            return report, True
        except StateUnavailable as exc:  # the token store's trouble, not the user's
            raise _TokensUnavailable(str(exc)) from exc
        except Exception as exc:
            logger.exception("profile %s: connecting to Google failed", profile.id)
            return SyncReport(profile.id, self.clock(), fatal=f"could not connect: {exc}"), None
        try:
            report = self.engine.sync(
                profile,
                connection.calendar,
                connection.contacts,
                confirm_deletions=confirm,
                checkpoint=checkpoint,
            )
        except Exception as exc:  # a bug: report it for this profile and go on
            logger.exception("profile %s: sync crashed", profile.id)
            report = SyncReport(profile.id, self.clock(), fatal=f"internal error: {exc!r}")
        else:
            if (
                self.push is not None
                and connection.calendar is not None
                and not report.needs_reauth
                and Channel.CALENDAR not in report.not_authorised  # (no watch allowed either)
            ):
                checkpoint()  # the channel's upkeep is under the lease too, each request
                with writes_checked_by(checkpoint):
                    self.push.maintain(
                        profile, connection.calendar, calendar_gone=report.calendar_gone
                    )
        finally:
            if connection.close is not None:
                with suppress(Exception):
                    connection.close()
        return report, True

    def _synced_recently(self, profile_id: str) -> bool:
        last = self.store.get_last_run(profile_id)
        if last is None:
            return False
        # a last run ahead of this clock (set back, or another runner's running fast) is not
        # recent beyond the skew runners may have: else every run would be skipped until then
        since = self.clock() - last
        return -CLOCK_SKEW <= since < timedelta(seconds=self.interval / 2)

    def _lease(self, profile_id: str, wait: float) -> AbstractContextManager[HeldLease | None]:
        lease = ProfileLease(self.store, self.holder, self.lease_ttl, self.clock, self.lease_poll)
        return lease.hold(profile_id, wait)

    # -- serving -------------------------------------------------------------------------

    def serve(self, *, rounds: int | None = None) -> None:
        """Sync every eligible profile every ``interval`` (± jitter) until :meth:`stop`.

        Each profile has its own due time, first spread over ``jitter * interval`` and then
        re-drawn after every run, so users are not all synced at the same second. A profile
        whose push channel is healthy is due every ``safety_interval`` instead, or when its
        channel needs renewal; a requested profile (:meth:`request_sync`) is synced at once,
        or as soon as one of the ``workers`` is free: each run is started on its own, so one
        user's long run never holds up another's. A profile is never run twice at once.

        A pass that cannot read what is due (the state store or the host's profiles
        unreachable) is logged once and tried again after a back-off (:data:`FIRST_BACKOFF`
        seconds, doubling up to :data:`MAX_BACKOFF`) until it works; serving goes on.
        Profiles ready at once start in the order they have waited: a scheduled profile due
        since before a request came starts first, so a user whose calendar keeps asking for
        syncs never holds the others back.

        ``rounds`` stops after that many rounds (for tests and one-shot jobs), once their runs
        have ended: a round is every profile ready when it began, each started once (however
        many passes that takes when they outnumber the workers). :meth:`stop` too lets the
        runs in progress end.
        """
        schedule = Schedule(self.interval, self.jitter)
        running = self._running  # (changed under the lock: request_sync reads it)
        outage = Outage(
            "serving (reading the profiles and their push channels)",
            first=FIRST_BACKOFF,
            most=MAX_BACKOFF,
            log=logger,
        )
        passes = 0
        round_left: set[str] | None = None  # the profiles of this round not started yet
        with ThreadPoolExecutor(self.workers, thread_name_prefix="calsync") as pool:
            while not self._stop.is_set():
                self._wake.clear()
                for profile_id in [pid for pid, run in running.items() if run.done()]:
                    with self._syncing_lock:
                        ended = running.pop(profile_id)
                    schedule.ran(profile_id, ended.result())
                try:
                    ready, wake_at, eligible = self._pass(schedule, set(running))
                except Exception as exc:  # the store or the host failed: tried again, later
                    self._stop.wait(outage.failed(exc))
                    continue
                outage.over()
                start = ready[: self.workers - len(running)]
                self._take_requests({p.id for p, requested in start if requested})
                for profile, requested in start:
                    run = pool.submit(self._run_due, profile, requested)
                    with self._syncing_lock:
                        running[profile.id] = run
                    run.add_done_callback(lambda _: self._wake.set())
                if round_left is None and ready:
                    round_left = {p.id for p, _ in ready}
                if round_left is not None:
                    round_left &= eligible
                    round_left -= {p.id for p, _ in start}
                    if not round_left:
                        round_left = None
                        passes += 1
                        if rounds is not None and passes >= rounds:
                            break
                timeout = min(MAX_IDLE, max(0.01, wake_at - time.monotonic()))
                self._wake.wait(timeout)
        with self._syncing_lock:  # (every run has ended with the pool)
            running.clear()

    def _pass(
        self, schedule: Schedule, running: set[str]
    ) -> tuple[list[tuple[SyncProfile, bool]], float, set[str]]:
        """The profiles ready to start, longest waiting first (each with whether it was
        requested), when the next one not ready is due (monotonic), and the ids of the
        eligible profiles. Reads the host's profiles and the state store."""
        now = time.monotonic()
        profiles = self.eligible()
        try:
            self.retire_push(profiles)
        except Exception as exc:  # stopping old channels never holds up the syncs
            self._retiring.failed(exc)
        else:
            self._retiring.over()
        idle = [p for p in profiles if p.id not in running]
        due = {p.id: self._due(p, schedule, now) for p in idle}
        asked = self._requests(now, {p.id for p in profiles})
        requested = {pid for pid, at in asked.items() if at <= now and pid in due}
        ready = [p for p in idle if p.id in requested or due[p.id] <= now]
        # waiting since it was due, or since it was asked for when that came first
        ready.sort(key=lambda p: min(due[p.id], asked[p.id]) if p.id in requested else due[p.id])
        later = [at for pid, at in asked.items() if at > now and pid not in running]
        wake_at = min([at for at in due.values() if at > now] + later, default=now + MAX_IDLE)
        return [(p, p.id in requested) for p in ready], wake_at, {p.id for p in profiles}

    def _run_due(self, profile: SyncProfile, requested: bool) -> float:
        """Run a due or requested profile for :meth:`serve`; returns when it ended
        (monotonic). A requested run (a change notification) is explicit: never skipped as
        "synced recently"; it does not wait for a run in progress, and is requested again a
        second later (or after :data:`STORE_RETRY`, doubling, when a store failed)."""
        try:
            try:
                wait = 0.0 if requested else None
                run = self._run_profile(profile, False, not requested, wait)
            except StateError as exc:
                self._store_failed(profile, exc)
                failures = self._store_failures.get(profile.id, 0) + 1
                self._store_failures[profile.id] = failures
                if requested:
                    wait = backoff(failures, STORE_RETRY, 10 * STORE_RETRY)
                    self._request_later(profile.id, wait)
            else:
                self._store_failures.pop(profile.id, None)
                if requested and run.report is None:  # another run had the profile
                    self._request_later(profile.id, 1.0)
        except Exception:  # a bug: this profile's, never the serving loop's
            logger.exception("profile %s: the run failed", profile.id)
        return time.monotonic()

    def _due(self, profile: SyncProfile, schedule: Schedule, now: float) -> float:
        """When the profile is due (monotonic seconds)."""
        if self.push is None:
            return schedule.due(profile.id, now, self.interval)
        last = schedule.last.get(profile.id)
        polling = self.push.polling(profile, last_run=last, now=now, interval=self.interval,
                                    safety_interval=self.safety_interval)  # fmt: skip
        due = schedule.due(profile.id, now, polling.every)
        # channel upkeep (open, renew, stop) comes first
        return due if polling.upkeep_at is None else min(due, polling.upkeep_at)

    def _requests(self, now: float, eligible: set[str]) -> dict[str, float]:
        """The requests waiting, by profile id; due ones of profiles not eligible are
        dropped (sync turned off: nothing to run)."""
        with self._syncing_lock:
            for pid in [p for p, at in self._requested.items() if at <= now]:
                if pid not in eligible:
                    del self._requested[pid]
            return dict(self._requested)

    def _take_requests(self, profile_ids: set[str]) -> None:
        with self._syncing_lock:
            for pid in profile_ids:
                self._requested.pop(pid, None)

    def _request_later(self, profile_id: str, delay: float) -> None:
        with self._syncing_lock:
            self._requested.setdefault(profile_id, time.monotonic() + delay)

    def retire_push(self, eligible: list[SyncProfile], *, within: str = "") -> None:
        """Stop the push channels of profiles that no longer sync a calendar (sync off, a
        status that stops them, no calendar, or gone from the host). Only channels of
        profile ids starting with ``within`` are this processor's (one tenant's, where
        several share a state store)."""
        if self.push is not None:
            retire_stale(self.push, self.profiles, self.connect, eligible, within=within)

    def stop(self) -> None:
        """Ask :meth:`serve` to stop after the runs in progress."""
        self._stop.set()
        self._wake.set()


class _TokensUnavailable(StateUnavailable):
    """The token store failed as ``connect`` read a profile's credentials."""

"""The sync processor: keeps every user with sync on in sync, on a schedule.

    processor = SyncProcessor(engine, profiles, connect, notifier=EmailNotifier(smtp))
    runs = processor.run_once()               # one round over every eligible profile
    processor.serve(interval=300)             # rounds until processor.stop()

* Each profile is synced on its own: one profile's failure (authorisation revoked, calendar
  gone, a bug in an adapter) is reported for that profile and never stops the others.
* Two runners never sync the same user at once: a profile is synced under its lease in the
  state store, renewed while the run lasts; a lease left by a crashed runner expires and is
  taken over. A profile synced by anyone within the last half interval is skipped, so racing
  runners sync each profile once per round.
* Profiles run concurrently in a bounded thread pool (one Google connection per run, as
  google-api-python-client's HTTP objects are not thread-safe), sequentially within a profile.
* After a run the processor tells the host what only calsync can know (initial sync done,
  re-authorisation needed, calendar gone) and sends the user's notifications.
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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta

from attrs import frozen

from calsync.backends import CalendarBackend, ContactsBackend
from calsync.engine import SyncEngine, SyncReport
from calsync.errors import AuthError
from calsync.notify import Notifier
from calsync.profile import ProfileStatus, ProfileStore, SyncProfile
from calsync.push.channels import PushChannels
from calsync.push.trigger import SyncTrigger
from calsync.schedule import MAX_IDLE, Schedule
from calsync.trace import trace_run

__all__ = ["Connection", "ProfileRun", "SyncProcessor"]

logger = logging.getLogger(__name__)

LAST_RUN = "processor:last_run"


@frozen
class Connection:
    """The remote side for one profile's run. ``close`` is called when the run ends (e.g. to
    write refreshed tokens back)."""

    calendar: CalendarBackend | None
    contacts: ContactsBackend | None = None
    close: Callable[[], None] | None = None


#: Builds the remote side for a profile (raises ``AuthError`` when it cannot authorise).
Connect = Callable[[SyncProfile], Connection]


@frozen
class ProfileRun:
    """What happened to one profile in a round: its report, or why it was skipped."""

    profile_id: str
    report: SyncReport | None = None
    skipped: str | None = None


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
        connect: builds the remote side for a profile.
        notifier: tells users about runs (``None``: nobody is told).
        interval: seconds between two syncs of a profile when serving.
        jitter: the fraction by which each profile's interval varies (0.25 = ±25%).
        workers: profiles synced at once.
        lease_ttl: how long a lease lasts without renewal (renewed every third of it).
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
        holder: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
        push: PushChannels | None = None,
        safety_interval: float = 3600.0,
    ) -> None:
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self.engine = engine
        self.store = engine.store
        self.profiles = profiles
        self.connect = connect
        self.notifier = notifier
        self.interval = interval
        self.jitter = jitter
        self.workers = max(1, workers)
        self.lease_ttl = lease_ttl
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

    # -- one round -----------------------------------------------------------------------

    def eligible(self) -> list[SyncProfile]:
        """The profiles to sync: sync on, nothing the user must do first, something to sync."""
        return [
            p
            for p in self.profiles.profiles()
            if p.enabled
            and p.status is ProfileStatus.OK
            and (p.calendar_id is not None or p.options.contacts)
        ]

    def run_once(self) -> dict[str, ProfileRun]:
        """Sync every eligible profile once (concurrently) and return what happened to each."""
        profiles = self.eligible()
        self.retire_push(profiles)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="calsync") as pool:
            runs = list(pool.map(self.run_profile, profiles))
        return {run.profile_id: run for run in runs}

    def request_sync(self, profile_id: str) -> None:
        """Sync ``profile_id`` as soon as possible in :meth:`serve` (a change notification).

        The run is not skipped as "synced recently"; a request made while the profile is
        syncing gives one more run after it, so the change is never missed.
        """
        now = time.monotonic()
        with self._syncing_lock:
            self._requested[profile_id] = min(now, self._requested.get(profile_id, now))
        self._wake.set()

    def run_profile(
        self, profile: SyncProfile, *, confirm_deletions: bool = False, requested: bool = False
    ) -> ProfileRun:
        """Sync one profile under its lease. Never raises for a profile's problems.

        When this processor is already syncing the profile (a scheduled round and a host's
        call at once), a scheduled run is skipped, while a ``confirm_deletions`` run or a
        ``requested`` one (a change notification) waits for the other to finish, so neither
        the confirmation nor the change is dropped.
        """
        with self._syncing_lock:
            guard = self._syncing.setdefault(profile.id, threading.Lock())
        if not guard.acquire(blocking=confirm_deletions or requested):
            return ProfileRun(profile.id, skipped="already being synced by this runner")
        try:
            return self._run_leased(profile, confirm_deletions, requested)
        finally:
            guard.release()

    def _run_leased(
        self, profile: SyncProfile, confirm_deletions: bool, requested: bool = False
    ) -> ProfileRun:
        with self._lease(profile.id) as held:
            if not held:
                return ProfileRun(profile.id, skipped="another runner is syncing this user")
            if not (confirm_deletions or requested) and self._synced_recently(profile.id):
                return ProfileRun(profile.id, skipped="synced recently by another runner")
            report, trace = self._sync(profile, confirm_deletions)
            self.store.set_cursor(profile.id, LAST_RUN, self.clock().isoformat())
        self._tell_host(profile, report)
        self._notify(profile, report, trace)
        return ProfileRun(profile.id, report)

    def _sync(self, profile: SyncProfile, confirm: bool) -> tuple[SyncReport, str]:
        switches = profile.options.notifications
        with trace_run(switches.verbose) as trace:
            logger.info("syncing profile %s", profile.id)
            report = self._sync_traced(profile, confirm)
        return report, trace.text if trace is not None else ""

    def _sync_traced(self, profile: SyncProfile, confirm: bool) -> SyncReport:
        try:
            connection = self.connect(profile)
        except AuthError as exc:
            logger.warning("profile %s cannot authorise: %s", profile.id, exc)
            report = SyncReport(profile.id, self.clock(), needs_reauth=True)
            report.fatal = "Google refused the saved authorisation: re-authenticate Google"
            return report
        except Exception as exc:
            logger.exception("profile %s: connecting to Google failed", profile.id)
            return SyncReport(profile.id, self.clock(), fatal=f"could not connect: {exc}")
        try:
            report = self.engine.sync(
                profile, connection.calendar, connection.contacts, confirm_deletions=confirm
            )
        except Exception as exc:  # a bug: report it for this profile and go on
            logger.exception("profile %s: sync crashed", profile.id)
            return SyncReport(profile.id, self.clock(), fatal=f"internal error: {exc!r}")
        else:
            if (
                self.push is not None
                and connection.calendar is not None
                and not report.needs_reauth
            ):
                self.push.maintain(profile, connection.calendar, calendar_gone=report.calendar_gone)
            return report
        finally:
            if connection.close is not None:
                with suppress(Exception):
                    connection.close()

    def _synced_recently(self, profile_id: str) -> bool:
        last = self.store.get_cursor(profile_id, LAST_RUN)
        if last is None:
            return False
        gap = self.clock() - datetime.fromisoformat(last)
        return gap < timedelta(seconds=self.interval / 2)

    def _tell_host(self, profile: SyncProfile, report: SyncReport) -> None:
        try:
            if report.initial_sync_completed:
                self.profiles.initial_sync_done(profile.id)
            if report.needs_reauth:
                self.profiles.set_status(
                    profile.id, ProfileStatus.NEEDS_REAUTH, report.fatal or "re-authorise"
                )
            elif report.calendar_gone:
                self.profiles.set_status(
                    profile.id, ProfileStatus.CALENDAR_GONE, report.fatal or "calendar gone"
                )
        except Exception:
            logger.exception("profile %s: could not update the host's profile", profile.id)

    def _notify(self, profile: SyncProfile, report: SyncReport, trace: str) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier.notify(profile, report, trace)
        except Exception:
            logger.exception("profile %s: could not send the notification", profile.id)

    # -- leases --------------------------------------------------------------------------

    @contextmanager
    def _lease(self, profile_id: str) -> Iterator[bool]:
        lease = self.store.acquire_lease(profile_id, self.holder, self.lease_ttl, self.clock())
        if lease is None:
            yield False
            return
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep_lease, args=(profile_id, done), daemon=True, name="calsync-lease"
        )
        keeper.start()
        try:
            yield True
        finally:
            done.set()
            keeper.join()
            self.store.release_lease(profile_id, self.holder)

    def _keep_lease(self, profile_id: str, done: threading.Event) -> None:
        period = self.lease_ttl.total_seconds() / 3
        while not done.wait(period):
            if self.store.acquire_lease(profile_id, self.holder, self.lease_ttl, self.clock()):
                continue
            logger.error("profile %s: lost its lease while syncing", profile_id)
            return

    # -- serving -------------------------------------------------------------------------

    def serve(self, *, rounds: int | None = None) -> None:
        """Sync every eligible profile every ``interval`` (± jitter) until :meth:`stop`.

        Each profile has its own due time, first spread over ``jitter * interval`` and then
        re-drawn after every run, so users are not all synced at the same second. A profile
        whose push channel is healthy is due every ``safety_interval`` instead, or when its
        channel needs renewal; a requested profile (:meth:`request_sync`) is synced at once.
        ``rounds`` stops after that many passes that synced something (for tests and one-shot
        jobs).
        """
        schedule = Schedule(self.interval, self.jitter)
        passes = 0
        with ThreadPoolExecutor(self.workers, thread_name_prefix="calsync") as pool:
            while not self._stop.is_set():
                self._wake.clear()
                now = time.monotonic()
                profiles = self.eligible()
                self.retire_push(profiles)
                due = {p.id: self._due(p, schedule, now) for p in profiles}
                requested = self._take_requests(now, set(due))
                ready = [p for p in profiles if p.id in requested or due[p.id] <= now]
                if ready:
                    flags = [p.id in requested for p in ready]
                    runs = list(pool.map(self._run_due, ready, flags))
                    for profile, run in zip(ready, runs, strict=True):
                        schedule.ran(profile.id, time.monotonic())
                        if profile.id in requested and run.report is None:
                            self._request_later(profile.id, 1.0)  # another runner had it
                    passes += 1
                    if rounds is not None and passes >= rounds:
                        return
                    continue
                next_due = min(due.values(), default=now + self.interval)
                self._wake.wait(min(MAX_IDLE, max(0.01, self._next_wake(next_due) - now)))

    def _run_due(self, profile: SyncProfile, requested: bool) -> ProfileRun:
        return self.run_profile(profile, requested=requested)

    def _due(self, profile: SyncProfile, schedule: Schedule, now: float) -> float:
        """When the profile is due (monotonic seconds)."""
        push = self.push
        healthy = push is not None and push.healthy(profile)
        due = schedule.due(profile.id, now, self.safety_interval if healthy else self.interval)
        last = schedule.last.get(profile.id)
        if push is None or last is None:
            return due
        due_in = push.due_in(profile)
        if due_in is None:
            return due
        # channel upkeep (open, renew, stop) comes first, but never loops on a failing run
        gap = min(self.interval, push.retry_after.total_seconds())
        return min(due, max(now + due_in, last + gap))

    def _take_requests(self, now: float, eligible: set[str]) -> set[str]:
        with self._syncing_lock:
            ready = {pid for pid, at in self._requested.items() if at <= now}
            for pid in ready:
                del self._requested[pid]
        return ready & eligible

    def _request_later(self, profile_id: str, delay: float) -> None:
        with self._syncing_lock:
            self._requested.setdefault(profile_id, time.monotonic() + delay)

    def _next_wake(self, next_due: float) -> float:
        with self._syncing_lock:
            waiting = min(self._requested.values(), default=next_due)
        return min(next_due, waiting)

    def retire_push(self, eligible: list[SyncProfile]) -> None:
        """Stop the push channels of profiles that no longer sync a calendar (sync off, a
        status that stops them, no calendar, or gone from the host)."""
        if self.push is None:
            return
        keep = {p.id for p in eligible if p.calendar_id is not None}
        stale = {c.profile_id for c in self.push.store.push_channels()} - keep
        if not stale:
            return
        known = {p.id: p for p in self.profiles.profiles()}
        for profile_id in sorted(stale):
            # a profile the host removed is stood in for by its id, to reach its credentials
            self._retire(profile_id, known.get(profile_id) or SyncProfile(profile_id, "", None))

    def _retire(self, profile_id: str, profile: SyncProfile) -> None:
        assert self.push is not None
        connection: Connection | None = None
        try:
            connection = self.connect(profile)
        except Exception as exc:  # no credentials: the channels are only forgotten
            logger.info("profile %s: cannot stop its push channels: %s", profile_id, exc)
        try:
            self.push.retire(profile_id, connection.calendar if connection else None)
        finally:
            if connection is not None and connection.close is not None:
                with suppress(Exception):
                    connection.close()

    def stop(self) -> None:
        """Ask :meth:`serve` to stop after the runs in progress."""
        self._stop.set()
        self._wake.set()

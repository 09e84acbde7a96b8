"""The life of push channels: one per profile's calendar, opened, renewed, stopped.

:class:`PushChannels` keeps, for every profile with a calendar, one Google watch channel whose
notifications go to the host's public ``address``. The sync processor calls
:meth:`PushChannels.maintain` at the end of each profile's run (under the profile's lease,
with the run's connection), and :meth:`PushChannels.retire` for channels whose profile no
longer syncs. What it does:

* **Open**: a channel gets a fresh id and a secret token (32 random bytes); the state store
  keeps the id, Google's resource id, the expiry and the token's SHA-256, never the token. The
  row is written *before* the watch request, so a notification overtaking Google's answer
  still finds its channel.
* **Renew**: from ``renew_before`` ahead of expiry (at most half the channel's life) a new
  channel is opened first and the old one stopped after, so no change falls in a gap. A
  process that died in the watch request leaves a row without Google's answer; Google's first
  message fills it in (the receiver), and of two live channels the newest is kept.
* **Stop**: channels on another calendar than the profile's (the user switched), of a profile
  whose sync is off, whose status stops it or that the host forgot, are stopped at Google and
  forgotten; channels of a deleted calendar are just forgotten (Google ended them). A stop is
  claimed in the channel's row first, in a transaction: the row is marked *stopping* (the
  receiver refuses its notifications from then on) with the time of the attempt. So of the
  processes sharing the store (Celery workers, ``calsync run`` beside ``calsync web``) one
  tries it, and none again before ``retry_after`` has passed, a restarted one included. A
  stop that fails for now (a 5xx, a timeout, a quota) leaves the channel stopping, tried again
  at the first upkeep ``retry_after`` later, until it succeeds or the channel expires; so is a
  channel whose profile's credentials cannot be read for now. A channel Google no longer
  knows (404) counts as stopped; one the credentials cannot stop (revoked, forbidden, none
  stored) is forgotten and left to expire. (The processes' clocks must agree to well within
  ``retry_after``.)
* **Health**: a profile's push is *healthy* while a channel on its current calendar is open,
  not expired, and confirmed (its ``sync`` message arrived). The processor polls a healthy
  profile only every ``safety_interval``; anything else falls back to the normal interval.

A failed watch is retried after ``retry_after`` (the processor polls meanwhile). A watch
that got no answer (a timeout, a 5xx) keeps its row, as after a crash: Google may have opened
the channel, and its first message then fills the row in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from calsync.backends import CalendarBackend
from calsync.errors import (
    CalendarGone,
    CalsyncError,
    NotFound,
    QuotaExceeded,
    RateLimited,
    TransientError,
)
from calsync.profile import SyncProfile
from calsync.state.base import PushChannel, StateStore

__all__ = ["Polling", "PushChannels", "stopping", "token_hash"]

logger = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    """The hex SHA-256 of a channel token: what the state store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def stopping(channel: PushChannel) -> bool:
    """Whether calsync has given the channel up and stops it at Google (its row says so): its
    notifications are refused."""
    return channel.stopping


def _utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class Polling:
    """How a profile with push is polled (:meth:`PushChannels.polling`)."""

    #: seconds between two scheduled polls
    every: float
    #: when a run is due for the channel's upkeep (the caller's clock), or ``None``
    upkeep_at: float | None


class PushChannels:
    """Opens, renews and stops the push channels of every profile.

    Args:
        store: where channels are kept (the engine's state store).
        address: the public HTTPS URL of the notification endpoint
            (``https://sync.studio.example/google/notifications``).
        ttl: the life asked of Google for each channel (Google may give less).
        renew_before: how long before expiry a channel is replaced (at most half its life).
        retry_after: how long after a failed watch, or a stop tried (by any process sharing
            the store), the next attempt is made.
        clock: the current time (aware), injectable for tests.
    """

    def __init__(
        self,
        store: StateStore,
        address: str,
        *,
        ttl: timedelta = timedelta(days=7),
        renew_before: timedelta = timedelta(days=1),
        retry_after: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.address = address
        self.ttl = ttl
        self.renew_before = renew_before
        self.retry_after = retry_after
        self.clock = clock
        self._failed: dict[str, datetime] = {}  # profile id -> when its last watch failed
        self._lock = threading.Lock()

    # -- what the processor asks ------------------------------------------------------------

    def healthy(self, profile: SyncProfile) -> bool:
        """Whether notifications for the profile's calendar are flowing: a confirmed channel
        on it is open and not expired."""
        return self._healthy(profile, self.store.push_channels(profile.id), self.clock())

    def due_in(self, profile: SyncProfile) -> float | None:
        """Seconds until the profile's channels need :meth:`maintain` (0: now), or ``None``
        when nothing is needed before the next ordinary run."""
        return self._due_in(profile, self.store.push_channels(profile.id), self.clock())

    def polling(
        self,
        profile: SyncProfile,
        *,
        last_run: float | None,
        now: float,
        interval: float,
        safety_interval: float,
    ) -> Polling:
        """How the profile is polled (one read of its channels), on the caller's clock in
        seconds (``last_run`` and ``now`` on that clock): every ``safety_interval`` while its
        push is healthy, else every ``interval``; and when its channel upkeep (open, renew,
        stop) calls for a run, never sooner than ``min(interval, retry_after)`` after the last
        one, so a channel that cannot be opened never makes a loop of runs."""
        channels = self.store.push_channels(profile.id)
        moment = self.clock()
        every = safety_interval if self._healthy(profile, channels, moment) else interval
        due_in = self._due_in(profile, channels, moment)
        if due_in is None or last_run is None:
            return Polling(every, None)
        gap = min(interval, self.retry_after.total_seconds())
        return Polling(every, max(now + due_in, last_run + gap))

    def maintain(
        self, profile: SyncProfile, calendar: CalendarBackend, *, calendar_gone: bool = False
    ) -> None:
        """Bring the profile's channels in order: open or renew the one on its calendar, stop
        the others. Never raises: a failure is logged and retried later."""
        try:
            self._maintain(profile, calendar, calendar_gone)
        except Exception:
            logger.exception("profile %s: push channel upkeep failed", profile.id)

    def retire(self, profile_id: str, calendar: CalendarBackend | None) -> None:
        """Stop (with ``calendar``, the profile's backend) and forget every channel of a
        profile whose sync is off or that is gone; a channel whose stop fails for now is kept,
        stopping, and tried again after ``retry_after``. Without a backend the channels are
        only forgotten: Google ends them at their expiry, and their notifications are refused."""
        for channel in self.store.push_channels(profile_id):
            if calendar is not None:
                self._stop(channel, calendar)
            else:
                self._forget(channel)
        with self._lock:
            self._failed.pop(profile_id, None)

    def retire_later(self, profile_id: str, why: Exception) -> None:
        """Keep every channel of a profile that no longer syncs *stopping* when it cannot be
        stopped now (the credentials could not be read): its notifications are refused and
        its stop is tried again after ``retry_after``. Channels Google has ended (expired,
        or never answered) are forgotten."""
        now = self.clock()
        for channel in self.store.push_channels(profile_id):
            if not channel.resource_id or channel.expires_at <= now:
                self._forget(channel)
            elif self._claim_stop(channel, now) is not None:  # put off as a failed stop is
                self._tell_put_off(channel, why)
        with self._lock:
            self._failed.pop(profile_id, None)

    def stop_due(self, channel: PushChannel) -> bool:
        """Whether a stop of the channel may be tried now: none was tried (by any process) in
        the last ``retry_after``, or the channel has expired (it is then only forgotten)."""
        return self._stop_in(channel, self.clock()) == 0.0

    # -- the work -----------------------------------------------------------------------------

    def _maintain(self, profile: SyncProfile, calendar: CalendarBackend, gone: bool) -> None:
        now = self.clock()
        current: list[PushChannel] = []
        for channel in self.store.push_channels(profile.id):
            if self._unwanted(profile, channel):
                self._stop(channel, calendar)
            elif gone or channel.expires_at <= now or self._abandoned(channel, now):
                self.store.delete_push_channel(channel.channel_id)
            else:
                current.append(channel)
        if gone or profile.calendar_id is None:
            return
        if not calendar.supports_push:
            with self._lock:  # asked again only after retry_after
                self._failed[profile.id] = now
            return
        fresh = [c for c in current if self._renew_at(c) > now and c.resource_id]
        if fresh:  # one is enough: the newest (two after a crash mid-renewal)
            keep = max(fresh, key=lambda c: c.created_at)
        else:
            if self._retry_in(profile.id, now) != 0.0:
                return
            opened = self._open(profile, profile.calendar_id, calendar)
            if opened is None:
                return
            keep = opened
        for old in current:
            if old.channel_id != keep.channel_id:
                self._stop(old, calendar)

    def _open(
        self, profile: SyncProfile, calendar_id: str, calendar: CalendarBackend
    ) -> PushChannel | None:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        pending = PushChannel(
            channel_id=f"calsync-{uuid.uuid4().hex}",
            profile_id=profile.id,
            calendar_id=calendar_id,
            resource_id="",
            token_hash=token_hash(token),
            expires_at=now + self.ttl,
            created_at=now,
        )
        self.store.put_push_channel(pending)
        try:
            watched = calendar.watch_events(
                calendar_id, pending.channel_id, self.address, token, self.ttl
            )
        except (CalsyncError, NotImplementedError) as exc:
            with self._lock:
                self._failed[profile.id] = now
            if isinstance(exc, TransientError) and not isinstance(exc, RateLimited):
                # no answer (a timeout, a 5xx): Google may have opened the channel. The row
                # stays, as after a crash, so Google's first message fills it in; without
                # one it is dropped at the next attempt
                logger.warning("profile %s: no answer to opening a push channel: %s",
                               profile.id, exc)  # fmt: skip
                return None
            self.store.delete_push_channel(pending.channel_id)
            if isinstance(exc, CalendarGone):
                return None
            logger.warning("profile %s: could not open a push channel: %s", profile.id, exc)
            return None
        with self._lock:
            self._failed.pop(profile.id, None)
        # the sync message may have confirmed the channel meanwhile: keep what the store has
        with self.store.transaction():
            stored = self.store.get_push_channel(pending.channel_id) or pending
            # never trust an expiry beyond the one asked for: the channel would never be renewed
            expires = min(watched.expires_at, pending.expires_at)
            opened = attrs.evolve(stored, resource_id=watched.resource_id, expires_at=expires)
            self.store.put_push_channel(opened)
        logger.info("profile %s: push channel open until %s", profile.id, expires)
        return opened

    def _stop(self, channel: PushChannel, calendar: CalendarBackend) -> None:
        """Stop the channel at Google and forget it; keep it, stopping, when the stop fails
        for now. The stop is claimed first (:meth:`_claim_stop`): a channel whose stop was
        tried less than ``retry_after`` ago, by this process or another, is left be."""
        now = self.clock()
        if self._stop_in(channel, now) > 0.0:  # tried lately, as read (the claim reads again)
            return
        if not channel.resource_id or channel.expires_at <= now:
            self._forget(channel)  # nothing open at Google (never answered, or ended)
            return
        if self._claim_stop(channel, now) is None:
            return
        try:
            calendar.stop_channel(channel.channel_id, channel.resource_id)
        except NotFound:
            logger.debug("push channel %s was already gone at Google", channel.channel_id)
        except (TransientError, QuotaExceeded) as exc:
            self._tell_put_off(channel, exc)  # (its row says when it was tried)
            return
        except (CalsyncError, NotImplementedError) as exc:
            logger.warning(
                "profile %s: could not stop push channel %s, left to expire: %s",
                channel.profile_id,
                channel.channel_id,
                exc,
            )
        self._forget(channel)
        logger.info("profile %s: push channel %s stopped", channel.profile_id, channel.channel_id)

    def _claim_stop(self, channel: PushChannel, now: datetime) -> PushChannel | None:
        """Mark the channel stopping, its stop tried ``now``, unless a stop of it was tried
        less than ``retry_after`` ago or it is gone: then ``None``, and no stop is tried.
        Read and written in one transaction (the row locked on PostgreSQL, the file on
        SQLite), so of processes racing for it one wins, and a notification recorded
        meanwhile (the receiver's confirmation) is kept."""
        with self.store.transaction():
            stored = self.store.get_push_channel(channel.channel_id)
            if stored is None or self._stop_in(stored, now) > 0.0:
                return None
            claimed = attrs.evolve(stored, stopping=True, stop_tried_at=now)
            self.store.put_push_channel(claimed)
        return claimed

    def _tell_put_off(self, channel: PushChannel, why: Exception) -> None:
        logger.warning(
            "profile %s: could not stop push channel %s, trying again in %s: %s",
            channel.profile_id,
            channel.channel_id,
            self.retry_after,
            why,
        )

    def _forget(self, channel: PushChannel) -> None:
        self.store.delete_push_channel(channel.channel_id)

    # -- helpers ------------------------------------------------------------------------------

    def _healthy(self, profile: SyncProfile, channels: list[PushChannel], now: datetime) -> bool:
        return any(
            not self._unwanted(profile, c)
            and c.confirmed_at is not None
            and c.resource_id
            and c.expires_at > now
            for c in channels
        )

    def _due_in(
        self, profile: SyncProfile, channels: list[PushChannel], now: datetime
    ) -> float | None:
        if profile.calendar_id is None:
            return None
        waits = [self._stop_in(c, now) for c in channels if self._unwanted(profile, c)]
        live = [
            c
            for c in channels
            if not self._unwanted(profile, c) and c.resource_id and c.expires_at > now
        ]
        if not live:
            return min([self._retry_in(profile.id, now), *waits])
        renew_at = max(self._renew_at(c) for c in live)
        return min([max(0.0, (renew_at - now).total_seconds()), *waits])

    def _unwanted(self, profile: SyncProfile, channel: PushChannel) -> bool:
        """A channel to stop: on another calendar than the profile's, or already stopping."""
        return channel.calendar_id != profile.calendar_id or channel.stopping

    def _stop_in(self, channel: PushChannel, now: datetime) -> float:
        """Seconds until a stop of the channel may be tried (0: now), by its row."""
        tried = channel.stop_tried_at
        if not channel.stopping or tried is None or channel.expires_at <= now:
            return 0.0
        return max(0.0, (tried + self.retry_after - now).total_seconds())

    def _renew_at(self, channel: PushChannel) -> datetime:
        life = channel.expires_at - channel.created_at
        return channel.expires_at - min(self.renew_before, life / 2)

    def _abandoned(self, channel: PushChannel, now: datetime) -> bool:
        """A row left by a watch that never got its answer (a crash mid-request)."""
        return not channel.resource_id and now - channel.created_at > timedelta(minutes=10)

    def _retry_in(self, profile_id: str, now: datetime) -> float:
        with self._lock:
            failed = self._failed.get(profile_id)
        if failed is None:
            return 0.0
        return max(0.0, (failed + self.retry_after - now).total_seconds())

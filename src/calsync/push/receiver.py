"""Receiving Google's notifications, independent of any web framework: headers in, a
:class:`Decision` out.

    receiver = NotificationReceiver(store, processor)          # processor: a SyncTrigger
    decision = receiver.handle(request.headers)                # any str -> str mapping
    return Response(status=decision.status)

What it decides:

* no ``X-Goog-Channel-ID``, or an unknown state → 400;
* a channel the state store does not know, one past its expiry, or one calsync is stopping
  (its row says so: sync turned off or the calendar switched, the stop at Google under way or
  to be tried again) → 404, as for a channel calsync no longer has; a wrong
  ``X-Goog-Channel-Token`` (compared as SHA-256 digests in constant time) or another
  ``X-Goog-Resource-ID`` → 403. Nothing is written and nothing is synced for a refused
  notification;
* ``sync`` (the channel's first message) → 200, the channel is marked confirmed, no sync; a
  channel whose watch answer never came takes Google's resource id and expiry from it (an
  unreadable ``X-Goog-Channel-Expiration`` is ignored, and so is one later than calsync asked
  for or before the channel's opening: the asked expiry stays);
* ``exists`` → 200 and a sync request for the channel's profile; ``not_exists`` (the calendar
  was deleted) → 200, the channel is forgotten and a sync requested (which finds the calendar
  gone and tells the user).

Sync requests go through a :class:`~calsync.push.trigger.Debouncer`: a burst of notifications
for one profile gives one sync, started ``debounce`` seconds after the first.
"""

from __future__ import annotations

import enum
import hmac
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs
from attrs import frozen

from calsync.push.channels import token_hash
from calsync.push.trigger import Debouncer, SyncTrigger
from calsync.state.base import StateStore

__all__ = ["Decision", "NotificationReceiver", "Verdict"]

logger = logging.getLogger(__name__)

_NO_TOKEN_HASH = token_hash("")


class Verdict(enum.Enum):
    """What became of a notification."""

    #: A change: a sync of the profile was requested.
    SYNC_REQUESTED = "sync_requested"
    #: The channel's opening message: noted, nothing to sync.
    ACKNOWLEDGED = "acknowledged"
    #: Not a notification calsync accepts (unknown, expired or stopping channel, wrong token,
    #: malformed).
    REFUSED = "refused"


@frozen
class Decision:
    """The answer to one notification: the HTTP status to send Google and what happened."""

    status: int
    verdict: Verdict
    profile_id: str | None = None
    reason: str = ""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NotificationReceiver:
    """Turns Google's push notifications into sync requests.

    Args:
        store: the state store holding the channels (shared with the processor).
        trigger: what starts a sync (the processor, or a task queue).
        debounce: seconds a burst is gathered before one sync is requested (0: at once).
        clock: the current time (aware; default: now), injectable for tests.
    """

    def __init__(
        self,
        store: StateStore,
        trigger: SyncTrigger,
        *,
        debounce: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.trigger: SyncTrigger = Debouncer(trigger, debounce) if debounce > 0 else trigger
        self.clock = clock or _utcnow

    def handle(self, headers: Mapping[str, str]) -> Decision:
        """Decide on one notification from its HTTP headers (names in any case)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        channel_id = lowered.get("x-goog-channel-id", "")
        state = lowered.get("x-goog-resource-state", "")
        if not channel_id or state not in ("sync", "exists", "not_exists"):
            return Decision(400, Verdict.REFUSED, reason="not a Calendar notification")
        channel = self.store.get_push_channel(channel_id)
        offered = token_hash(lowered.get("x-goog-channel-token", ""))
        expected = channel.token_hash if channel is not None else _NO_TOKEN_HASH
        token_ok = hmac.compare_digest(offered.encode(), expected.encode())
        if channel is None:
            logger.debug("notification for unknown channel %s refused", channel_id)
            return Decision(404, Verdict.REFUSED, reason="unknown channel")
        if channel.expires_at <= self.clock() or channel.stopping:
            # Google ended it, or calsync gave it up: a late, replayed or stray message
            logger.debug("notification for expired or stopping channel %s refused", channel_id)
            return Decision(404, Verdict.REFUSED, channel.profile_id, "expired or stopping channel")
        resource = lowered.get("x-goog-resource-id", "")
        if not token_ok or (channel.resource_id and resource != channel.resource_id):
            logger.warning("profile %s: forged push notification refused", channel.profile_id)
            return Decision(403, Verdict.REFUSED, channel.profile_id, "wrong token or resource")
        learn = not channel.resource_id and bool(resource)
        if state != "not_exists" and (learn or channel.confirmed_at is None):
            self._record(channel_id, resource, lowered.get("x-goog-channel-expiration", ""))
        if state == "sync":
            logger.debug("profile %s: push channel %s confirmed", channel.profile_id, channel_id)
            return Decision(200, Verdict.ACKNOWLEDGED, channel.profile_id)
        if state == "not_exists":
            self.store.delete_push_channel(channel_id)
        logger.debug("profile %s: calendar changed (%s), sync requested", channel.profile_id, state)
        self.trigger.request_sync(channel.profile_id)
        return Decision(200, Verdict.SYNC_REQUESTED, channel.profile_id)

    def _record(self, channel_id: str, resource: str, expiration: str) -> None:
        """Confirm the channel, and give a channel whose watch answer never came (the
        process died in the request) the resource id and expiry Google's message carries,
        so it can be stopped and renewed like any other."""
        # read again inside the transaction: the watch's answer may be written meanwhile
        with self.store.transaction():
            current = self.store.get_push_channel(channel_id)
            if current is None:
                return
            updated = current
            if current.confirmed_at is None:
                updated = attrs.evolve(updated, confirmed_at=self.clock())
            if not current.resource_id and resource:
                expires = current.expires_at  # the one asked for
                told = _expiration(expiration)
                # Google may give less than asked, never more (nor an end before the start)
                if told is not None and current.created_at < told < expires:
                    expires = told
                updated = attrs.evolve(updated, resource_id=resource, expires_at=expires)
                logger.info("push channel %s: resource id learnt from Google's message", channel_id)
            if updated != current:
                self.store.put_push_channel(updated)

    def close(self) -> None:
        """Pass on the sync requests still gathering (and end the debounce thread)."""
        if isinstance(self.trigger, Debouncer):
            self.trigger.close()


def _expiration(header: str) -> datetime | None:
    """``X-Goog-Channel-Expiration`` (an RFC 1123 date) as an aware datetime, or ``None``
    when it cannot be read (garbage, no zone, beyond the range of datetime)."""
    try:
        moment = parsedate_to_datetime(header)
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None

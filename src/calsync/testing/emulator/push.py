"""Calendar push notifications: ``events.watch``, ``channels.stop`` and the delivery of
``sync``/``exists``/``not_exists`` messages to the channel's address.

* ``events.watch`` validates the channel as Google does (``id`` of at most 64 characters and
  unique among live channels, ``type`` ``web_hook``/``webhook``, an HTTPS ``address``) and
  answers the channel with ``resourceId`` (stable per calendar), ``resourceUri`` and
  ``expiration`` (milliseconds, as a string): the requested ``expiration`` or
  ``params.ttl`` (seconds), at most :data:`MAX_TTL_SECONDS`, by default
  :data:`DEFAULT_TTL_SECONDS`. Then the ``sync`` message is sent.
* A :class:`PushHub` thread notices every change of a watched calendar's events (woken by the
  state's change sequence) and queues ``exists``; a deleted calendar gets ``not_exists`` and
  ends its channels. Expired and stopped channels send nothing more.
* ``channels.stop`` ends a channel (404 for an unknown one or a wrong ``resourceId``).

Deviation from Google: a plain ``http://`` address on loopback (``127.0.0.1``, ``localhost``,
``[::1]``) is accepted, so tests need no certificate; Google requires HTTPS everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import urllib.parse
from collections import deque
from typing import Any

from attrs import define

from calsync.testing.emulator.calendars import calendar_of
from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import ApiError, invalid, required
from calsync.testing.emulator.push_delivery import (
    ChannelSender,
    Delivery,
    DeliveryFaults,
    Envelope,
)
from calsync.testing.emulator.state import Account, CalendarData, EmulatorState
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)

MAX_CHANNEL_ID = 64
#: Google's channels last about a week unless asked for less.
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
CHANNEL_TYPES = frozenset({"web_hook", "webhook"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
RESOURCE_URI = "https://www.googleapis.com/calendar/v3/calendars/{}/events?alt=json"


def resource_id(account: Account, calendar_id: str) -> str:
    """The opaque id of a calendar's events collection (the same for every channel)."""
    digest = hashlib.sha256(f"{account.email}\0{calendar_id}".encode()).hexdigest()
    return digest[:27]


def events_fingerprint(calendar: CalendarData | None) -> tuple[int, int] | None:
    """What changes whenever the calendar's events change (``None``: the calendar is gone)."""
    if calendar is None or calendar.deleted:
        return None
    return len(calendar.events), max((e.seq for e in calendar.events.values()), default=0)


@define
class WatchChannel:
    """One live channel: who watches which calendar, where messages go, until when."""

    envelope: Envelope
    account: str
    calendar_id: str
    seen: tuple[int, int] | None
    sender: ChannelSender

    @property
    def id(self) -> str:
        return self.envelope.channel_id

    def describe(self) -> dict[str, Any]:
        """The channel as the admin endpoint lists it."""
        return {
            "id": self.id,
            "resourceId": self.envelope.resource_id,
            "account": self.account,
            "calendarId": self.calendar_id,
            "address": self.envelope.address,
            "expiration": str(self.envelope.expires_ms),
        }


class PushHub:
    """The live channels of one emulator and the thread that notices changes.

    Attributes:
        faults: failures, drops and delay applied to deliveries.
        retry_base: seconds before a failed delivery is first retried (doubled each time).
        max_attempts: delivery attempts per message.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.faults = DeliveryFaults()
        self.retry_base = 0.1
        self.max_attempts = 6
        self._channels: dict[str, WatchChannel] = {}
        self._log: deque[Delivery] = deque(maxlen=2000)
        self._generation = 0  # one more at each reset: the senders of before are not logged
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        state.push = self
        state.on_change = self._wake.set

    # -- channels -----------------------------------------------------------------------------

    def open(self, account: Account, calendar: CalendarData, body: dict[str, Any]) -> WatchChannel:
        """Open a channel on ``calendar``'s events (called under the state lock)."""
        channel_id, address = _checked(body)
        with self._lock:
            if channel_id in self._channels:
                raise ApiError(400, "channelIdNotUnique", f"Channel id {channel_id} not unique")
            envelope = Envelope(
                channel_id,
                address,
                body.get("token"),
                resource_id(account, calendar.id),
                RESOURCE_URI.format(urllib.parse.quote(calendar.id, safe="@.")),
                _expiration_ms(body),
            )
            sender = ChannelSender(
                envelope,
                self.faults,
                functools.partial(self._record, self._generation),
                retry_base=self.retry_base,
                max_attempts=self.max_attempts,
            )
            channel = WatchChannel(
                envelope, account.email, calendar.id, events_fingerprint(calendar), sender
            )
            self._channels[channel_id] = channel
            self._start()
        sender.enqueue("sync")
        self._wake.set()  # its expiry may be the next one
        logger.debug("opened channel %s on %s", channel_id, calendar.id)
        return channel

    def stop(self, account: Account, body: dict[str, Any]) -> None:
        """End a channel as ``channels.stop`` does."""
        channel_id = str(body.get("id") or "")
        with self._lock:
            channel = self._channels.get(channel_id)
            if (
                channel is None
                or channel.account != account.email
                or channel.envelope.resource_id != body.get("resourceId")
            ):
                raise ApiError(
                    404, "notFound", f"Channel '{channel_id}' not found for project 'emulator'"
                )
            self._close(channel)

    def channels(self) -> list[dict[str, Any]]:
        """The live channels."""
        with self._lock:
            return [c.describe() for c in self._channels.values()]

    def expire(self, channel_id: str) -> bool:
        """End a channel now as if its expiration had come; False for an unknown one."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is not None:
                self._close(channel)
        return channel is not None

    def fail_deliveries(self, count: int, *, drop: bool = False) -> None:
        """Make the next ``count`` delivery attempts fail (retried with backoff, as a 503
        would be), or with ``drop`` lose the next ``count`` messages outright (no retry; their
        message numbers are used up, so the receiver sees a gap)."""
        with self.faults.lock:
            if drop:
                self.faults.drop_left = count
            else:
                self.faults.fail_left = count

    def delay_deliveries(self, seconds: float) -> None:
        """Wait ``seconds`` before every delivery attempt from now on (0: no delay)."""
        self.faults.delay = max(0.0, seconds)

    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt so far (the latest 2000)."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """No channels, no delivery faults, an empty log."""
        with self._lock:
            self._generation += 1
            for channel in list(self._channels.values()):
                self._close(channel)
            self._log.clear()
        self.faults.clear()

    def close(self) -> None:
        """End every channel and the change thread."""
        self.reset()
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    # -- the change thread --------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="emulator-push", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(timeout=self._until_next_expiry())
            self._wake.clear()
            if not self._closed:
                self._scan()

    def _until_next_expiry(self) -> float:
        with self._lock:
            soonest = min((c.envelope.expires_ms for c in self._channels.values()), default=None)
        if soonest is None:
            return 1.0
        return min(1.0, max(0.0, soonest / 1000 - time.time()))

    def _scan(self) -> None:
        now_ms = int(time.time() * 1000)
        with self.state.lock, self._lock:
            for channel in list(self._channels.values()):
                if now_ms >= channel.envelope.expires_ms:
                    logger.debug("channel %s expired", channel.id)
                    self._close(channel)
                    continue
                account = self.state.accounts.get(channel.account)
                calendar = account.calendars.get(channel.calendar_id) if account else None
                seen = events_fingerprint(calendar)
                if seen is None:
                    channel.sender.enqueue("not_exists")
                    self._close(channel, after_queue=True)
                elif seen != channel.seen:
                    channel.seen = seen
                    channel.sender.enqueue("exists")

    def _close(self, channel: WatchChannel, *, after_queue: bool = False) -> None:
        """Forget a channel (the caller holds ``_lock``)."""
        self._channels.pop(channel.id, None)
        channel.sender.close(after_queue=after_queue)

    def _record(self, generation: int, delivery: Delivery) -> None:
        with self._lock:
            # (an attempt in flight at a reset ends after it: it is not this log's)
            if generation == self._generation:
                self._log.append(delivery)


def _checked(body: dict[str, Any]) -> tuple[str, str]:
    """The channel id and address of a watch request, validated as Google does."""
    channel_id = body.get("id")
    if not channel_id:
        raise required("Required", location="id")
    if len(channel_id) > MAX_CHANNEL_ID:
        raise invalid(f"Channel id must be at most {MAX_CHANNEL_ID} characters.", location="id")
    kind = body.get("type")
    if kind not in CHANNEL_TYPES:
        raise invalid(f"Unknown channel type: {kind}", location="type")
    address = body.get("address")
    if not address:
        raise required("Required", location="address")
    parts = urllib.parse.urlsplit(address)
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK
    if parts.scheme != "https" and not loopback_http:
        raise ApiError(400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}")
    return str(channel_id), str(address)


def _expiration_ms(body: dict[str, Any]) -> int:
    now_ms = int(time.time() * 1000)
    ttl = DEFAULT_TTL_SECONDS
    params = body.get("params") or {}
    if "ttl" in params:
        try:
            ttl = int(float(params["ttl"]))
        except ValueError:
            raise invalid("Invalid value for ttl.", location="params.ttl") from None
    expiration = now_ms + min(ttl, MAX_TTL_SECONDS) * 1000
    if body.get("expiration"):
        expiration = min(expiration, int(body["expiration"]))
    if expiration <= now_ms:
        raise invalid("Expiration must be in the future.", location="expiration")
    return expiration


def hub_of(ctx: CallContext) -> PushHub:
    """The emulator's push hub (made on first use)."""
    return ctx.state.push or PushHub(ctx.state)


@handler("calendar.events.watch")
def watch_events(ctx: CallContext) -> Result:
    """Open a channel that notifies every change of the calendar's events."""
    calendar = calendar_of(ctx)
    channel = hub_of(ctx).open(ctx.account, calendar, ctx.body or {})
    envelope = channel.envelope
    out: dict[str, Any] = {
        "kind": "api#channel",
        "id": envelope.channel_id,
        "resourceId": envelope.resource_id,
        "resourceUri": envelope.resource_uri,
        "expiration": str(envelope.expires_ms),
    }
    if envelope.token is not None:
        out["token"] = envelope.token
    return out


@handler("calendar.channels.stop")
def stop_channel(ctx: CallContext) -> Result:
    """Stop a channel: nothing more is sent on it."""
    hub_of(ctx).stop(ctx.account, ctx.body or {})
    return ApiResponse.empty()


def admin_routes(hub: PushHub) -> dict[tuple[str, str], Any]:
    """The push admin endpoints, for :class:`~calsync.testing.emulator.admin.AdminEndpoints`."""
    return {
        ("GET", "push/channels"): lambda _: hub.channels(),
        ("GET", "push/deliveries"): lambda _: [d.describe() for d in hub.deliveries()],
        ("POST", "push/expire"): lambda b: {"expired": hub.expire(str(b["channel_id"]))},
        ("POST", "push/fail-deliveries"): lambda b: hub.fail_deliveries(
            int(b["count"]), drop=bool(b.get("drop", False))
        ),
        ("POST", "push/delay-deliveries"): lambda b: hub.delay_deliveries(float(b["seconds"])),
    }

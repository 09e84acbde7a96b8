"""A profile that no longer syncs whose credentials cannot be read for a moment (the token
store unreachable, a network blip) keeps its channel stopping, refused, and stopped once they
can; only a profile without credentials (none stored, or revoked) has its channel forgotten
and left to expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from calsync import MemoryStateStore, SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.errors import AuthError, NotConnected, StateUnavailable
from calsync.push import CallbackTrigger, NotificationReceiver, PushChannels
from calsync.push.retire import retire_stale
from calsync.runs import Connection
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore

NOW = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
CAL = "studio@group.calendar.google.com"
ANN = SyncProfile("studio.ann", "ann", CAL, SyncOptions())
RETRY = timedelta(minutes=5)


class Google(MemoryCalendarBackend):
    supports_push = True

    def __init__(self) -> None:
        super().__init__(calendars=[CAL])
        self.live: dict[str, str] = {}  # channel id -> token

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        self.live[channel_id] = token
        return WatchChannel(channel_id, "res-cal", NOW + ttl)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.live.pop(channel_id, None)


class Credentials:
    """``connect`` raising ``failure`` while it is set."""

    def __init__(self, google: Google) -> None:
        self.google = google
        self.failure: Exception | None = None
        self.asked = 0

    def connect(self, profile: SyncProfile) -> Connection:
        self.asked += 1
        if self.failure is not None:
            raise self.failure
        return Connection(self.google)


def notification_status(store: MemoryStateStore, channel_id: str, token: str) -> int:
    receiver = NotificationReceiver(store, CallbackTrigger(print), debounce=0)
    return receiver.handle({"X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token,
                            "X-Goog-Resource-ID": "res-cal",
                            "X-Goog-Resource-State": "exists"}).status  # fmt: skip


def test_a_moment_without_the_token_store_keeps_the_channel_stopping_and_stops_it_later() -> None:
    clock, google, store = [NOW], Google(), MemoryStateStore()
    push = PushChannels(store, "https://sync.studio.example/google/notifications",
                        retry_after=RETRY, clock=lambda: clock[0])  # fmt: skip
    push.maintain(ANN, google)
    [(channel_id, token)] = google.live.items()
    profiles = MemoryProfileStore([attrs.evolve(ANN, enabled=False)])  # sync turned off
    credentials = Credentials(google)
    credentials.failure = StateUnavailable("token store (PostgreSQL): connection refused")

    retire_stale(push, profiles, credentials.connect, [])
    assert [c.channel_id for c in store.push_channels()] == [channel_id]
    assert notification_status(store, channel_id, token) == 404  # refused meanwhile
    clock[0] = NOW + RETRY - timedelta(seconds=1)
    retire_stale(push, profiles, credentials.connect, [])  # not tried again before the wait
    assert credentials.asked == 1

    credentials.failure = None
    clock[0] = NOW + RETRY
    retire_stale(push, profiles, credentials.connect, [])

    assert google.live == {}
    assert store.push_channels() == []


@pytest.mark.parametrize(
    "failure",
    [NotConnected("no token stored"), AuthError("invalid_grant: token revoked", status=400)],
    ids=["not connected", "revoked"],
)
def test_a_profile_without_credentials_has_its_channel_forgotten(failure: Exception) -> None:
    google, store = Google(), MemoryStateStore()
    push = PushChannels(store, "https://sync.studio.example/google/notifications",
                        clock=lambda: NOW)  # fmt: skip
    push.maintain(ANN, google)
    credentials = Credentials(google)
    credentials.failure = failure

    retire_stale(push, MemoryProfileStore([]), credentials.connect, [])  # the user was removed

    assert store.push_channels() == []
    assert len(google.live) == 1  # left to expire: nothing can stop it

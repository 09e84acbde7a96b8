"""A channel whose stop at Google fails for now is kept, refused, and stopped at a later upkeep:
never forgotten while Google goes on posting the user's changes to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from calsync import MemoryStateStore, SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.errors import AuthError, NotFound, TransientError
from calsync.push import CallbackTrigger, NotificationReceiver, PushChannels, Verdict
from calsync.push.retire import retire_stale
from calsync.runs import Connection
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore

NOW = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
CAL = "studio@group.calendar.google.com"
RETRY = timedelta(minutes=5)


class FlakyCalendar(MemoryCalendarBackend):
    """Opens channels as Google does; ``stop_channel`` raises ``failure`` while it is set."""

    supports_push = True

    def __init__(self, clock: list[datetime]) -> None:
        super().__init__(calendars=[CAL, "other"])
        self.clock = clock
        self.tokens: dict[str, str] = {}
        self.stops: list[str] = []
        self.failure: Exception | None = None

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        self.tokens[channel_id] = token
        return WatchChannel(channel_id, f"res-{channel_id}", self.clock[0] + ttl)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.stops.append(channel_id)
        if self.failure is not None:
            raise self.failure


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def calendar(clock: list[datetime]) -> FlakyCalendar:
    return FlakyCalendar(clock)


def profile(calendar_id: str | None = CAL, **changes: Any) -> SyncProfile:
    return attrs.evolve(SyncProfile("studio.ann", "ann", calendar_id, SyncOptions()), **changes)


def lifecycle(store: MemoryStateStore, clock: list[datetime]) -> PushChannels:
    return PushChannels(
        store,
        "https://sync.studio.example/google/notifications",
        ttl=timedelta(days=7),
        renew_before=timedelta(days=1),
        retry_after=RETRY,
        clock=lambda: clock[0],
    )


@attrs.define
class Opened:
    """A profile's channel, opened: the store it is kept in and the channels' lifecycle."""

    store: MemoryStateStore
    push: PushChannels


@pytest.fixture
def opened(clock: list[datetime], calendar: FlakyCalendar) -> Opened:
    store = MemoryStateStore()
    push = lifecycle(store, clock)
    push.maintain(profile(), calendar)
    return Opened(store, push)


def notify(store: MemoryStateStore, channel_id: str, token: str, resource: str) -> tuple[Any, ...]:
    requested: list[str] = []
    receiver = NotificationReceiver(store, CallbackTrigger(requested.append), debounce=0)
    decision = receiver.handle(
        {
            "X-Goog-Channel-ID": channel_id,
            "X-Goog-Channel-Token": token,
            "X-Goog-Resource-ID": resource,
            "X-Goog-Resource-State": "exists",
        }
    )
    return decision.status, decision.verdict, requested


def test_sync_off_with_a_failing_stop_keeps_the_channel_refused_and_stops_it_later(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    [channel] = store.push_channels()
    token = calendar.tokens[channel.channel_id]
    calendar.failure = TransientError("Backend Error", status=503)

    push.retire("studio.ann", calendar)  # the user turned sync off

    assert [c.channel_id for c in store.push_channels()] == [channel.channel_id]
    assert notify(store, channel.channel_id, token, channel.resource_id) == (
        404,
        Verdict.REFUSED,
        [],
    )
    clock[0] = NOW + RETRY - timedelta(seconds=1)
    push.retire("studio.ann", calendar)  # the processor's next loops: no stop before the wait
    assert calendar.stops == [channel.channel_id]

    calendar.failure = None
    clock[0] = NOW + RETRY
    push.retire("studio.ann", calendar)

    assert calendar.stops == [channel.channel_id, channel.channel_id]
    assert store.push_channels() == []


def test_a_switched_calendar_with_a_failing_stop_is_stopped_at_a_later_upkeep(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    [old] = store.push_channels()
    calendar.failure = TransientError("Backend Error", status=503)

    push.maintain(profile("other"), calendar)
    push.maintain(profile("other"), calendar)  # a run soon after: no second stop yet

    assert calendar.stops == [old.channel_id]
    assert {c.calendar_id for c in store.push_channels()} == {CAL, "other"}
    assert push.due_in(profile("other")) == RETRY.total_seconds()

    calendar.failure = None
    clock[0] = NOW + RETRY
    push.maintain(profile("other"), calendar)

    assert calendar.stops == [old.channel_id, old.channel_id]
    assert [c.calendar_id for c in store.push_channels()] == ["other"]


def test_the_old_channel_of_a_renewal_whose_stop_failed_is_stopped_later(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    [first] = store.push_channels()
    calendar.failure = TransientError("timed out")
    clock[0] = NOW + timedelta(days=6, minutes=1)

    push.maintain(profile(), calendar)

    assert len(store.push_channels()) == 2
    assert push.due_in(profile()) == RETRY.total_seconds()
    calendar.failure = None
    clock[0] += RETRY
    push.maintain(profile(), calendar)
    assert calendar.stops == [first.channel_id, first.channel_id]
    [second] = store.push_channels()
    assert second.channel_id != first.channel_id


def test_a_channel_google_no_longer_knows_counts_as_stopped(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    calendar.failure = NotFound("Not Found", status=404)

    push.retire("studio.ann", calendar)

    assert store.push_channels() == []


def test_a_stopping_channel_is_forgotten_once_it_expires_without_a_stop(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    calendar.failure = TransientError("Backend Error", status=503)
    push.retire("studio.ann", calendar)

    clock[0] = NOW + timedelta(days=7)
    push.retire("studio.ann", calendar)

    assert len(calendar.stops) == 1
    assert store.push_channels() == []


def test_a_channel_the_credentials_cannot_stop_is_left_to_expire(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    calendar.failure = AuthError("invalid_grant", status=401)

    push.retire("studio.ann", calendar)

    assert store.push_channels() == []


def test_a_profile_re_enabled_before_the_stop_gets_a_new_channel_not_the_stopping_one(
    clock: list[datetime], calendar: FlakyCalendar, opened: Opened
) -> None:
    store, push = opened.store, opened.push
    [old] = store.push_channels()
    store.put_push_channel(attrs.evolve(old, confirmed_at=NOW))
    calendar.failure = TransientError("Backend Error", status=503)
    push.retire("studio.ann", calendar)

    assert not push.healthy(profile())
    calendar.failure = None
    push.maintain(profile(), calendar)  # sync turned on again, within retry_after

    [new] = [c for c in store.push_channels() if c.channel_id != old.channel_id]
    assert calendar.stops == [old.channel_id]  # the stopping one waits for its retry
    clock[0] = NOW + RETRY
    push.maintain(profile(), calendar)
    assert calendar.stops == [old.channel_id, old.channel_id]
    assert [c.channel_id for c in store.push_channels()] == [new.channel_id]


def test_the_processor_connects_a_retired_profile_only_when_a_stop_is_due(
    clock: list[datetime], calendar: FlakyCalendar
) -> None:
    """The processor looks for channels to retire every loop (seconds); a stop that keeps
    failing costs one connection and one call per ``retry_after``, not one per loop."""
    store = MemoryStateStore()
    push = lifecycle(store, clock)
    push.maintain(profile(), calendar)
    calendar.failure = TransientError("Backend Error", status=503)
    profiles = MemoryProfileStore([profile(enabled=False)])
    connected: list[str] = []

    def connect(p: SyncProfile) -> Connection:
        connected.append(p.id)
        return Connection(calendar)

    for seconds in range(0, int(RETRY.total_seconds()), 10):
        clock[0] = NOW + timedelta(seconds=seconds)
        retire_stale(push, profiles, connect, eligible=[])

    assert (connected, len(calendar.stops)) == (["studio.ann"], 1)
    clock[0] = NOW + RETRY
    retire_stale(push, profiles, connect, eligible=[])
    assert (connected, len(calendar.stops)) == (["studio.ann"] * 2, 2)

"""The framework-neutral receiver, the debouncer and the channel lifecycle, without sockets."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from calsync import MemoryStateStore, SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.errors import InvalidRequest
from calsync.push import (
    CallbackTrigger,
    Debouncer,
    NotificationReceiver,
    PushChannels,
    Verdict,
    token_hash,
)
from calsync.state.base import PushChannel
from calsync.testing import MemoryCalendarBackend

NOW = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
CAL = "studio@group.calendar.google.com"


def a_channel(**changes: Any) -> PushChannel:
    channel = PushChannel(
        "calsync-1", "studio.ann", CAL, "res-1", token_hash("s3cret"), NOW + timedelta(days=7), NOW
    )
    return attrs.evolve(channel, **changes)


def headers(state: str = "exists", token: str = "s3cret", **extra: str) -> dict[str, str]:
    values = {
        "X-Goog-Channel-ID": "calsync-1",
        "X-Goog-Channel-Token": token,
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": "2",
    }
    values.update(extra)
    return values


@pytest.fixture
def store() -> MemoryStateStore:
    store = MemoryStateStore()
    store.put_push_channel(a_channel())
    return store


def test_a_change_requests_a_sync_of_the_channels_profile(store: MemoryStateStore) -> None:
    requested: list[str] = []
    receiver = NotificationReceiver(store, CallbackTrigger(requested.append), debounce=0)

    decision = receiver.handle(headers())

    assert (decision.status, decision.verdict, requested) == (
        200,
        Verdict.SYNC_REQUESTED,
        ["studio.ann"],
    )


def test_the_sync_message_confirms_the_channel_without_a_sync(store: MemoryStateStore) -> None:
    requested: list[str] = []
    receiver = NotificationReceiver(
        store, CallbackTrigger(requested.append), debounce=0, clock=lambda: NOW
    )

    decision = receiver.handle({k.lower(): v for k, v in headers("sync").items()})

    assert (decision.status, decision.verdict, requested) == (200, Verdict.ACKNOWLEDGED, [])
    assert store.push_channels() == [a_channel(confirmed_at=NOW)]


@pytest.mark.parametrize(
    ("forged", "status"),
    [
        (headers(token="guess"), 403),
        ({k: v for k, v in headers().items() if k != "X-Goog-Channel-Token"}, 403),
        (headers(**{"X-Goog-Resource-ID": "res-other"}), 403),
        (headers(**{"X-Goog-Channel-ID": "calsync-unknown"}), 404),
        (headers(**{"X-Goog-Resource-State": "sideways"}), 400),
        ({"Content-Type": "text/plain"}, 400),
    ],
)
def test_a_forged_or_malformed_notification_is_refused_and_changes_nothing(
    store: MemoryStateStore, forged: dict[str, str], status: int
) -> None:
    requested: list[str] = []
    receiver = NotificationReceiver(store, CallbackTrigger(requested.append), debounce=0)

    decision = receiver.handle(forged)

    assert (decision.status, decision.verdict, requested) == (status, Verdict.REFUSED, [])
    assert store.push_channels() == [a_channel()]


def test_not_exists_forgets_the_channel_and_requests_a_sync(store: MemoryStateStore) -> None:
    requested: list[str] = []
    receiver = NotificationReceiver(store, CallbackTrigger(requested.append), debounce=0)

    decision = receiver.handle(headers("not_exists"))

    assert (decision.status, requested, store.push_channels()) == (200, ["studio.ann"], [])


def test_ten_notifications_within_the_debounce_give_one_sync(store: MemoryStateStore) -> None:
    requested: list[tuple[str, float]] = []
    receiver = NotificationReceiver(
        store, CallbackTrigger(lambda p: requested.append((p, time.monotonic()))), debounce=0.2
    )
    start = time.monotonic()

    for _ in range(10):
        receiver.handle(headers())
    time.sleep(0.35)
    receiver.handle(headers())
    receiver.close()

    assert [p for p, _ in requested] == ["studio.ann", "studio.ann"]
    assert 0.2 <= requested[0][1] - start < 0.5


def test_a_debouncer_keeps_profiles_apart_and_survives_a_failing_target() -> None:
    seen: list[str] = []
    fired = threading.Event()

    def target(profile_id: str) -> None:
        seen.append(profile_id)
        if profile_id == "bad":
            raise RuntimeError("queue down")
        fired.set()

    debouncer = Debouncer(CallbackTrigger(target), 0.05)
    for profile_id in ("bad", "a", "b", "a"):
        debouncer.request_sync(profile_id)
    assert sorted(debouncer.pending()) == ["a", "b", "bad"]
    debouncer.close()

    assert sorted(seen) == ["a", "b", "bad"]


# -- the lifecycle, on a backend that records its calls ------------------------------------------


class WatchingCalendar(MemoryCalendarBackend):
    """An in-memory calendar that opens channels as Google does (ids and expiry)."""

    supports_push = True

    def __init__(self, refuse: bool = False) -> None:
        super().__init__(calendars=[CAL, "other"])
        self.refuse = refuse
        self.watched: list[tuple[str, str, str]] = []
        self.stopped: list[str] = []

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        if self.refuse:
            raise InvalidRequest("WebHook callback must be HTTPS")
        self.watched.append((calendar_id, channel_id, token))
        return WatchChannel(channel_id, f"res-{calendar_id}", clock_now() + ttl)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.stopped.append(channel_id)


_now = [NOW]


def clock_now() -> datetime:
    return _now[0]


@pytest.fixture
def clock() -> list[datetime]:
    _now[0] = NOW
    return _now


def profile(calendar_id: str | None = CAL, **changes: Any) -> SyncProfile:
    return attrs.evolve(SyncProfile("studio.ann", "ann", calendar_id, SyncOptions()), **changes)


def lifecycle(store: MemoryStateStore) -> PushChannels:
    return PushChannels(
        store,
        "https://sync.studio.example/google/notifications",
        ttl=timedelta(days=7),
        renew_before=timedelta(days=1),
        clock=clock_now,
    )


def test_a_channel_is_opened_with_a_secret_token_kept_only_as_a_hash(
    clock: list[datetime],
) -> None:
    store, calendar = MemoryStateStore(), WatchingCalendar()

    lifecycle(store).maintain(profile(), calendar)

    [(calendar_id, channel_id, token)] = calendar.watched
    [stored] = store.push_channels("studio.ann")
    assert (calendar_id, stored.channel_id, stored.resource_id) == (CAL, channel_id, f"res-{CAL}")
    assert stored.token_hash == token_hash(token) != token
    assert len(token) >= 40
    assert stored.expires_at == NOW + timedelta(days=7)


def test_a_channel_is_renewed_before_expiry_new_one_first_then_old_stopped(
    clock: list[datetime],
) -> None:
    store, calendar = MemoryStateStore(), WatchingCalendar()
    push = lifecycle(store)
    push.maintain(profile(), calendar)
    [first] = store.push_channels()

    clock[0] = NOW + timedelta(days=5)
    push.maintain(profile(), calendar)
    assert store.push_channels() == [first]
    assert push.due_in(profile()) == timedelta(days=1).total_seconds()

    clock[0] = NOW + timedelta(days=6, minutes=1)
    push.maintain(profile(), calendar)

    [second] = store.push_channels()
    assert second.channel_id != first.channel_id
    assert [c for _, c, _ in calendar.watched] == [first.channel_id, second.channel_id]
    assert calendar.stopped == [first.channel_id]


def test_health_needs_a_confirmed_unexpired_channel_on_the_current_calendar(
    clock: list[datetime],
) -> None:
    store, calendar = MemoryStateStore(), WatchingCalendar()
    push = lifecycle(store)
    push.maintain(profile(), calendar)
    [channel] = store.push_channels()
    assert not push.healthy(profile())

    store.put_push_channel(attrs.evolve(channel, confirmed_at=NOW))
    assert push.healthy(profile())
    assert not push.healthy(profile("other"))

    clock[0] = NOW + timedelta(days=8)
    assert not push.healthy(profile())


def test_a_refused_watch_is_retried_only_after_retry_after(clock: list[datetime]) -> None:
    store, calendar = MemoryStateStore(), WatchingCalendar(refuse=True)
    push = lifecycle(store)

    push.maintain(profile(), calendar)

    assert store.push_channels() == []
    assert push.due_in(profile()) == push.retry_after.total_seconds()


def test_a_switched_calendar_and_a_retired_profile_stop_their_channels(
    clock: list[datetime],
) -> None:
    store, calendar = MemoryStateStore(), WatchingCalendar()
    push = lifecycle(store)
    push.maintain(profile(), calendar)
    [old] = store.push_channels()
    assert push.due_in(profile("other")) == 0

    push.maintain(profile("other"), calendar)
    [new] = store.push_channels()
    push.retire("studio.ann", calendar)

    assert new.calendar_id == "other"
    assert calendar.stopped == [old.channel_id, new.channel_id]
    assert store.push_channels() == []


def test_a_backend_without_push_is_left_to_polling(clock: list[datetime]) -> None:
    store = MemoryStateStore()
    push = lifecycle(store)

    push.maintain(profile(), MemoryCalendarBackend(calendars=[CAL]))

    assert store.push_channels() == []
    assert push.due_in(profile()) == push.retry_after.total_seconds()


def test_a_channel_whose_watch_answer_never_came_learns_its_resource_from_google(
    store: MemoryStateStore,
) -> None:
    """The process opening a channel died in the watch request: the row (written first) has
    no resource id. Google's first message carries it, so the channel can be stopped and
    renewed instead of being abandoned while Google goes on posting to it."""
    store.put_push_channel(a_channel(resource_id="", expires_at=NOW + timedelta(days=7)))
    receiver = NotificationReceiver(store, CallbackTrigger(print), debounce=0, clock=lambda: NOW)
    expiry = "Sun, 08 Mar 2031 07:00:00 GMT"  # Google gave less than the 7 days asked

    decision = receiver.handle(headers("sync", **{"X-Goog-Channel-Expiration": expiry}))

    assert decision.verdict is Verdict.ACKNOWLEDGED
    learnt = a_channel(confirmed_at=NOW, expires_at=datetime(2031, 3, 8, 7, tzinfo=UTC))
    assert store.push_channels() == [learnt]


def test_a_learnt_channel_is_kept_by_upkeep_not_abandoned_and_reopened(
    store: MemoryStateStore, clock: list[datetime]
) -> None:
    store.put_push_channel(a_channel(resource_id=""))
    receiver = NotificationReceiver(store, CallbackTrigger(print), debounce=0, clock=lambda: NOW)
    receiver.handle(headers("sync"))  # no expiration header: the asked expiry stays
    clock[0] = NOW + timedelta(minutes=30)  # past the 10 minutes a pending row is kept
    calendar = WatchingCalendar()

    lifecycle(store).maintain(profile(), calendar)

    assert [c.channel_id for c in store.push_channels()] == ["calsync-1"]
    assert (calendar.watched, calendar.stopped) == ([], [])
    assert lifecycle(store).healthy(profile())


def test_a_notification_never_changes_a_known_resource_id(store: MemoryStateStore) -> None:
    receiver = NotificationReceiver(store, CallbackTrigger(print), debounce=0, clock=lambda: NOW)

    decision = receiver.handle(headers("sync", **{"X-Goog-Resource-ID": "res-other"}))

    assert decision.status == 403
    assert store.push_channels() == [a_channel()]


def test_of_two_live_channels_on_the_calendar_upkeep_keeps_the_newest(
    clock: list[datetime],
) -> None:
    """Two live channels on one calendar: a renewal whose process died after the watch, its
    channel filled in from Google's message. The newest is kept, the other stopped."""
    store, calendar = MemoryStateStore(), WatchingCalendar()
    push = lifecycle(store)
    push.maintain(profile(), calendar)
    [older] = store.push_channels()
    clock[0] = NOW + timedelta(hours=1)
    newer = attrs.evolve(older, channel_id="calsync-2", resource_id="res-2", created_at=clock[0])
    store.put_push_channel(newer)

    push.maintain(profile(), calendar)

    assert store.push_channels() == [newer]
    assert calendar.stopped == [older.channel_id]

"""A watch whose answer is lost (a timeout or a reset after Google opened the channel) keeps
its row, as after a crash: Google's `sync` message fills it in, and no second channel is
opened beside it. A watch Google refused leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calsync import MemoryStateStore, SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.errors import RateLimited, TransientError
from calsync.push import CallbackTrigger, NotificationReceiver, PushChannels, Verdict
from calsync.testing import MemoryCalendarBackend

NOW = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
CAL = "studio@group.calendar.google.com"
ANN = SyncProfile("studio.ann", "ann", CAL, SyncOptions())
RETRY = timedelta(minutes=5)


class Google(MemoryCalendarBackend):
    """Opens channels; the answer to the next watch is lost (``lose``) after the channel was
    opened, or the watch is refused before (``refuse``)."""

    supports_push = True

    def __init__(self) -> None:
        super().__init__(calendars=[CAL])
        self.live: dict[str, str] = {}  # channel id -> token
        self.lose: Exception | None = None
        self.refuse: Exception | None = None

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        if self.refuse is not None:
            raise self.refuse
        self.live[channel_id] = token
        if self.lose is not None:
            lost, self.lose = self.lose, None
            raise lost
        return WatchChannel(channel_id, "res-cal", NOW + ttl)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        self.live.pop(channel_id, None)


def channels(store: MemoryStateStore, clock: list[datetime]) -> PushChannels:
    return PushChannels(store, "https://sync.studio.example/google/notifications",
                        retry_after=RETRY, clock=lambda: clock[0])  # fmt: skip


def sync_message(store: MemoryStateStore, channel_id: str, token: str) -> Verdict:
    receiver = NotificationReceiver(store, CallbackTrigger(print), debounce=0)
    return receiver.handle({"X-Goog-Channel-ID": channel_id, "X-Goog-Channel-Token": token,
                            "X-Goog-Resource-ID": "res-cal",
                            "X-Goog-Resource-State": "sync"}).verdict  # fmt: skip


def test_a_channel_whose_watch_answer_was_lost_is_taken_up_by_googles_sync_message() -> None:
    clock, google, store = [NOW], Google(), MemoryStateStore()
    push = channels(store, clock)
    google.lose = TransientError("The read operation timed out")
    push.maintain(ANN, google)
    [(opened, token)] = google.live.items()

    verdict = sync_message(store, opened, token)
    clock[0] = NOW + RETRY
    push.maintain(ANN, google)  # the next upkeep

    assert verdict is Verdict.ACKNOWLEDGED
    assert list(google.live) == [opened]  # no second channel
    [channel] = store.push_channels()
    assert (channel.channel_id, channel.resource_id) == (opened, "res-cal")
    assert push.healthy(ANN)


def test_a_watch_without_answer_nor_message_is_replaced_at_the_next_attempt() -> None:
    clock, google, store = [NOW], Google(), MemoryStateStore()
    push = channels(store, clock)
    google.lose = TransientError("Backend Error", status=503)
    push.maintain(ANN, google)
    [lost] = google.live

    clock[0] = NOW + RETRY - timedelta(seconds=1)
    push.maintain(ANN, google)  # nothing before retry_after
    assert [c.channel_id for c in store.push_channels()] == [lost]
    clock[0] = NOW + RETRY
    push.maintain(ANN, google)

    [channel] = store.push_channels()
    assert channel.channel_id != lost
    assert channel.resource_id == "res-cal"


def test_a_watch_google_refused_leaves_no_channel_behind() -> None:
    clock, google, store = [NOW], Google(), MemoryStateStore()
    google.refuse = RateLimited("Rate Limit Exceeded", status=429)

    channels(store, clock).maintain(ANN, google)

    assert store.push_channels() == []

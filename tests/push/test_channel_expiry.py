"""A channel's expiry: never later than calsync asked for, whatever a header or an answer
says, and a channel past it no longer starts syncs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from calsync import MemoryStateStore, SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.push import CallbackTrigger, NotificationReceiver, PushChannels, Verdict, token_hash
from calsync.state.base import PushChannel
from calsync.testing import MemoryCalendarBackend

NOW = datetime(2031, 3, 2, 8, 0, tzinfo=UTC)
ASKED = NOW + timedelta(days=7)
CAL = "studio@group.calendar.google.com"


def pending_channel(**changes: Any) -> PushChannel:
    """A row whose watch answer never came: no resource id, the expiry asked for."""
    channel = PushChannel("calsync-1", "studio.ann", CAL, "", token_hash("s3cret"), ASKED, NOW)
    return attrs.evolve(channel, **changes)


def receive(
    store: MemoryStateStore, state: str = "sync", *, at: datetime = NOW, expiration: str = ""
) -> tuple[Any, ...]:
    requested: list[str] = []
    receiver = NotificationReceiver(
        store, CallbackTrigger(requested.append), debounce=0, clock=lambda: at
    )
    headers = {
        "X-Goog-Channel-ID": "calsync-1",
        "X-Goog-Channel-Token": "s3cret",
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Resource-State": state,
        "X-Goog-Channel-Expiration": expiration,
    }
    decision = receiver.handle(headers)
    return decision.status, decision.verdict, requested


@pytest.mark.parametrize(
    "expiration",
    [
        "Fri, 31 Dec 9999 23:30:00 -0100",  # beyond datetime's range once in UTC
        "Fri, 31 Dec 9999 23:59:59 GMT",  # a channel that would never need renewal
        "Mon, 09 Mar 2031 08:00:01 GMT",  # a second more than asked
        "Sat, 01 Mar 2031 08:00:00 GMT",  # before the channel was opened
        "garbage",
        "Sun, 08 Mar 2031 07:00:00",  # no zone
    ],
)
def test_an_odd_expiration_header_is_ignored_and_the_asked_expiry_kept(expiration: str) -> None:
    store = MemoryStateStore()
    store.put_push_channel(pending_channel())

    answer = receive(store, expiration=expiration)

    assert answer == (200, Verdict.ACKNOWLEDGED, [])
    [learnt] = store.push_channels()
    assert (learnt.resource_id, learnt.expires_at, learnt.confirmed_at) == ("res-1", ASKED, NOW)


def test_a_shorter_expiration_header_is_taken() -> None:
    store = MemoryStateStore()
    store.put_push_channel(pending_channel())

    receive(store, expiration="Fri, 06 Mar 2031 08:00:00 +0100")

    [learnt] = store.push_channels()
    assert learnt.expires_at == datetime(2031, 3, 6, 7, tzinfo=UTC)


def test_a_watch_answer_later_than_asked_is_cut_to_the_asked_expiry() -> None:
    class GenerousCalendar(MemoryCalendarBackend):
        supports_push = True

        def watch_events(
            self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
        ) -> WatchChannel:
            return WatchChannel(channel_id, "res-1", datetime(9999, 12, 31, tzinfo=UTC))

    store = MemoryStateStore()
    push = PushChannels(store, "https://sync.studio.example/n", clock=lambda: NOW)

    push.maintain(SyncProfile("studio.ann", "ann", CAL, SyncOptions()), GenerousCalendar())

    [opened] = store.push_channels()
    assert opened.expires_at == NOW + push.ttl


@pytest.mark.parametrize("state", ["exists", "not_exists", "sync"])
def test_a_notification_on_an_expired_channel_is_refused_and_changes_nothing(state: str) -> None:
    store = MemoryStateStore()
    expired = pending_channel(resource_id="res-1", confirmed_at=NOW)
    store.put_push_channel(expired)

    answer = receive(store, state, at=ASKED)

    assert answer == (404, Verdict.REFUSED, [])
    assert store.push_channels() == [expired]

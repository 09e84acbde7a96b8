"""How often a profile with push is polled, and when its channel's upkeep calls for a run:
the one rule the in-process processor and the Celery ``sync_due`` both follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calsync import MemoryStateStore, SyncProfile
from calsync.push import PushChannels
from calsync.state.base import PushChannel

NOW = datetime(2031, 3, 2, 9, tzinfo=UTC)
PROFILE = SyncProfile("studio.u1", "u1", "cal-1")
INTERVAL, SAFETY = 300.0, 3600.0


def channels(*rows: PushChannel) -> PushChannels:
    store = MemoryStateStore()
    for row in rows:
        store.put_push_channel(row)
    return PushChannels(store, "https://sync.example/google/notifications", clock=lambda: NOW)


def channel(*, calendar: str = "cal-1", life: timedelta = timedelta(days=7), age: timedelta
            = timedelta(hours=1), confirmed: bool = True) -> PushChannel:  # fmt: skip
    opened = NOW - age
    return PushChannel(
        channel_id=f"ch-{calendar}-{age}", profile_id=PROFILE.id, calendar_id=calendar,
        resource_id="res-1", token_hash="0" * 64, expires_at=opened + life, created_at=opened,
        confirmed_at=opened if confirmed else None,
    )  # fmt: skip


def test_a_healthy_channel_stretches_the_poll_to_the_safety_interval() -> None:
    assert channels(channel()).poll_interval(PROFILE, INTERVAL, SAFETY) == SAFETY


def test_an_unconfirmed_expired_or_missing_channel_keeps_the_ordinary_poll() -> None:
    unconfirmed = channel(confirmed=False)
    expired = channel(age=timedelta(days=8))
    elsewhere = channel(calendar="cal-old")
    for rows in ((unconfirmed,), (expired,), (elsewhere,), ()):
        assert channels(*rows).poll_interval(PROFILE, INTERVAL, SAFETY) == INTERVAL


def test_a_fresh_channel_needs_no_upkeep_before_its_renewal() -> None:
    push = channels(channel(age=timedelta(hours=1)))
    at = push.upkeep_at(PROFILE, last_run=1000.0, now=1000.0, interval=INTERVAL)
    # opened an hour ago, renewed a day before its 7-day expiry
    assert at == 1000.0 + timedelta(days=5, hours=23).total_seconds()


def test_a_missing_channel_is_opened_at_the_next_run_but_never_in_a_loop() -> None:
    push = channels()
    assert push.upkeep_at(PROFILE, last_run=1000.0, now=1010.0, interval=INTERVAL) == 1300.0
    assert push.upkeep_at(PROFILE, last_run=1000.0, now=1400.0, interval=INTERVAL) == 1400.0


def test_a_channel_on_another_calendar_is_stopped_at_the_next_run() -> None:
    push = channels(channel(calendar="cal-old"))
    assert push.upkeep_at(PROFILE, last_run=0.0, now=5000.0, interval=INTERVAL) == 5000.0


def test_a_profile_without_a_calendar_needs_no_upkeep() -> None:
    contacts_only = SyncProfile("studio.u2", "u2", None)
    assert channels().upkeep_at(contacts_only, last_run=0.0, now=1.0, interval=INTERVAL) is None

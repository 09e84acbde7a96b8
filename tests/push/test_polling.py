"""How often a profile with push is polled, and when its channel's upkeep calls for a run:
the one rule the in-process processor and the Celery ``sync_due`` both follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calsync import MemoryStateStore, SyncProfile
from calsync.push import Polling, PushChannels
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


def polling(push: PushChannels, *, last_run: float | None = 1000.0, now: float = 1000.0,
            profile: SyncProfile = PROFILE) -> Polling:  # fmt: skip
    return push.polling(
        profile, last_run=last_run, now=now, interval=INTERVAL, safety_interval=SAFETY
    )


def test_a_healthy_channel_stretches_the_poll_to_the_safety_interval() -> None:
    assert polling(channels(channel())).every == SAFETY


def test_an_unconfirmed_expired_or_missing_channel_keeps_the_ordinary_poll() -> None:
    unconfirmed = channel(confirmed=False)
    expired = channel(age=timedelta(days=8))
    elsewhere = channel(calendar="cal-old")
    for rows in ((unconfirmed,), (expired,), (elsewhere,), ()):
        assert polling(channels(*rows)).every == INTERVAL


def test_a_fresh_channel_needs_no_upkeep_before_its_renewal() -> None:
    at = polling(channels(channel(age=timedelta(hours=1)))).upkeep_at
    # opened an hour ago, renewed a day before its 7-day expiry
    assert at == 1000.0 + timedelta(days=5, hours=23).total_seconds()


def test_a_missing_channel_is_opened_at_the_next_run_but_never_in_a_loop() -> None:
    push = channels()
    assert polling(push, last_run=1000.0, now=1010.0).upkeep_at == 1300.0
    assert polling(push, last_run=1000.0, now=1400.0).upkeep_at == 1400.0


def test_a_channel_on_another_calendar_is_stopped_at_the_next_run() -> None:
    assert (
        polling(channels(channel(calendar="cal-old")), last_run=0.0, now=5000.0).upkeep_at == 5000.0
    )


def test_a_profile_without_a_calendar_or_a_first_run_has_no_upkeep_time() -> None:
    contacts_only = SyncProfile("studio.u2", "u2", None)
    assert polling(channels(), profile=contacts_only).upkeep_at is None
    assert polling(channels(), last_run=None).upkeep_at is None  # its first run comes anyway


def test_polling_reads_the_profiles_channels_once() -> None:
    push = channels(channel())
    reads: list[str | None] = []
    original = push.store.push_channels

    def counted(profile_id: str | None = None) -> list[PushChannel]:
        reads.append(profile_id)
        return original(profile_id)

    push.store.push_channels = counted  # type: ignore[method-assign]
    polling(push)

    assert reads == [PROFILE.id]

"""The worker metrics count what runs did, from their reports and their pacers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from studio_world import GROUP, USER, client, make_world, session

from calsync import MemoryStateStore
from calsync.engine import SyncReport
from calsync.engine.report import HeldDeletion
from calsync.google.pacing import QuotaPacer
from calsync.metrics import MeteredPacer, observe_profiles, observe_run
from calsync.model import Channel
from calsync.policies import Side
from calsync.processor import ProfileRun
from calsync.profile import ProfileStatus, SyncProfile


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def writes(channel: Channel, side: Side, operation: str) -> float:
    labels = {"channel": channel.value, "side": side.value, "operation": operation}
    return value("calsync_writes_total", **labels)


def test_a_run_counts_its_outcome_writes_and_held_deletions() -> None:
    before = {
        "ok": value("calsync_runs_total", outcome="ok"),
        "created": writes(Channel.CALENDAR, Side.REMOTE, "created"),
        "held": value("calsync_held_deletions_total"),
        "durations": value("calsync_run_duration_seconds_count"),
    }
    counts = Counter({"remote.created": 3})
    report = SyncReport("s.1", datetime.now(UTC), counts=counts,
                        channel_counts=Counter({"calendar.remote.created": 3}))  # fmt: skip
    report.held.append(HeldDeletion(Channel.CALENDAR, Side.REMOTE, "e1", "an event"))
    observe_run(ProfileRun("s.1", report), 0.5)
    observe_run(ProfileRun("s.2", skipped="another runner is syncing this user"), 0.0)
    assert value("calsync_runs_total", outcome="ok") == before["ok"] + 1
    assert value("calsync_runs_total", outcome="skipped") >= 1
    assert writes(Channel.CALENDAR, Side.REMOTE, "created") == before["created"] + 3
    assert value("calsync_held_deletions_total") == before["held"] + 1
    assert value("calsync_run_duration_seconds_count") == before["durations"] + 1


def test_writes_are_counted_by_channel_side_and_operation() -> None:
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP)
    for n in range(3):
        world.schedule.add(USER, session(f"s{n}", day=2 + n))
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.clients.add(USER, client("c2", "Ben", "Jones"), groups=[GROUP])
    keys = [(channel, Side.REMOTE, "created") for channel in Channel]
    before = {key: writes(*key) for key in keys}

    report = world.sync()
    observe_run(ProfileRun(report.profile_id, report), 0.1)

    counted = {key: writes(*key) - before[key] for key in keys}
    assert counted == {keys[0]: 3, keys[1]: 2}
    assert {key: float(report.count(key[1], key[2], key[0])) for key in keys} == counted
    assert report.count(Side.REMOTE, "created") == 5


def test_a_failed_run_and_a_revoked_token_are_told_apart() -> None:
    reauth = SyncReport("s.1", datetime.now(UTC), needs_reauth=True, fatal="revoked")
    before = value("calsync_runs_total", outcome="needs_reauth")
    failed = value("calsync_runs_total", outcome="failed")
    observe_run(ProfileRun("s.1", reauth), 0.1)
    observe_run(ProfileRun("s.2", SyncReport("s.2", datetime.now(UTC), fatal="bug")), 0.1)
    assert value("calsync_runs_total", outcome="needs_reauth") == before + 1
    assert value("calsync_runs_total", outcome="failed") == failed + 1


def test_the_metered_pacer_counts_requests_calls_and_waits() -> None:
    sleeps: list[float] = []
    pacer = MeteredPacer(QuotaPacer(12, 60.0, clock=lambda: 0.0, sleep=sleeps.append))
    calls = value("calsync_google_api_calls_total")
    requests = value("calsync_google_http_requests_total")
    waited = value("calsync_quota_wait_seconds_total")
    pacer.acquire(1)  # one call
    pacer.acquire(5)  # a batch of five: one HTTP request
    with pacer.calls(6):  # six more, past the window's room (11 calls): the pacer waits
        pass
    assert value("calsync_google_api_calls_total") == calls + 12
    assert value("calsync_google_http_requests_total") == requests + 3
    assert value("calsync_quota_wait_seconds_total") == waited + sum(sleeps)
    assert sum(sleeps) > 0
    assert (pacer.admitted, pacer.burst) == (12, pacer.inner.burst)


def test_profiles_are_counted_by_status() -> None:
    profiles = [
        SyncProfile("s.1", "1", "c"),
        SyncProfile("s.2", "2", "c", status=ProfileStatus.NEEDS_REAUTH),
        SyncProfile("s.3", "3", "c", status=ProfileStatus.NEEDS_REAUTH),
        SyncProfile("s.4", "4", "c", enabled=False, status=ProfileStatus.NEEDS_REAUTH),
    ]
    observe_profiles(profiles)
    assert value("calsync_profiles", status=ProfileStatus.NEEDS_REAUTH.value) == 2
    assert value("calsync_profiles", status=ProfileStatus.OK.value) == 1

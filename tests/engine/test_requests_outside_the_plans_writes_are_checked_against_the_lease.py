"""Requests a run sends outside its plan's writes may write too: the contact group made for
the sync group, the split-series repair inside a calendar listing, the push channel opened or
renewed after the run. A runner that lost the profile's lease while it waited (for quota, or
paused) must send none of them: the backend's check right before each request
(:func:`calsync.backends.before_write`) stops the run there, as it does for the plan's writes.

The doubles below lose the lease inside the call and then check, as Google's backend does
before each request it sends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lease_check import Lease
from studio_world import CAL, GROUP, NOW, USER, StudioBuilders, World, client

from calsync import (
    LeaseLost,
    MemoryStateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
)
from calsync.backends import RemoteEvent, RemoteListing, WatchChannel, before_write
from calsync.leases import HeldLease
from calsync.model import TimeRange
from calsync.processor import Connection, SyncProcessor
from calsync.push import PushChannels
from calsync.testing import (
    MemoryCalendarBackend,
    MemoryContactsBackend,
    MemoryProfileStore,
    MemoryScheduleSource,
)


class GroupMadeAfterAWait(MemoryContactsBackend):
    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.lease = lease

    def ensure_group(self, name: str) -> str:
        self.lease.lost = True  # a long wait for quota before the create
        before_write()
        return super().ensure_group(name)


def test_a_runner_that_lost_its_lease_before_making_the_contact_group_makes_none(
    world: World,
) -> None:
    lease = Lease()
    world.contacts = GroupMadeAfterAWait(lease)
    world.options(contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1", "Ann"), [GROUP])

    with pytest.raises(LeaseLost):
        world.sync(checkpoint=lease.check)

    assert world.contacts.groups() == {}


class RepairedInTheListing(MemoryCalendarBackend):
    """A listing that writes (Google's backend strips a split series' copied marker)."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(calendars=[CAL])
        self.lease = lease
        self.repaired = 0

    def list_events(
        self, calendar_id: str, window: TimeRange, cursor: str | None, *, read_only: bool = False
    ) -> RemoteListing[RemoteEvent]:
        listing = super().list_events(calendar_id, window, cursor, read_only=read_only)
        self.lease.lost = True  # paused between the pages and the repair's patch
        before_write()
        self.repaired += 1
        return listing


def test_a_runner_that_lost_its_lease_in_a_listing_sends_no_repair(world: World) -> None:
    lease = Lease()
    world.calendar = RepairedInTheListing(lease)
    world.schedule.add(USER, StudioBuilders(NOW).session("s1"))

    with pytest.raises(LeaseLost):
        world.sync(checkpoint=lease.check)

    assert world.calendar.repaired == 0
    assert world.calendar.events(CAL) == {}


class WatchedAfterAPause(MemoryCalendarBackend):
    supports_push = True

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(calendars=["cal"])
        self.monkeypatch = monkeypatch
        self.opened: list[str] = []

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        real_now = HeldLease.now  # the process sleeps past its lease here
        self.monkeypatch.setattr(
            HeldLease, "now", staticmethod(lambda: tuple(t + 60 for t in real_now()))
        )
        before_write()
        self.opened.append(channel_id)
        return WatchChannel(channel_id, "res-1", NOW + ttl)


def test_a_runner_that_lost_its_lease_before_opening_a_push_channel_opens_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStateStore()
    profile = SyncProfile("studio.ann", "ann", "cal", SyncOptions())
    calendar = WatchedAfterAPause(monkeypatch)
    processor = SyncProcessor(
        SyncEngine(store, MemoryScheduleSource(now=lambda: NOW), clock=lambda: NOW),
        MemoryProfileStore([profile]),
        lambda p: Connection(calendar),
        push=PushChannels(store, "https://sync.studio.example/n", clock=lambda: NOW),
        lease_ttl=timedelta(seconds=30),
        clock=lambda: NOW,
    )

    run = processor.run_profile(profile)

    assert run.lease_lost, run
    assert calendar.opened == []  # (the channel's row, written first, is one never opened)

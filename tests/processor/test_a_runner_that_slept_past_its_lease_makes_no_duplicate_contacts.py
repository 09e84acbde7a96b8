"""Runner A is paused (SIGSTOP, a laptop's lid) inside its batch of contact creates, after
every check the engine makes and before the batch reaches Google, for longer than its lease.
Runner B takes the lease over and makes the contacts. When A wakes, its batch is not sent:
each contact exists once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

import pytest
from studio_world import NOW, Clock, client

from calsync import MemoryStateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.backends import ContactWrite, RemoteContact, WriteResult
from calsync.leases import HeldLease
from calsync.processor import Connection, ProfileRun, SyncProcessor
from calsync.testing import (
    MemoryCalendarBackend,
    MemoryContactsBackend,
    MemoryContactSource,
    MemoryProfileStore,
    MemoryScheduleSource,
)

GROUP = "Weddings"
TTL = timedelta(seconds=1)


class PausedInItsFirstWrite(MemoryContactsBackend):
    """Google's contacts as runner A reaches them: its first write call is held (the process
    asleep, after the engine's checks) until ``wake`` is set."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(now=clock)
        self.asleep = threading.Event()
        self.wake = threading.Event()

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        if not self.asleep.is_set():
            self.asleep.set()
            assert self.wake.wait(30)
        return super().write_contacts(group_id, writes)


def test_a_runner_woken_after_its_lease_went_sends_nothing_and_each_contact_exists_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(NOW)
    store = MemoryStateStore()
    clients = MemoryContactSource(now=clock)
    for number in range(3):
        clients.add("u1", client(f"c{number}", f"Client{number}"), [GROUP])
    profile = SyncProfile("st.u1", "u1", "cal", SyncOptions(contacts=True, client_group=GROUP))
    profiles = MemoryProfileStore([profile])
    google = PausedInItsFirstWrite(clock)
    calendar = MemoryCalendarBackend(now=clock, calendars=["cal"])
    engine = SyncEngine(store, MemoryScheduleSource(now=clock), clients, clock=clock)

    def runner(holder: str) -> SyncProcessor:
        return SyncProcessor(
            engine,
            profiles,
            lambda p: Connection(calendar, google),
            holder=holder,
            lease_ttl=TTL,
            lease_poll=0.05,
            clock=clock,
        )

    runs: list[ProfileRun] = []
    a = threading.Thread(target=lambda: runs.append(runner("runner-a").run_profile(profile)))
    a.start()
    assert google.asleep.wait(10)
    # the whole process sleeps, its lease keeper too: on waking, A's lease is long gone
    clock.advance(seconds=5)
    real_now = HeldLease.now
    monkeypatch.setattr(HeldLease, "now", staticmethod(lambda: tuple(t + 5 for t in real_now())))
    taken = runner("runner-b").run_profile(profile, wait=5)
    assert taken.report is not None, taken
    assert taken.report.ok, taken.report.summary()
    google.wake.set()
    a.join(10)

    [woken] = runs
    assert woken.lease_lost, woken
    per_client = Counter(
        c.fields.given_name if c.fields else None for c in google.contacts(GROUP).values()
    )
    assert per_client == Counter({"Client0": 1, "Client1": 1, "Client2": 1})

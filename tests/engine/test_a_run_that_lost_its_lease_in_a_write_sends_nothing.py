"""A run whose runner lost the profile's lease while it was held up inside a remote write —
after the engine's checkpoint and the journaling, before anything reached Google (a paused
process, a sleeping laptop, a long wait for quota) — sends nothing: the backend calls the
run's checkpoint again right before each write. Contacts have no ids calsync chooses, so a
write sent after the lease went would make every contact a second time."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from lease_check import Lease
from studio_world import GROUP, USER, World, client

from calsync import LeaseLost, SyncReport
from calsync.backends import ContactWrite, RemoteContact, WriteResult
from calsync.model import Channel
from calsync.testing import MemoryContactsBackend


class HeldUpInTheWrite(MemoryContactsBackend):
    """Google's contacts, reached by a runner held up inside each write call (before anything
    is sent) for longer than its lease lasts."""

    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.lease = lease

    def write_contacts(
        self, group_id: str, writes: Sequence[ContactWrite]
    ) -> list[WriteResult[RemoteContact]]:
        self.lease.lost = True  # the process sleeps here, past the lease's time
        return super().write_contacts(group_id, writes)


def test_a_runner_that_lost_its_lease_inside_a_contacts_write_makes_no_contact(
    world: World,
) -> None:
    lease = Lease()
    world.contacts = HeldUpInTheWrite(lease)
    world.options(contacts=True, client_group=GROUP)
    for number in range(3):
        world.clients.add(USER, client(f"c{number}", f"Client{number}"), [GROUP])

    with pytest.raises(LeaseLost):
        world.sync(checkpoint=lease.check)

    assert world.contacts.contacts(GROUP) == {}
    assert world.contacts.calls["create_contact"] == 0
    # the intents stay: the next run (this runner's or another's) finds nothing made, and
    # makes each contact once
    assert set(world.store.pending(world.profile.id, Channel.CONTACTS)) == {"c0", "c1", "c2"}
    lease.lost = False
    world.contacts = MemoryContactsBackend()
    report: SyncReport = world.sync()
    assert report.ok, report.summary()
    assert len(world.contacts.contacts(GROUP)) == 3

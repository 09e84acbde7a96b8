"""A run whose runner lost the profile's lease while a write waited for quota (the pacer's
wait comes after every check the engine makes) sends nothing once the wait is over: the
request is checked again right before it goes out. Contacts have no ids calsync chooses, so
a batch create sent after the lease went would make every contact a second time (emulator,
real client, through the engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from lease_check import Lease

from calsync import LeaseLost
from calsync.google.account import GoogleAccount
from calsync.google.pacing import QuotaPacer
from calsync.model import Channel

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


class LongWaitForBatches(QuotaPacer):
    """A pacer whose every call of several units (here: only a batch of writes) waits for
    quota longer than the runner's lease lasts."""

    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.lease = lease

    @contextmanager
    def calls(self, calls: int = 1) -> Iterator[float]:
        if calls > 1:
            self.lease.lost = True  # the wait outlasted the lease: another runner has it now
        with super().calls(calls) as waited:
            yield waited


def test_a_contacts_batch_that_waited_for_quota_past_the_lease_is_never_sent(
    world: MakeWorld, studio: StudioBuilders, account_for: Callable[..., GoogleAccount]
) -> None:
    w = world()
    lease = Lease()
    w.account = account_for(w.token, pacer=LongWaitForBatches(lease))
    for number in range(3):
        w.clients.add(studio.user, studio.client(f"c{number}", f"Client{number}"), [studio.group])

    with pytest.raises(LeaseLost):
        w.sync(checkpoint=lease.check)

    assert w.group_members() == {}
    assert w.google.account(w.token).contacts == {}
    # the intents stay: the next run finds nothing made, and makes each contact once
    assert set(w.store.pending(w.profile.id, Channel.CONTACTS)) == {"c0", "c1", "c2"}
    w.account = account_for(w.token)
    report = w.sync()
    assert report.ok, report.summary()
    assert len(w.group_members()) == 3

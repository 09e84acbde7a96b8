"""Google refuses an expired access token (401) and the client refreshes it and sends the
request again, inside the request: after every check the engine and the caller make. A token
service that answers after the runner's lease is gone must not let the write out: every
request the backends send is checked right before it goes, the client's own re-sends too
(emulator, real client, through the engine)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from google.oauth2.credentials import Credentials
from lease_check import Lease

from calsync import LeaseLost
from calsync.google.account import connect
from calsync.google.pacing import QuotaPacer, unpaced
from calsync.google.retry import no_wait_retrying
from calsync.testing import GoogleEmulator
from calsync.testing.emulator.state import email_for_token

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


class HourUpAtTheWrites(QuotaPacer):
    """No pacing; the access token's hour ends as a batch of writes is let through (after
    the engine's checks, before the batch goes out), once."""

    def __init__(self, google: GoogleEmulator) -> None:
        super().__init__()
        self.google = google
        self.armed = False

    @contextmanager
    def calls(self, calls: int = 1) -> Iterator[float]:
        if calls > 1 and self.armed:
            self.armed = False
            self.google.expire_access_tokens()  # Google answers the batch's parts 401
        with unpaced().calls(calls) as waited:
            yield waited


class SlowlyRefreshed(Credentials):
    """Credentials whose token service answers only once the runner's lease has gone."""

    lease: Lease

    def refresh(self, request: Any) -> None:
        super().refresh(request)
        self.lease.lost = True


def test_edits_refused_for_an_expired_token_are_not_sent_again_after_the_lease_was_lost(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    access, refresh = w.google.issue_tokens(email_for_token(w.token))
    credentials = SlowlyRefreshed(
        access, refresh_token=refresh, token_uri=f"{w.google.base_url}/token",
        client_id="calsync-tests", client_secret="not-a-secret",
    )  # fmt: skip
    credentials.lease = lease = Lease()
    pacer = HourUpAtTheWrites(w.google)
    w.account = connect(
        credentials, base_url=w.google.base_url, pacer=pacer, retrying=no_wait_retrying()
    )
    for number in range(3):
        w.schedule.add(studio.user, studio.appointment(f"s{number}", title=f"Before {number}"))
    assert w.sync().ok
    for number in range(3):
        w.schedule.edit(studio.user, f"s{number}", title=f"After {number}")
    pacer.armed = True

    with pytest.raises(LeaseLost):
        w.sync(checkpoint=lease.check)

    titles = sorted(event["summary"] for event in w.events())
    assert titles == ["Before 0", "Before 1", "Before 2"]
    lease.lost = False  # the next run, with the lease again, sends them
    assert w.sync(checkpoint=lease.check).ok
    assert sorted(event["summary"] for event in w.events()) == ["After 0", "After 1", "After 2"]

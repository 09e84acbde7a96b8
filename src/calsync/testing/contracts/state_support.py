"""What the state store contract suites share: row builders, the instant and lease duration the
tests use, and helpers for transactions and threads (see :mod:`calsync.testing.contracts.state`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from calsync.model import Channel, RecordKind
from calsync.state.base import MappingRow, PendingCreate, PushChannel, StateStore

__all__ = [
    "CAL",
    "CON",
    "T0",
    "TTL",
    "Abort",
    "make_mapping_row",
    "make_pending",
    "make_push_channel",
    "rolled_back",
    "run_in_threads",
]

CAL = Channel.CALENDAR
CON = Channel.CONTACTS
#: The instant the tests happen at (stores never read the clock: callers pass ``now``).
T0 = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
#: The lease duration the tests use.
TTL = timedelta(minutes=5)


def make_mapping_row(
    host_id: str = "h1",
    remote_id: str | None = None,
    *,
    profile_id: str = "alice",
    channel: Channel = CAL,
    **changes: Any,
) -> MappingRow:
    """A complete mapping row; ``remote_id`` defaults to ``"r-" + host_id``."""
    row = MappingRow(
        profile_id=profile_id,
        channel=channel,
        host_id=host_id,
        remote_id=remote_id if remote_id is not None else f"r-{host_id}",
        kind=RecordKind.SESSION,
        base='{"title": "Portrait session"}',
        host_revision="rev-1",
        remote_etag='"etag-1"',
        synced_at=T0,
    )
    return attrs.evolve(row, **changes)


def make_pending(
    host_id: str = "c1", *, profile_id: str = "alice", channel: Channel = CON
) -> PendingCreate:
    """An intent to create a remote item for ``host_id``."""
    return PendingCreate(profile_id=profile_id, channel=channel, host_id=host_id, created_at=T0)


def make_push_channel(
    channel_id: str = "ch-1", *, profile_id: str = "alice", expires_in: float = 7, **changes: Any
) -> PushChannel:
    """A push channel on the profile's calendar expiring ``expires_in`` days after ``T0``."""
    channel = PushChannel(
        channel_id=channel_id,
        profile_id=profile_id,
        calendar_id=f"{profile_id}-studio@group.calendar.google.com",
        resource_id=f"res-{channel_id}",
        token_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        expires_at=T0 + timedelta(days=expires_in),
        created_at=T0,
    )
    return attrs.evolve(channel, **changes)


class Abort(Exception):
    """Raised by the tests to abort a transaction."""


@contextmanager
def rolled_back(store: StateStore) -> Iterator[None]:
    """A transaction of ``store`` that ends by raising :class:`Abort`, which is swallowed."""
    with suppress(Abort), store.transaction():
        yield
        raise Abort


def run_in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(0)`` … ``work(count - 1)`` in threads started together; their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not [thread for thread in threads if thread.is_alive()], "a thread hangs"
    assert errors == []
    return results

"""A channel whose stop at Google fails for now is tried again once per ``retry_after`` by all
the processes sharing the state store together (Celery workers, ``calsync run`` beside
``calsync web``), a restarted one included: the channel's row says when its stop was tried,
not one process's memory. Over the emulator and the real Google client, with SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from services import POSTGRES_URL, pg_schema

from calsync import SqliteStateStore, StateStore, SyncOptions, SyncProfile
from calsync.google.account import connect
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.push import PushChannels
from calsync.push.channels import stopping
from calsync.testing.contracts.state_support import run_in_threads
from calsync.testing.emulator import GoogleEmulator

__all__ = ["pg_schema"]  # the fixture, for the PostgreSQL store

pytestmark = pytest.mark.emulator

#: nobody listens there: the emulator's messages to it fail, as they may
ADDRESS = "http://127.0.0.1:9/google/notifications"
RETRY = timedelta(minutes=5)
STOP = "calendar.channels.stop"

OpenStore = Callable[[], StateStore]


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens one process's store over the state all the processes share."""
    opened: list[StateStore] = []
    if request.param == "sqlite":

        def open_sqlite() -> StateStore:
            opened.append(SqliteStateStore(tmp_path / "state.db"))
            return opened[-1]

        yield open_sqlite
    else:
        from calsync.server.database import Database
        from calsync.state.postgres import PostgresStateStore

        schema = request.getfixturevalue("pg_schema")
        databases: list[Database] = []

        def open_postgres() -> StateStore:
            databases.append(Database(POSTGRES_URL, schema=schema, max_size=2))
            opened.append(PostgresStateStore(databases[-1], migrate=True))
            return opened[-1]

        yield open_postgres
        for database in databases:
            database.close()
    for store in opened:
        store.close()


def calendar_of(google: GoogleEmulator) -> GoogleCalendarBackend:
    """Ann's calendar backend, as one process connects it: no retry of a failed call, so each
    stop calsync tries is one call the emulator counts."""
    account = connect(
        Credentials(token="ann"),
        base_url=google.base_url,
        pacer=unpaced(),
        retrying=no_wait_retrying(attempts=1),
    )
    return account.calendar


def stops(google: GoogleEmulator) -> int:
    return int(google.stats()["methods"].get(STOP, 0))


def test_a_failing_stop_is_tried_once_per_retry_after_by_all_processes_together(
    google: GoogleEmulator, open_store: OpenStore
) -> None:
    clock = [datetime.now(UTC)]
    start = clock[0]

    def process() -> PushChannels:
        return PushChannels(open_store(), ADDRESS, retry_after=RETRY, clock=lambda: clock[0])

    calendar = calendar_of(google)
    studio = calendar.create_calendar("Studio", "UTC")
    ann = SyncProfile("studio.ann", "ann", studio.id, SyncOptions())
    worker, web = process(), process()
    worker.maintain(ann, calendar)
    [channel] = google.push.channels()
    google.inject_fault(503, api_method=STOP, count=None)

    for push in (worker, web, worker, web):  # sync turned off: every beat of each retires it
        push.retire(ann.id, calendar)

    assert stops(google) == 1
    [kept] = web.store.push_channels(ann.id)
    assert (kept.channel_id, stopping(kept)) == (channel["id"], True)
    assert not web.stop_due(kept)
    clock[0] = start + RETRY - timedelta(seconds=1)
    restarted = process()
    for push in (worker, web, restarted):
        push.retire(ann.id, calendar)
    assert stops(google) == 1

    clock[0] = start + RETRY
    for push in (web, worker, restarted):
        push.retire(ann.id, calendar)

    assert stops(google) == 2
    google.clear_faults()
    clock[0] = start + 2 * RETRY
    worker.retire(ann.id, calendar)
    assert (stops(google), google.push.channels(), web.store.push_channels()) == (3, [], [])


def test_processes_retiring_a_channel_at_the_same_moment_try_one_stop(
    google: GoogleEmulator, open_store: OpenStore
) -> None:
    """The stop is claimed in the channel's row before Google is called: of processes that
    find it due at once, one calls."""
    now = datetime.now(UTC)
    calendar = calendar_of(google)
    studio = calendar.create_calendar("Studio", "UTC")
    ann = SyncProfile("studio.ann", "ann", studio.id, SyncOptions())
    PushChannels(open_store(), ADDRESS, clock=lambda: now).maintain(ann, calendar)
    google.inject_fault(503, api_method=STOP, count=None)
    processes = [
        (PushChannels(open_store(), ADDRESS, retry_after=RETRY, clock=lambda: now),
         calendar_of(google))
        for _ in range(4)
    ]  # fmt: skip

    run_in_threads(4, lambda n: processes[n][0].retire(ann.id, processes[n][1]))

    assert stops(google) == 1
    [kept] = processes[0][0].store.push_channels(ann.id)
    assert stopping(kept)

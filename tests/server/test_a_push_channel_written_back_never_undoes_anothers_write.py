"""On PostgreSQL a push channel read to be written back is locked until the write commits:
Google's `sync` message racing the watch's answer confirms the channel for good, and a stop
that failed keeps its channel stopping even when a notification is being recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from services import POSTGRES_URL

from calsync import SyncOptions, SyncProfile
from calsync.backends import WatchChannel
from calsync.errors import TransientError
from calsync.push import CallbackTrigger, NotificationReceiver, PushChannels
from calsync.push.channels import stopping
from calsync.server.database import Database
from calsync.state import PushChannel
from calsync.state.postgres import PostgresStateStore
from calsync.testing import MemoryCalendarBackend

CAL = "studio@group.calendar.google.com"
ANN = SyncProfile("studio.ann", "ann", CAL, SyncOptions())
ADDRESS = "https://sync.studio.example/google/notifications"


@pytest.fixture
def database(pg_schema: str) -> Iterator[Database]:
    db = Database(POSTGRES_URL, schema=pg_schema, max_size=6)
    PostgresStateStore(db, migrate=True)
    yield db
    db.close()


class Google(MemoryCalendarBackend):
    supports_push = True

    def __init__(self) -> None:
        super().__init__(calendars=[CAL])
        self.token = ""
        self.stop_fails = False

    def watch_events(
        self, calendar_id: str, channel_id: str, address: str, token: str, ttl: timedelta
    ) -> WatchChannel:
        self.token = token
        return WatchChannel(channel_id, "res-cal", datetime.now(UTC) + ttl)

    def stop_channel(self, channel_id: str, resource_id: str) -> None:
        if self.stop_fails:
            raise TransientError("Backend Error", status=503)


class Interleaved(PostgresStateStore):
    """A process's store that lets another process write a channel right after this one
    read it in a transaction, before it writes it back (when a lost update would happen).
    The other write runs in a thread; this process goes on once it ended or waits for a
    row lock."""

    between: Callable[[], None] | None = None
    other: threading.Thread | None = None

    def get_push_channel(self, channel_id: str) -> PushChannel | None:
        found = super().get_push_channel(channel_id)
        if self.between is not None and getattr(self._local, "conn", None) is not None:
            self.other = threading.Thread(target=self.between)
            self.between = None
            self.other.start()
            self._until_ended_or_waiting(self.other)
        return found

    def _until_ended_or_waiting(self, other: threading.Thread) -> None:
        deadline = time.monotonic() + 30
        while other.is_alive() and not self._row_lock_awaited():
            assert time.monotonic() < deadline, "the other write neither ended nor waited"
            time.sleep(0.01)

    def _row_lock_awaited(self) -> bool:
        # a process waiting for a row's lock holds that row's tuple lock meanwhile
        table = f'"{self.database.schema}".push_channels'
        with self.database.pool.connection() as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'tuple'"
                " AND relation = to_regclass(%s)",
                (table,),
            ).fetchone()
        return found is not None and found[0] > 0


def notification(channel: PushChannel, token: str, state: str) -> dict[str, str]:
    return {"X-Goog-Channel-ID": channel.channel_id, "X-Goog-Channel-Token": token,
            "X-Goog-Resource-ID": "res-cal", "X-Goog-Resource-State": state}  # fmt: skip


def test_googles_sync_message_racing_the_watch_answer_confirms_the_channel(
    database: Database,
) -> None:
    worker = Interleaved(database)
    web = NotificationReceiver(PostgresStateStore(database), CallbackTrigger(print), debounce=0)
    google = Google()
    answers: list[int] = []

    def sync_message() -> None:  # the web process, while the worker writes the answer
        [pending] = worker.push_channels(ANN.id)
        answers.append(web.handle(notification(pending, google.token, "sync")).status)

    worker.between = sync_message
    push = PushChannels(worker, ADDRESS)
    push.maintain(ANN, google)
    assert worker.other is not None
    worker.other.join(30)

    [channel] = worker.push_channels(ANN.id)
    assert answers == [200]
    assert channel.resource_id == "res-cal"
    assert channel.confirmed_at is not None
    assert push.healthy(ANN)


def test_a_channel_left_stopping_stays_stopping_when_its_first_message_is_recorded_meanwhile(
    database: Database,
) -> None:
    google = Google()
    push = PushChannels(PostgresStateStore(database), ADDRESS)
    push.maintain(ANN, google)  # open, not confirmed yet
    [opened] = push.store.push_channels(ANN.id)
    web_store = Interleaved(database)
    web = NotificationReceiver(web_store, CallbackTrigger(print), debounce=0)
    google.stop_fails = True

    def sync_turned_off() -> None:  # the worker stops the channel, and the stop fails
        push.retire(ANN.id, google)

    web_store.between = sync_turned_off
    web.handle(notification(opened, google.token, "sync"))
    assert web_store.other is not None
    web_store.other.join(30)

    [channel] = push.store.push_channels(ANN.id)
    assert stopping(channel)
    assert web.handle(notification(opened, google.token, "exists")).status == 404

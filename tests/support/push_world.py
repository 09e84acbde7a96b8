"""A studio whose users' calendars push: the emulator, calsync.web on uvicorn, and a
SyncProcessor serving in a thread, all on loopback with real sockets (tests, benchmark)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import uvicorn
from google.oauth2.credentials import Credentials
from starlette.applications import Starlette

from calsync import MemoryStateStore, StateStore, SyncEngine, SyncOptions, SyncProfile
from calsync.google.account import connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service
from calsync.model import ItemKind, ScheduleItem
from calsync.processor import Connection, SyncProcessor
from calsync.push import NotificationReceiver, PushChannels
from calsync.testing import MemoryProfileStore, MemoryScheduleSource
from calsync.testing.emulator import GoogleEmulator
from calsync.web import create_app


@contextmanager
def serving(make_app: Callable[[str], Starlette]) -> Iterator[str]:
    """Serve ``make_app(base_url)`` with uvicorn on an ephemeral loopback port; yields the
    base URL (known before the app is made, for redirect URIs and notification addresses)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(base_url)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_until(test: Callable[[], object], timeout: float = 10.0, step: float = 0.01) -> float:
    """Poll ``test`` until it is true; returns the seconds it took (AssertionError on time out)."""
    start = time.monotonic()
    while not test():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true after {timeout}s")
        time.sleep(step)
    return time.monotonic() - start


class PushStudio:
    """Users whose dedicated Google calendars sync back to the host (inbound on), with push.

    Args:
        google: the emulator (fresh).
        users: how many staff users.
        debounce, interval, safety_interval, ttl, renew_before, retry_after: the push and
            processor settings under test (defaults: fast, with polling far away).
    """

    def __init__(
        self,
        google: GoogleEmulator,
        users: int = 1,
        *,
        debounce: float = 0.05,
        interval: float = 600.0,
        safety_interval: float = 3600.0,
        ttl: timedelta = timedelta(minutes=10),
        renew_before: timedelta = timedelta(minutes=1),
        retry_after: timedelta = timedelta(seconds=1),
        workers: int = 4,
        store: StateStore | None = None,
    ) -> None:
        self.google = google
        self.store = store or MemoryStateStore()
        self.schedule = MemoryScheduleSource()
        self.tokens = {f"u{n}": f"push-user-{n}-{id(self)}" for n in range(users)}
        self.profiles = MemoryProfileStore(self._profile(user) for user in self.tokens)
        self.engine = SyncEngine(self.store, self.schedule)
        self.runs: list[str] = []
        self.settings: dict[str, Any] = {
            "debounce": debounce,
            "interval": interval,
            "safety_interval": safety_interval,
            "ttl": ttl,
            "renew_before": renew_before,
            "retry_after": retry_after,
            "workers": workers,
        }

    def _profile(self, user: str) -> SyncProfile:
        calendar = self.account(user).calendar.create_calendar(f"Studio {user}", "UTC")
        options = SyncOptions(inbound_calendar=True)
        return SyncProfile(f"studio.{user}", user, calendar.id, options)

    def account(self, user: str) -> Any:
        return connect(
            Credentials(token=self.tokens[user]),
            base_url=self.google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )

    def connect(self, profile: SyncProfile) -> Connection:
        self.runs.append(profile.id)
        account = self.account(profile.id.removeprefix("studio."))  # tokens by profile, as hosts do
        return Connection(account.calendar, close=account.close)

    @contextmanager
    def running(self) -> Iterator[PushStudio]:
        """The web app on uvicorn and the processor serving, until the block ends."""
        settings = self.settings
        self.processor = SyncProcessor(
            self.engine,
            self.profiles,
            self.connect,
            interval=settings["interval"],
            jitter=0.0,
            workers=settings["workers"],
            safety_interval=settings["safety_interval"],
        )
        self.receiver = NotificationReceiver(
            self.store, self.processor, debounce=settings["debounce"]
        )
        with serving(lambda _: create_app(self.receiver)) as base_url:
            self.base_url = base_url
            self.processor.push = self.push = PushChannels(
                self.store,
                f"{base_url}/google/notifications",
                ttl=settings["ttl"],
                renew_before=settings["renew_before"],
                retry_after=settings["retry_after"],
            )
            thread = threading.Thread(target=self.processor.serve, daemon=True)
            thread.start()
            try:
                yield self
            finally:
                self.processor.stop()
                thread.join(timeout=10)

    # -- what the test looks at and does --------------------------------------------------------

    def profile(self, user: str = "u0") -> SyncProfile:
        return self.profiles.get(f"studio.{user}")

    def healthy(self, user: str = "u0") -> bool:
        return self.push.healthy(self.profile(user))

    def google_user(self, user: str = "u0") -> Any:
        service = build_calendar_service(
            Credentials(token=self.tokens[user]), base_url=self.google.base_url
        )
        return service.events()

    def edit_in_google(self, title: str, user: str = "u0", calendar_id: str | None = None) -> str:
        """The Google user creates an event tomorrow; returns its id."""
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        body = {
            "summary": title,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        }
        calendar = calendar_id or self.profile(user).calendar_id
        created = self.google_user(user).insert(calendarId=calendar, body=body).execute()
        return str(created["id"])

    def host_titles(self, user: str = "u0") -> set[str]:
        items = self.schedule.items(user).values()
        return {i.title for i in items if i.kind is ItemKind.UNLINKED}

    def host_items(self, user: str = "u0") -> list[ScheduleItem]:
        return list(self.schedule.items(user).values())

    def switch_calendar(self, user: str = "u0") -> str:
        """The user picks another (new) calendar in the host; returns its id."""
        created = self.account(user).calendar.create_calendar(f"New {user}", "UTC")
        profile = self.profile(user)
        options = attrs.evolve(profile.options, initial_sync_pending=True)
        self.profiles.put(attrs.evolve(profile, calendar_id=created.id, options=options))
        self.processor.request_sync(profile.id)  # what a host does after a settings change
        return str(created.id)

    def remove_user(self, user: str = "u0") -> None:
        self.profiles.remove(f"studio.{user}")
        self.processor.request_sync(f"studio.{user}")

    def turn_sync_off(self, user: str = "u0") -> None:
        self.profiles.put(attrs.evolve(self.profile(user), enabled=False))
        self.processor.request_sync(self.profile(user).id)

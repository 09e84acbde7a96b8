"""A resource (``events()``, ``people().connections()``) is built once per process and API
root, and every user's backend gets a copy bound to that user's own transport: no request of
one user ever goes out with another user's credentials, and no user pays for building the
methods again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import googleapiclient.discovery
import httplib2
import pytest

from calsync.google.account import GoogleAccount
from calsync.google.services import _prototypes, resource
from calsync.model import EventFields, Marker, Timed, TimeRange
from calsync.testing.emulator import GoogleEmulator

START = datetime(2031, 3, 4, 10, tzinfo=UTC)
WINDOW = TimeRange(START - timedelta(days=1), START + timedelta(days=1))


def fields(title: str) -> EventFields:
    return EventFields(title=title, when=Timed(START, START + timedelta(hours=1), "UTC"))


def test_interleaved_users_each_read_and_write_their_own_calendar_only(
    google: GoogleEmulator, account_for: Callable[..., GoogleAccount]
) -> None:
    ann, ben = account_for("ann@studio.example"), account_for("ben@studio.example")
    calendars = {"ann": "ann@studio.example", "ben": "ben@studio.example"}
    accounts = {"ann": ann, "ben": ben}
    for round_number in range(3):  # ann, ben, ann, ben…: copies of one resource in turn
        for name, account in accounts.items():
            event_id = f"cs{name}{round_number:04d}"
            marker = Marker("test", f"{name}-{round_number}")
            account.calendar.create_event(calendars[name], event_id, fields(name), marker)

    for name, account in accounts.items():
        listed = account.calendar.list_events(calendars[name], WINDOW, None).items
        assert {e.fields.title for e in listed if e.fields is not None} == {name}
        assert len(listed) == 3


def test_a_copy_is_bound_to_itself_and_carries_its_users_transport(
    account_for: Callable[..., GoogleAccount],
) -> None:
    ann, ben = account_for("ann@studio.example"), account_for("ben@studio.example")
    ann_events, ben_events = ann.calendar.events, ben.calendar.events

    assert ann_events is not ben_events
    assert ann_events.list.__self__ is ann_events
    assert ben_events.insert.__self__ is ben_events
    assert ann_events._http is ann.calendar.service._http
    assert ben_events._http is ben.calendar.service._http
    assert ann_events._http is not ben_events._http


def test_the_shared_resource_holds_no_users_credentials(
    account_for: Callable[..., GoogleAccount],
) -> None:
    account_for("ann@studio.example").calendar.events.list  # noqa: B018  # built
    shared = [p for key, p in _prototypes.items() if key[3] == ("events",)]

    assert shared
    assert all(type(p._http) is httplib2.Http for p in shared)  # not an AuthorizedHttp


def test_a_second_users_resource_builds_no_method(
    account_for: Callable[..., GoogleAccount], monkeypatch: pytest.MonkeyPatch
) -> None:
    resource(account_for("ann@studio.example").calendar.service, "events")  # the first
    built: list[str] = []
    original = googleapiclient.discovery.createMethod

    def counting(name: str, *args: Any) -> Any:
        built.append(name)
        return original(name, *args)

    monkeypatch.setattr(googleapiclient.discovery, "createMethod", counting)
    ben = account_for("ben@studio.example")

    resource(ben.calendar.service, "events")
    assert built == []

    ben.calendar.service.events()  # the client's own way, for comparison: every method again
    assert len(built) == len(ben.calendar.service._rootDesc["resources"]["events"]["methods"])


def test_users_syncing_in_threads_at_once_never_cross(
    account_for: Callable[..., GoogleAccount],
) -> None:
    """As the processor's thread pool runs them: eight users, each building their backends
    and writing and reading at the same time, the shared resources built by whichever comes
    first."""
    names = [f"user{n}@studio.example" for n in range(8)]
    _prototypes.clear()  # the threads race to build them
    start = threading.Barrier(len(names))
    seen: dict[str, set[str]] = {}

    def sync(name: str) -> None:
        start.wait()
        account = account_for(name)
        for n in range(3):
            marker = Marker("test", f"{name}-{n}")
            account.calendar.create_event(
                name, f"cs{n}{abs(hash(name)) % 10**6:06d}", fields(name), marker
            )
        listed = account.calendar.list_events(name, WINDOW, None).items
        seen[name] = {e.fields.title for e in listed if e.fields is not None}

    threads = [threading.Thread(target=sync, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert seen == {name: {name} for name in names}

"""Calendar push notifications in the emulator: events.watch and channels.stop through the
real client, and real POSTs to a receiver on loopback."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import reasons, timed_event

pytestmark = pytest.mark.emulator


class Receiver(ThreadingHTTPServer):
    """Records every notification's headers (lower-cased names); answers each POST with the
    next of ``statuses`` (200 when none is left), once ``answer_after`` is set, if given."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.arrived = threading.Condition()
        self.answer_after: threading.Event | None = None  # set: each answer waits for it
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def wait_for(self, test: Callable[[list[dict[str, str]]], bool], timeout: float = 5) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: test(self.received), timeout), self.received

    def states(self) -> list[str]:
        return [h["x-goog-resource-state"] for h in self.received]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        with self.server.arrived:
            if status < 300:
                self.server.received.append({k.lower(): v for k, v in self.headers.items()})
            self.server.arrived.notify_all()
        if self.server.answer_after is not None:
            self.server.answer_after.wait(5)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def calendar(emulator: GoogleEmulator) -> Any:
    return build_calendar_service(Credentials(token="push-user"), base_url=emulator.base_url)


def watch(calendar: Any, address: str, channel_id: str = "chan-1", **extra: Any) -> Any:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return calendar.events().watch(calendarId="primary", body=body).execute()


def test_a_watch_answers_the_channel_and_sends_sync_then_exists_per_change(
    calendar: Any, receiver: Receiver
) -> None:
    channel = watch(calendar, receiver.address, token="secret-1", params={"ttl": "60"})
    receiver.wait_for(lambda r: len(r) == 1)
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    receiver.wait_for(lambda r: len(r) == 2)

    assert (channel["kind"], channel["id"], channel["token"]) == (
        "api#channel",
        "chan-1",
        "secret-1",
    )
    assert 55_000 < int(channel["expiration"]) - time.time() * 1000 <= 60_000
    assert channel["resourceUri"].startswith("https://www.googleapis.com/calendar/v3/calendars/")
    first, second = receiver.received
    assert receiver.states() == ["sync", "exists"]
    assert (first["x-goog-message-number"], second["x-goog-message-number"]) == ("1", "2")
    assert second["x-goog-channel-id"] == "chan-1"
    assert second["x-goog-channel-token"] == "secret-1"
    assert second["x-goog-resource-id"] == channel["resourceId"]
    assert second["x-goog-resource-uri"] == channel["resourceUri"]
    assert second["x-goog-channel-expiration"].endswith("GMT")


def test_watch_refuses_what_google_refuses(calendar: Any, receiver: Receiver) -> None:
    watch(calendar, receiver.address, "taken")
    cases = [
        ({"id": "x" * 65}, "invalid"),
        ({"type": "carrier_pigeon"}, "invalid"),
        ({"id": "taken"}, "channelIdNotUnique"),
        ({"address": "http://studio.example/hook"}, "push.webhookUrlNotHttps"),
    ]
    for change, reason in cases:
        body = {"id": "fresh", "type": "web_hook", "address": receiver.address, **change}
        with pytest.raises(HttpError) as refused:
            calendar.events().watch(calendarId="primary", body=body).execute()
        assert (refused.value.status_code, reasons(refused.value)) == (400, {reason})


def test_a_stopped_channel_sends_nothing_more_and_cannot_be_stopped_twice(
    calendar: Any, receiver: Receiver
) -> None:
    channel = watch(calendar, receiver.address)
    receiver.wait_for(lambda r: len(r) == 1)
    stop = {"id": channel["id"], "resourceId": channel["resourceId"]}

    calendar.channels().stop(body=stop).execute()
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    time.sleep(0.3)

    assert receiver.states() == ["sync"]
    with pytest.raises(HttpError) as again:
        calendar.channels().stop(body=stop).execute()
    assert again.value.status_code == 404


def test_an_expired_channel_sends_nothing_more(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    watch(calendar, receiver.address, params={"ttl": "1"})
    receiver.wait_for(lambda r: len(r) == 1)
    time.sleep(1.1)

    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    time.sleep(0.3)

    assert receiver.states() == ["sync"]
    assert emulator.push.channels() == []


def test_a_deleted_calendar_sends_not_exists_and_ends_the_channel(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    created = calendar.calendars().insert(body={"summary": "Studio"}).execute()
    body = {"id": "c2", "type": "web_hook", "address": receiver.address}
    calendar.events().watch(calendarId=created["id"], body=body).execute()
    receiver.wait_for(lambda r: len(r) == 1)

    calendar.calendars().delete(calendarId=created["id"]).execute()

    receiver.wait_for(lambda r: len(r) == 2)
    assert receiver.states() == ["sync", "not_exists"]
    assert emulator.push.channels() == []


def test_a_failed_delivery_is_retried_with_backoff(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    receiver.statuses = [503, 500]
    watch(calendar, receiver.address)

    receiver.wait_for(lambda r: len(r) == 1)
    deadline = time.monotonic() + 2
    while len(emulator.push.deliveries()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)

    outcomes = [d.outcome for d in emulator.push.deliveries()]
    assert outcomes == ["http 503", "http 500", "delivered"]
    assert receiver.states() == ["sync"]


def test_an_attempt_in_flight_at_a_reset_is_not_logged_after_it(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    receiver.answer_after = threading.Event()
    watch(calendar, receiver.address)
    receiver.wait_for(lambda r: len(r) == 1)  # the sync message is in, its answer held

    emulator.reset()  # (the next test's emulator)
    receiver.answer_after.set()
    deadline = time.monotonic() + 0.5
    while not emulator.push.deliveries() and time.monotonic() < deadline:
        time.sleep(0.01)

    assert emulator.push.deliveries() == []


def test_delayed_deliveries_arrive_late(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    watch(calendar, receiver.address)
    receiver.wait_for(lambda r: len(r) == 1)
    emulator.push.delay_deliveries(0.3)

    start = time.monotonic()
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    receiver.wait_for(lambda r: len(r) == 2)

    assert time.monotonic() - start >= 0.3


def test_admin_endpoints_list_expire_fail_and_delay(
    emulator: GoogleEmulator, calendar: Any, receiver: Receiver
) -> None:
    def admin(method: str, name: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{emulator.base_url}/emulator/v1/push/{name}"
        with urllib.request.urlopen(urllib.request.Request(url, data, method=method)) as answer:
            return json.loads(answer.read())

    watch(calendar, receiver.address)
    receiver.wait_for(lambda r: len(r) == 1)
    [listed] = admin("GET", "channels")
    admin("POST", "fail-deliveries", {"count": 1, "drop": True})
    admin("POST", "delay-deliveries", {"seconds": 0.2})
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    time.sleep(0.4)
    admin("POST", "delay-deliveries", {"seconds": 0})
    calendar.events().insert(calendarId="primary", body=timed_event()).execute()
    receiver.wait_for(lambda r: len(r) == 2)
    time.sleep(0.05)  # the attempt is logged once the POST has been answered
    expired = admin("POST", "expire", {"channel_id": "chan-1"})

    assert (listed["id"], listed["account"]) == ("chan-1", "push-user@example.com")
    assert [h["x-goog-message-number"] for h in receiver.received] == ["1", "3"]
    assert [d["outcome"] for d in admin("GET", "deliveries")] == [
        "delivered",
        "dropped",
        "delivered",
    ]
    assert expired == {"expired": True}
    assert admin("GET", "channels") == []

"""The notification endpoint answers from the headers: a body (Google sends none) is read and
dropped chunk by chunk, and one announced or sent over the limit is refused unread (413)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from push_world import serving

from calsync import MemoryStateStore
from calsync.push import CallbackTrigger, NotificationReceiver
from calsync.web import NOTIFICATION_BODY_LIMIT, create_app

from .test_receiver import a_channel, headers

CHUNK = b"A" * 65536


class Client:
    """Sends an ASGI request whose body comes in chunks; counts the bytes the app pulled."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        store = MemoryStateStore()
        store.put_push_channel(a_channel())
        receiver = NotificationReceiver(store, CallbackTrigger(self.requested.append), debounce=0)
        self.app = create_app(receiver)
        self.pulled = 0

    def post(self, chunks: Iterator[bytes], **extra: str) -> int:
        fields = [(k.lower().encode(), v.encode()) for k, v in headers(**extra).items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/google/notifications",
            "raw_path": b"/google/notifications",
            "query_string": b"",
            "root_path": "",
            "headers": fields,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            chunk = next(chunks, None)
            if chunk is None:
                return {"type": "http.request", "body": b"", "more_body": False}
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        asyncio.run(self.app(scope, receive, send))
        return statuses[0]


def test_a_chunked_body_over_the_limit_is_refused_without_reading_the_rest() -> None:
    client = Client()

    status = client.post(iter([CHUNK] * 256))  # 16 MiB, announcing no length

    assert (status, client.requested) == (413, [])
    assert client.pulled <= NOTIFICATION_BODY_LIMIT + len(CHUNK)


def test_a_body_announced_over_the_limit_is_refused_unread() -> None:
    client = Client()

    status = client.post(iter([CHUNK] * 256), **{"Content-Length": str(256 * len(CHUNK))})

    assert (status, client.pulled, client.requested) == (413, 0, [])


def test_a_small_body_is_dropped_and_the_notification_answered_as_ever() -> None:
    client = Client()

    status = client.post(iter([b"{}", b"\n"]), **{"Content-Length": "3"})

    assert (status, client.pulled, client.requested) == (200, 3, ["studio.ann"])


@pytest.fixture
def address() -> Iterator[tuple[str, int]]:
    receiver = NotificationReceiver(MemoryStateStore(), CallbackTrigger(print), debounce=0)
    with serving(lambda _: create_app(receiver)) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        ("Content-Length: 314572800", b""),  # 300 MB announced, none sent
        ("Transfer-Encoding: chunked", b"10000\r\n" + CHUNK + b"\r\n"),  # and more to come
    ],
)
def test_uvicorn_answers_413_and_closes_before_the_big_body_arrives(
    address: tuple[str, int], framing: str, body: bytes
) -> None:
    request = f"POST /google/notifications HTTP/1.1\r\nHost: calsync\r\n{framing}\r\n\r\n"
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(request.encode() + body)

        answer = connection.recv(4096).decode()

    assert answer.startswith("HTTP/1.1 413 ")
    assert "connection: close" in answer.lower()

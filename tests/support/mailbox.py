"""The real email notifier, its messages kept instead of handed to a mail server; a real SMTP
server on loopback (``serving``) and what it received (``Inbox``); and a studio whose processor
tells its one user of problems, for the tests of notices."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage, Message
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from studio_world import CAL, NOW, Clock, session

from calsync import MemoryStateStore, Notifications, SyncEngine, SyncOptions, SyncProfile
from calsync.errors import AuthError
from calsync.notify import EmailNotifier, Notifier, SmtpSettings
from calsync.processor import Connection, SyncProcessor
from calsync.state.base import StateStore
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource


class Inbox:
    """The messages an SMTP server on 127.0.0.1 received (an aiosmtpd handler)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def body(message: Message) -> str:
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()


@contextmanager
def serving(handler: object) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 answering with aiosmtpd ``handler``; yields its port."""
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class Mailbox(EmailNotifier):
    """An :class:`EmailNotifier` whose messages are kept in ``messages``."""

    def __init__(self) -> None:
        super().__init__(SmtpSettings("smtp.invalid"))
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    @property
    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


class NoticeStudio:
    """Ann, synced by a processor that tells her of problems (``notifier``, by default a
    :class:`Mailbox`): her Google authorisation is refused while ``refuse`` is set, and her
    connection fails while ``broken`` says why."""

    #: the processor's interval (seconds)
    interval = 60.0

    def __init__(
        self,
        notifier: Notifier | None = None,
        *,
        email: str = "ann@studio.example",
        warnings: bool = True,
        store: StateStore | None = None,
    ) -> None:
        self.clock = Clock(NOW)
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.schedule.add("ann", session("s1"))
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL])
        options = SyncOptions(notifications=Notifications(warnings_and_errors=warnings))
        self.profiles = MemoryProfileStore(
            [SyncProfile("studio.ann", "ann", CAL, options, email=email)]
        )
        self.store = store or MemoryStateStore()
        self.refuse = False
        self.broken: str | None = None
        self.notifier: Notifier = notifier if notifier is not None else Mailbox()

    @property
    def mailbox(self) -> Mailbox:
        assert isinstance(self.notifier, Mailbox)
        return self.notifier

    def connect(self, profile: SyncProfile) -> Connection:
        if self.refuse:
            raise AuthError("invalid_grant: token revoked")
        if self.broken is not None:
            raise ConnectionError(self.broken)
        return Connection(self.calendar)

    def processor(self, **kw: Any) -> SyncProcessor:
        engine = SyncEngine(self.store, self.schedule, clock=self.clock)
        values: dict[str, Any] = {
            "clock": self.clock,
            "interval": self.interval,
            "notifier": self.notifier,
        }
        values.update(kw)
        return SyncProcessor(engine, self.profiles, self.connect, **values)

    def round(self, processor: SyncProcessor, minutes: float = 5) -> None:
        """``minutes`` later, a round of the processor."""
        self.clock.advance(minutes=minutes)
        processor.run_once()

    def run(self, processor: SyncProcessor) -> None:
        """Five minutes later, a run of Ann's profile."""
        self.clock.advance(minutes=5)
        processor.run_profile(self.profiles.get("studio.ann"))

    def change(self, **changes: Any) -> None:
        """Change Ann's profile in the host."""
        self.profiles.put(attrs.evolve(self.profiles.get("studio.ann"), **changes))

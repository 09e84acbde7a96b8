"""A notice is recorded as sent only when it reached the user: one that no email carried (the
profile has no address, the user's "warnings and errors" switch is off) stays due, so the
problem is told once it can be, and no "working again" note follows a problem never told.
``Notifier.notify`` says whether it sent; a notifier that returns ``None`` (written before it
could say) counts as sent when the user's switch is on."""

from __future__ import annotations

from mailbox import Mailbox
from typing import Any

import attrs
from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.errors import AuthError
from calsync.notices import Notice
from calsync.notify import Notifier
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

REAUTH = "Google Sync problems: please re-authenticate Google"


class Studio:
    """Ann, whose Google connection fails while ``refuse`` or ``broken`` says so."""

    def __init__(self, notifier: Notifier, *, email: str = "", warnings: bool = True) -> None:
        self.clock = Clock(NOW)
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.schedule.add("ann", session("s1"))
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL])
        options = SyncOptions(notifications=Notifications(warnings_and_errors=warnings))
        self.profiles = MemoryProfileStore(
            [SyncProfile("studio.ann", "ann", CAL, options, email=email)]
        )
        self.store = MemoryStateStore()
        self.refuse = False
        self.broken: str | None = None
        self.notifier = notifier

    def connect(self, profile: SyncProfile) -> Connection:
        if self.refuse:
            raise AuthError("invalid_grant: token revoked")
        if self.broken is not None:
            raise ConnectionError(self.broken)
        return Connection(self.calendar)

    def processor(self, **kw: Any) -> SyncProcessor:
        engine = SyncEngine(self.store, self.schedule, clock=self.clock)
        values: dict[str, Any] = {"clock": self.clock, "interval": 60.0, "notifier": self.notifier}
        values.update(kw)
        return SyncProcessor(engine, self.profiles, self.connect, **values)

    def run(self, processor: SyncProcessor) -> None:
        self.clock.advance(minutes=5)
        processor.run_profile(self.profiles.get("studio.ann"))

    def change(self, **changes: Any) -> None:
        self.profiles.put(attrs.evolve(self.profiles.get("studio.ann"), **changes))


def test_a_problem_found_while_the_user_had_no_address_is_mailed_once_it_is_known() -> None:
    mailbox = Mailbox()
    studio = Studio(mailbox)
    processor = studio.processor()
    studio.refuse = True
    studio.run(processor)  # no address: nobody told, nothing recorded
    assert mailbox.subjects == []
    assert studio.store.get_sent_notice("studio.ann") is None

    studio.change(email="ann@studio.example")  # the admin fills it in
    studio.run(processor)  # "sync now": the problem lasts
    studio.run(processor)

    assert mailbox.subjects == [REAUTH]


def test_no_working_again_note_about_a_problem_never_written_about() -> None:
    mailbox = Mailbox()
    studio = Studio(mailbox, email="ann@studio.example", warnings=False)
    processor = studio.processor()
    studio.broken = "connection reset"
    studio.run(processor)  # the switch is off: nobody told
    options = studio.profiles.get("studio.ann").options
    studio.change(
        options=attrs.evolve(options, notifications=Notifications(warnings_and_errors=True))
    )
    studio.broken = None
    studio.run(processor)  # works again

    assert mailbox.subjects == []
    assert studio.store.get_sent_notice("studio.ann") is None


class Answering(Notifier):
    """A host's own channel: keeps the notices it is given, answering ``answer``."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer
        self.given: list[Notice] = []

    def notify(
        self, profile: SyncProfile, report: SyncReport, trace: str, notice: Notice | None
    ) -> bool | None:
        if notice is not None:
            self.given.append(notice)
        return self.answer


class Silent(Notifier):
    """A notifier written before ``notify`` said whether it sent."""

    def __init__(self) -> None:
        self.given: list[Notice] = []

    def notify(
        self, profile: SyncProfile, report: SyncReport, trace: str, notice: Notice | None
    ) -> None:
        if notice is not None:
            self.given.append(notice)


def test_a_notice_the_notifier_could_not_deliver_stays_due_until_it_can() -> None:
    notifier = Answering(False)
    studio = Studio(notifier)
    processor = studio.processor()
    studio.refuse = True
    studio.run(processor)
    studio.run(processor)
    notifier.answer = True
    studio.run(processor)  # delivered: recorded
    studio.run(processor)

    assert notifier.given == [Notice.PROBLEM] * 3


def test_a_notifier_that_returns_nothing_is_taken_at_its_word_when_the_switch_is_on() -> None:
    on, off = Silent(), Silent()
    studios = [Studio(on), Studio(off, warnings=False)]  # no address: its own channel
    for studio in studios:
        processor = studio.processor()
        studio.refuse = True
        studio.run(processor)
        studio.run(processor)

    assert on.given == [Notice.PROBLEM]  # recorded as sent, as before
    assert off.given == [Notice.PROBLEM, Notice.PROBLEM]  # the user asked for none: not told
    assert studios[1].store.get_sent_notice("studio.ann") is None


def test_the_email_notifier_says_whether_the_notice_went_out() -> None:
    report = SyncReport("studio.ann", NOW, fatal="could not connect: reset")

    def answer(email: str, **switches: bool) -> bool:
        options = SyncOptions(notifications=Notifications(**switches))
        profile = SyncProfile("studio.ann", "ann", CAL, options, email=email)
        return Mailbox().notify(profile, report, "trace", Notice.PROBLEM)

    assert answer("ann@studio.example", warnings_and_errors=True)
    assert not answer("", warnings_and_errors=True)
    assert not answer("ann@studio.example", warnings_and_errors=False)
    assert not answer("ann@studio.example", verbose=True)  # the trace went, not the notice

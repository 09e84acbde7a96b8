"""A notice is recorded as sent only when it reached the user: one that no email carried (the
profile has no address, the user's "warnings and errors" switch is off) stays due, so the
problem is told once it can be, and no "working again" note follows a problem never told.
``Notifier.notify`` says whether it sent; a notifier that returns ``None`` (written before it
could say) counts as sent when the user's switch is on."""

from __future__ import annotations

from mailbox import Mailbox, NoticeStudio

import attrs
from studio_world import CAL, NOW

from calsync import (
    Notifications,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.notices import Notice
from calsync.notify import Notifier

REAUTH = "Google Sync problems: please re-authenticate Google"


class Studio(NoticeStudio):
    """Ann, whose Google connection fails while ``refuse`` or ``broken`` says so."""

    def __init__(self, notifier: Notifier, *, email: str = "", warnings: bool = True) -> None:
        super().__init__(notifier, email=email, warnings=warnings)  # (no address, unless given)


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

"""Notifications reach users through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from mailbox import Inbox, serving

import attrs
import pytest
from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.notices import Notice
from calsync.notify import EmailNotifier, SmtpSettings, compose_message
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, SmtpSettings("127.0.0.1", port, security="none", sender="sync@studio.example")


def profile(**switches: bool) -> SyncProfile:
    options = SyncOptions(notifications=Notifications(**switches))
    return SyncProfile("studio.ann", "ann", CAL, options, email="ann@studio.example")


def problem_report() -> SyncReport:
    report = SyncReport("studio.ann", NOW, needs_reauth=True)
    report.fatal = "Google refused the saved authorisation"
    return report


def test_a_run_with_problems_sends_one_digest_that_says_what_to_do(
    smtp: tuple[Inbox, SmtpSettings],
) -> None:
    inbox, settings = smtp

    EmailNotifier(settings).notify(
        profile(warnings_and_errors=True), problem_report(), "", Notice.PROBLEM
    )

    (message,) = inbox.messages
    body = Inbox.body(message)
    assert message["To"] == "ann@studio.example"
    assert "problems" in message["Subject"]
    assert "Re-authenticate Google in User Preferences" in body
    assert "Full trace" not in body


def test_a_clean_run_sends_nothing_without_verbose(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp

    EmailNotifier(settings).notify(
        profile(warnings_and_errors=True), SyncReport("studio.ann", NOW), "", None
    )

    assert inbox.messages == []


def test_verbose_troubleshooting_sends_the_full_trace_of_every_run(
    smtp: tuple[Inbox, SmtpSettings],
) -> None:
    inbox, settings = smtp

    EmailNotifier(settings).notify(
        profile(verbose=True), SyncReport("studio.ann", NOW), "line one\nline two", None
    )

    (message,) = inbox.messages
    assert "line two" in Inbox.body(message)


def test_no_switch_on_means_no_email() -> None:
    assert compose_message(profile(), problem_report(), "", "x@y", Notice.PROBLEM) is None


def test_the_deleted_calendar_message_tells_the_user_how_to_start_over() -> None:
    report = SyncReport("studio.ann", NOW, calendar_gone=True)

    message = compose_message(profile(warnings_and_errors=True), report, "", "x@y", Notice.PROBLEM)

    assert message is not None
    assert "Choose a calendar in User Preferences to start over" in message.get_content()


def test_the_processor_mails_a_verbose_trace_of_the_real_run(
    smtp: tuple[Inbox, SmtpSettings],
) -> None:
    inbox, settings = smtp
    clock = Clock(NOW)
    schedule = MemoryScheduleSource(now=clock)
    schedule.add("ann", session("s1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    profiles = MemoryProfileStore([profile(verbose=True)])
    engine = SyncEngine(MemoryStateStore(), schedule, clock=clock)
    processor = SyncProcessor(
        engine,
        profiles,
        lambda p: Connection(calendar),
        notifier=EmailNotifier(settings),
        clock=clock,
    )
    logging.getLogger("calsync").setLevel(logging.WARNING)

    processor.run_once()

    (message,) = inbox.messages
    body = Inbox.body(message)
    assert "created remote calendar" in body
    assert "Google: 1 created" in body
    assert logging.getLogger("calsync").level == logging.WARNING


def test_the_smtp_password_never_shows_in_a_repr() -> None:
    settings = attrs.evolve(SmtpSettings("mail.example"), password="hunter2")

    assert "hunter2" not in repr(settings)


def test_a_reminder_says_so_and_a_resolved_note_gives_no_advice() -> None:
    switches = profile(warnings_and_errors=True)

    reminder = compose_message(switches, problem_report(), "", "x@y", Notice.REMINDER)
    resolved = compose_message(switches, SyncReport("studio.ann", NOW), "", "x@y", Notice.RESOLVED)

    assert reminder is not None
    assert resolved is not None
    assert reminder["Subject"] == "Google Sync problems (reminder): please re-authenticate Google"
    assert reminder.get_content().startswith("Reminder: the problem")
    assert resolved["Subject"] == "Google Sync is working again"
    assert "What you can do" not in resolved.get_content()

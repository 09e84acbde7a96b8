"""Half of a UTF-16 pair in a report's text (a host's exception message made from Windows
text) or in a run's trace cannot be written as UTF-8: the email carries U+FFFD in its place,
as synced text does, instead of failing to be composed at every run."""

from __future__ import annotations

from collections.abc import Iterator
from mailbox import Inbox, serving

import pytest
from studio_world import CAL, NOW

from calsync import Notifications, SyncOptions, SyncProfile, SyncReport
from calsync.notices import Notice
from calsync.notify import EmailNotifier, SmtpSettings


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, SmtpSettings("127.0.0.1", port, security="none")


def test_lone_surrogates_in_a_warning_and_a_trace_are_mailed_as_replacement_characters(
    smtp: tuple[Inbox, SmtpSettings],
) -> None:
    inbox, settings = smtp
    switches = Notifications(warnings_and_errors=True, verbose=True)
    ann = SyncProfile(
        "studio.ann", "ann", CAL, SyncOptions(notifications=switches), "ann@x.example"
    )
    report = SyncReport("studio.ann", NOW)
    report.warnings.append("Caf\ud800 booking: the host said \U0001f4f7 ok")

    sent = EmailNotifier(settings).notify(ann, report, "trace \udcff end", Notice.PROBLEM)

    assert sent is True
    (message,) = inbox.messages
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode("utf-8")
    assert "Caf\ufffd booking: the host said \U0001f4f7 ok" in body  # a whole pair is kept
    assert "trace \ufffd end" in body

"""A mail server that refuses the user's address makes the processor log the failure by its
exception type and SMTP reply code — never the address, which the server's reply and the
traceback name; the traceback goes to DEBUG. The notice stays due for the next run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from mailbox import NoticeStudio, serving

import pytest
from aiosmtpd.smtp import Envelope

from calsync.notify import EmailNotifier, SmtpSettings

ADDRESS = "ann.private@studio.example"


class Refusing:
    """A mail server that knows no such user."""

    def __init__(self) -> None:
        self.delivered = 0

    async def handle_RCPT(
        self, server: object, session: object, envelope: Envelope, address: str, options: object
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.delivered += 1
        return "250 OK"


@pytest.fixture
def refusing_server() -> Iterator[tuple[Refusing, SmtpSettings]]:
    refusing = Refusing()
    with serving(refusing) as port:
        yield refusing, SmtpSettings("127.0.0.1", port, security="none")


def test_a_refused_recipient_is_logged_by_type_and_code_without_the_address(
    refusing_server: tuple[Refusing, SmtpSettings], caplog: pytest.LogCaptureFixture
) -> None:
    refusing, settings = refusing_server
    studio = NoticeStudio(EmailNotifier(settings), email=ADDRESS)
    studio.refuse = True  # Google refuses Ann's authorisation: a problem to tell her
    caplog.set_level(logging.DEBUG)

    studio.run(studio.processor())

    calsync = [record for record in caplog.records if record.name.startswith("calsync")]
    told = [record for record in calsync if record.levelno >= logging.INFO]
    assert [record.getMessage() for record in told if record.levelno >= logging.ERROR] == [
        "profile studio.ann: could not send the notification (SMTPRecipientsRefused, SMTP 550)"
    ]
    assert not any(ADDRESS in (record.getMessage() + str(record.exc_info)) for record in told)
    (traced,) = [record for record in calsync if record.exc_info]
    assert traced.levelno == logging.DEBUG
    assert refusing.delivered == 0
    assert studio.store.get_sent_notice("studio.ann") is None  # due again at the next run

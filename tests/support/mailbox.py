"""The real email notifier, its messages kept instead of handed to a mail server."""

from __future__ import annotations

from email.message import EmailMessage

from calsync.notify import EmailNotifier, SmtpSettings


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

"""Telling users about their sync: warnings and errors by email, and verbose traces.

Each profile has two switches (``SyncOptions.notifications``): *warnings and errors* sends one
digest for every run that had any; *verbose* sends the full trace of every run. Email goes
through the host's SMTP settings (:class:`SmtpSettings`). Messages say what happened and what
the user can do about it.
"""

from __future__ import annotations

import abc
import logging
import smtplib
import ssl
from email.message import EmailMessage

from attrs import frozen

from calsync.engine.report import SyncReport
from calsync.profile import SyncProfile

__all__ = ["EmailNotifier", "Notifier", "SmtpSettings", "compose_message"]

logger = logging.getLogger(__name__)


class Notifier(abc.ABC):
    """Tells a user about one sync run."""

    @abc.abstractmethod
    def notify(self, profile: SyncProfile, report: SyncReport, trace: str) -> None:
        """Send what the profile's switches ask for (possibly nothing).

        Raises:
            Exception: sending failed; the processor logs it and goes on.
        """


@frozen
class SmtpSettings:
    """The host's SMTP settings.

    Attributes:
        host, port: the server.
        security: ``"starttls"``, ``"ssl"`` (implicit TLS) or ``"none"``.
        username, password: login, when the server wants one.
        sender: the From address.
        timeout: seconds to wait for the server.
        ca_file: a PEM file of extra certificate authorities to trust (a server with a
            private CA); the system's authorities are trusted either way. Certificates are
            always verified, host name included.
    """

    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = "calsync@localhost"
    timeout: float = 30.0
    ca_file: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.security not in {"starttls", "ssl", "none"}:
            raise ValueError(f"security must be starttls, ssl or none, not {self.security!r}")

    def __repr__(self) -> str:  # never show the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r})"


def _advice(report: SyncReport) -> list[str]:
    advice = []
    if report.needs_reauth:
        advice.append(
            "Google no longer accepts calsync's authorisation. Re-authenticate Google in "
            "User Preferences; syncing resumes after that."
        )
    if report.calendar_gone:
        advice.append(
            "Your Google calendar was deleted. Choose a calendar in User Preferences to start "
            "over; nothing in the studio was changed."
        )
    if report.held:
        advice.append(
            f"{len(report.held)} deletions were held back because they would remove a large "
            "part of your items. If they are intended, confirm them in the studio's Google "
            "Sync settings; otherwise restore the missing items."
        )
    if report.conflicts:
        advice.append(
            "Some items were changed both in the studio and in Google; the value kept is shown "
            "for each. Edit the item again if the other value was the right one."
        )
    if report.errors and not report.needs_reauth:
        advice.append("Items that failed are tried again at the next sync.")
    return advice


def _subject(report: SyncReport) -> str:
    if report.needs_reauth:
        return "Google Sync problems: please re-authenticate Google"
    if report.calendar_gone:
        return "Google Sync problems: your Google calendar was deleted"
    if report.fatal:
        return "Google Sync problems: the last sync failed"
    if report.has_problems:
        found = [
            f"{len(things)} {label}{'' if len(things) == 1 else 's'}"
            for things, label in (
                (report.errors, "error"),
                (report.held, "held deletion"),
                (report.conflicts, "conflict"),
                (report.warnings, "warning"),
            )
            if things
        ]
        return "Google Sync problems: " + ", ".join(found)
    return "Google Sync report"


def compose_message(
    profile: SyncProfile, report: SyncReport, trace: str, sender: str
) -> EmailMessage | None:
    """The email for ``profile`` about ``report``, or ``None`` when its switches ask for none."""
    switches = profile.options.notifications
    digest = switches.warnings_and_errors and report.has_problems
    if not profile.email or not (digest or switches.verbose):
        return None
    message = EmailMessage()
    message["Subject"] = _subject(report)
    message["From"] = sender
    message["To"] = profile.email
    parts = [report.summary()]
    advice = _advice(report)
    if advice:
        parts.append("What you can do:\n" + "\n".join(f"- {line}" for line in advice))
    if switches.verbose:
        parts.append("Full trace of the run:\n" + (trace or "(no trace recorded)"))
    message.set_content("\n\n".join(parts) + "\n")
    return message


class EmailNotifier(Notifier):
    """Sends notifications by email through the host's SMTP server."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def notify(self, profile: SyncProfile, report: SyncReport, trace: str) -> None:
        message = compose_message(profile, report, trace, self.settings.sender)
        if message is None:
            return
        self.send(message)
        logger.info("sent a sync notification for profile %s", profile.id)

    def send(self, message: EmailMessage) -> None:
        """Deliver one message.

        Raises:
            smtplib.SMTPException, OSError: the server could not be reached or refused it.
        """
        settings = self.settings
        context = ssl.create_default_context()
        if settings.ca_file:
            context.load_verify_locations(cafile=settings.ca_file)
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)

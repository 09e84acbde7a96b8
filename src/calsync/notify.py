"""Telling users about their sync: warnings and errors by email, and verbose traces.

Each profile has two switches (``SyncOptions.notifications``): *warnings and errors* sends a
digest when a problem starts or changes, one reminder a day while it lasts and one note when it
clears (:mod:`calsync.notices` decides which); *verbose* sends the full trace of every run.
Email goes through the host's SMTP settings (:class:`SmtpSettings`). Messages say what happened
and what the user can do about it, naming the host's screens in the profile's
:class:`~calsync.wording.Wording`.
"""

from __future__ import annotations

import abc
import ipaddress
import logging
from email.message import EmailMessage
from typing import TYPE_CHECKING

from attrs import frozen

from calsync.engine.report import SyncReport
from calsync.model import whole_characters
from calsync.notices import Notice
from calsync.profile import ProfileStatus, SyncProfile

if TYPE_CHECKING:
    import smtplib

__all__ = ["EmailNotifier", "Notifier", "SmtpSettings", "compose_message"]

logger = logging.getLogger(__name__)


class Notifier(abc.ABC):
    """Tells a user about one sync run."""

    @abc.abstractmethod
    def notify(
        self, profile: SyncProfile, report: SyncReport, trace: str, notice: Notice | None
    ) -> bool | None:
        """Send what the profile's switches ask for (possibly nothing).

        ``notice`` is the problem notice due after this run (a new or changed problem, a
        reminder, or a "resolved" note, which may carry the run's one-off news), ``None`` when
        the user has already been told. ``trace`` is the run's log (verbose switch),
        ``profile.status`` the status the run left the profile in.

        Returns:
            whether ``notice`` reached the user (with ``notice=None``: whether anything was
            sent). The processor records a notice as sent only when it did: one that reached
            nobody (no address, the user's switch off) stays due and goes out at a later run
            once it can. ``None`` (a notifier written before notify returned anything) counts
            as sent when the profile's "warnings and errors" switch is on.

        Raises:
            Exception: sending failed; the processor logs it, goes on, and tries the notice
                again at the next run.
        """


@frozen
class SmtpSettings:
    """The host's SMTP settings.

    Attributes:
        host, port: the server.
        security: ``"starttls"``, ``"ssl"`` (implicit TLS) or ``"none"``.
        username, password: login, when the server wants one. With ``security="none"`` only
            to a loopback address (``127.0.0.1``, ``::1``, ``localhost``): anywhere else the
            password would cross the network unencrypted.
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
        if self.security == "none" and self.username and not _loopback(self.host):
            raise ValueError(
                f'a username with security = "none" would send the password to {self.host} '
                'unencrypted: use "starttls" or "ssl" (a login without TLS is allowed only to '
                "a loopback address: 127.0.0.1, ::1, localhost)"
            )

    def __repr__(self) -> str:  # never show the password
        return f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r})"


def _loopback(host: str) -> bool:
    """Whether ``host`` is this machine (a login there crosses no network)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False


def _advice(profile: SyncProfile, report: SyncReport) -> list[str]:
    wording = profile.options.wording
    advice = []
    if profile.status is ProfileStatus.NOT_CONNECTED:
        advice.append(wording.not_connected_advice)
    if report.needs_reauth:
        advice.append(wording.reauthorise_advice)
    if report.calendar_gone:
        advice.append(wording.calendar_gone_advice)
    advice.extend(wording.not_authorised_advice(channel) for channel in report.not_authorised)
    if report.held:
        advice.append(wording.held_advice(len(report.held)))
    if report.conflicts:
        advice.append(
            "Some items were changed both in the studio and in Google; the value kept is shown "
            "for each. Edit the item again if the other value was the right one."
        )
    if report.errors and not report.needs_reauth:
        advice.append("Items that failed are tried again at the next sync.")
    return advice


def _problem(profile: SyncProfile, report: SyncReport) -> str:
    if profile.status is ProfileStatus.NOT_CONNECTED:
        return "please connect your Google account"
    if report.needs_reauth:
        return "please re-authenticate Google"
    if report.calendar_gone:
        return "your Google calendar was deleted"
    if report.fatal:
        return "the last sync failed"
    if report.not_authorised:
        return profile.options.wording.allow_request(report.not_authorised)
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
    return ", ".join(found)


def _subject(profile: SyncProfile, report: SyncReport, notice: Notice | None) -> str:
    if notice is Notice.RESOLVED:  # with the news of the run that found it cleared, if any
        news = f" ({_problem(profile, report)})" if report.has_problems else ""
        return f"Google Sync is working again{news}"
    if not report.has_problems and profile.status is ProfileStatus.OK:
        return "Google Sync report"
    reminder = " (reminder)" if notice is Notice.REMINDER else ""
    return f"Google Sync problems{reminder}: {_problem(profile, report)}"


_OPENING = {
    Notice.RESOLVED: "The problem Google Sync wrote to you about has cleared: the last sync "
    "went through.",
    Notice.REMINDER: "Reminder: the problem Google Sync wrote to you about is still there.",
}


def compose_message(
    profile: SyncProfile, report: SyncReport, trace: str, sender: str, notice: Notice | None
) -> EmailMessage | None:
    """The email for ``profile`` about ``report``, or ``None`` when none is due.

    ``notice`` is the problem notice the run calls for (:func:`calsync.notices.notice_due`);
    it is sent when the profile's "warnings and errors" switch is on and the profile has an
    email address (``None`` otherwise: the notice reached nobody). The "verbose" switch
    sends every run's trace, with the notice's content when one is due. ``profile.status`` is
    the status the run left the profile in.
    """
    switches = profile.options.notifications
    told = notice if switches.warnings_and_errors else None
    if not profile.email or not (told or switches.verbose):
        return None
    message = EmailMessage()
    message["Subject"] = _subject(profile, report, told)
    message["From"] = sender
    message["To"] = profile.email
    parts = [_OPENING[told]] if told in _OPENING else []
    parts.append(report.summary())
    advice = _advice(profile, report)  # a "resolved" note has none unless it carries news
    if advice:
        parts.append("What you can do:\n" + "\n".join(f"- {line}" for line in advice))
    if switches.verbose:
        parts.append("Full trace of the run:\n" + (trace or "(no trace recorded)"))
    message.set_content(_whole("\n\n".join(parts) + "\n"))
    return message


def _whole(text: str) -> str:
    """``text`` with each lone surrogate (half of a UTF-16 pair: a host's exception message,
    a trace record) replaced by U+FFFD, as :func:`calsync.model.normalise_text` does for
    synced text: UTF-8 cannot carry one, and the message could never be sent."""
    if whole_characters(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class EmailNotifier(Notifier):
    """Sends notifications by email through the host's SMTP server."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def notify(
        self, profile: SyncProfile, report: SyncReport, trace: str, notice: Notice | None
    ) -> bool:
        """Email what the profile's switches ask for; returns whether ``notice`` (with
        ``notice=None``: anything) was sent: ``False`` when the profile has no address or its
        "warnings and errors" switch is off."""
        message = compose_message(profile, report, trace, self.settings.sender, notice)
        if message is None:
            return False
        self.send(message)
        logger.info(
            "sent a sync notification (%s) for profile %s",
            notice.value if notice else "trace",
            profile.id,
        )
        return notice is None or profile.options.notifications.warnings_and_errors

    def send(self, message: EmailMessage) -> None:
        """Deliver one message.

        Raises:
            smtplib.SMTPException, OSError: the server could not be reached or refused it.
        """
        # imported here: a process that never mails does not load smtplib and ssl (~1 MB)
        import smtplib  # noqa: PLC0415
        import ssl  # noqa: PLC0415

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

"""What one profile's run is made of, outside the processor's scheduling: the remote side it
connects (:class:`Connection`), what became of it (:class:`ProfileRun`), the status it calls
for, and what is written back to the host and sent to the user afterwards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import frozen

from calsync.backends import CalendarBackend, ContactsBackend
from calsync.engine import SyncReport
from calsync.notices import Settling, notice_after
from calsync.notify import Notifier
from calsync.profile import ProfileStatus, ProfileStore, SyncProfile
from calsync.state.base import StateStore

__all__ = ["Connect", "Connection", "ProfileRun"]

logger = logging.getLogger(__name__)


@frozen
class Connection:
    """The remote side for one profile's run. ``close`` is called when the run ends (e.g. to
    write refreshed tokens back)."""

    calendar: CalendarBackend | None
    contacts: ContactsBackend | None = None
    close: Callable[[], None] | None = None


#: Builds the remote side for a profile (raises ``NotConnected`` when the user has no Google
#: account connected, ``AuthError`` when Google refuses the saved one).
Connect = Callable[[SyncProfile], Connection]


@frozen
class ProfileRun:
    """What happened to one profile: its report, or why it was skipped, and the profile's
    status after the run (``None`` when skipped)."""

    profile_id: str
    report: SyncReport | None = None
    skipped: str | None = None
    status: ProfileStatus | None = None
    #: why the run was stopped before it finished (:class:`~calsync.errors.RunStopped`), or
    #: ``None``
    stopped: str | None = None
    #: stopped because this runner lost the profile's lease (another runner has the profile:
    #: the user was not told, and the status is unchanged)
    lease_lost: bool = False

    @property
    def failed(self) -> bool:
        """The sync ran and failed for a reason other than a Google account never connected
        (which waits for the user, not the operator)."""
        if self.report is None or self.report.ok:
            return False
        return self.status is not ProfileStatus.NOT_CONNECTED


@frozen
class Outcome:
    report: SyncReport
    trace: str
    status: ProfileStatus | None  # the status the run calls for (None: unchanged)
    stopped: str | None = None  # why it was stopped before it finished (RunStopped)


def who(profile: SyncProfile) -> str:
    """The user as an operator knows them (never their email address)."""
    return profile.name or f"user {profile.user_id}"


def status_after(
    profile: SyncProfile, report: SyncReport, connected: bool | None
) -> ProfileStatus | None:
    """The status a run calls for (``None``: leave it as it is)."""
    if connected is False:
        return ProfileStatus.NOT_CONNECTED
    if report.needs_reauth:
        return ProfileStatus.NEEDS_REAUTH
    if report.calendar_gone:
        return ProfileStatus.CALENDAR_GONE
    if connected and report.fatal is None and profile.status.waits_for_google_account:
        return ProfileStatus.OK  # an explicit run got through: the account works again
    return None


def tell_host(
    profiles: ProfileStore, profile: SyncProfile, outcome: Outcome
) -> ProfileStatus | None:
    """Write back what the run learnt; returns the status given (``None``: unchanged)."""
    report, status = outcome.report, outcome.status
    try:
        if report.initial_sync_completed:
            profiles.initial_sync_done(profile.id)
        if status is not None and status is not profile.status:
            message = "" if status is ProfileStatus.OK else report.fatal or status.value
            profiles.set_status(profile.id, status, message)
            return status
    except Exception:
        logger.exception("profile %s: could not update the host's profile", profile.id)
    return None


def _settling(profile_id: str, text: str | None) -> Settling | None:
    if text is None:
        return None
    try:
        return Settling.from_json(text)
    except (ValueError, KeyError, TypeError):  # unreadable: tell a clearing at once
        logger.warning("profile %s: ignoring an unreadable settling problem", profile_id)
        return None


def delivered(sent: bool | None, profile: SyncProfile) -> bool:
    """Whether a notifier's answer says the notice reached the user: what it returned, or,
    from a notifier that returns ``None`` (written before it could say), whether the
    profile's "warnings and errors" switch asks for it."""
    if sent is None:
        return profile.options.notifications.warnings_and_errors
    return bool(sent)


def send_notice(
    notifier: Notifier,
    store: StateStore,
    profile: SyncProfile,
    outcome: Outcome,
    now: datetime,
    remind_every: timedelta | None,
) -> None:
    """Tell the user what :func:`~calsync.notices.notice_after` says is due; recorded as sent
    only once sent, so a failure, or a notice that reached nobody (no address, the user's
    switch off), is tried again at the next run."""
    try:
        previous, settling_text = store.get_notices(profile.id)  # (one read)
        settling = _settling(profile.id, settling_text)
        due, settling_after = notice_after(
            previous, settling, outcome.report, profile.status, now, remind_every
        )
        sent = notifier.notify(profile, outcome.report, outcome.trace, due.notice)
        if due.notice is not None and not delivered(sent, profile):
            logger.debug(
                "profile %s: the %s notice reached nobody; it stays due",
                profile.id,
                due.notice.value,
            )
            return
        with store.transaction():
            if due.changed:
                store.set_sent_notice(profile.id, due.record)
            if settling_after != settling:
                text = None if settling_after is None else settling_after.to_json()
                store.set_settling(profile.id, text)
    except Exception as exc:  # (its message may name the user's address: only at DEBUG)
        logger.error("profile %s: could not send the notification (%s)", profile.id, _failure(exc))
        logger.debug("profile %s: the notification failed", profile.id, exc_info=True)


def _failure(exc: Exception) -> str:
    """What an operator's log may say of a failed notification: the exception's type, and
    the SMTP reply codes it carries — never its text, which names the recipient (a refused
    address) or echoes what the server was sent."""
    import smtplib  # noqa: PLC0415 - only once sending failed: a process that never mails skips it

    codes: list[int] = []
    if isinstance(exc, smtplib.SMTPResponseException):
        codes.append(exc.smtp_code)
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes.extend(sorted({code for code, _ in exc.recipients.values()}))
    if not codes:
        return type(exc).__name__
    return f"{type(exc).__name__}, SMTP {' '.join(str(code) for code in codes)}"

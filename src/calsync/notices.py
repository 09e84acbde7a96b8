"""When a user hears about a problem: when it starts or changes, then at most one reminder a
day while it lasts, and one note when it clears.

A problem is named by a digest of what the run found wrong (the status calsync gave the
profile, the failure, each failing item, each held deletion, each warning and conflict). The
processor keeps the last notice sent per profile in the state store
(:meth:`~calsync.state.base.StateStore.get_sent_notice`), under the profile's lease, so a restart or
another runner does not send it again.

    due = notice_due(store.get_sent_notice(profile.id), report, status, now, remind_every)
    notifier.notify(profile, report, trace, due.notice)
    if due.changed:
        store.set_sent_notice(profile.id, due.record)
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta

from attrs import frozen

from calsync.engine.report import SyncReport
from calsync.profile import ProfileStatus
from calsync.state.base import SentNotice

__all__ = ["DEFAULT_REMINDER", "Notice", "NoticeDue", "notice_due", "problems_of"]

#: How long a lasting problem goes before the user is reminded of it.
DEFAULT_REMINDER = timedelta(days=1)


class Notice(enum.Enum):
    """What a problem email says."""

    #: a new problem, or a different one from the last email
    PROBLEM = "problem"
    #: the same problem, still there a reminder interval after the last email
    REMINDER = "reminder"
    #: the problem the last email was about has cleared
    RESOLVED = "resolved"


@frozen
class NoticeDue:
    """What to tell the user after a run, and what to remember once it was sent.

    Attributes:
        notice: the email due now (``None``: nothing new to say).
        record: what the store should hold afterwards (``None``: nothing outstanding).
        changed: ``record`` differs from what the store holds.
    """

    notice: Notice | None
    record: SentNotice | None
    changed: bool


def _reason(fatal: str) -> str:
    """A failure without its details (exception text, ids), which change from run to run."""
    return "; ".join(part.split(": ", 1)[0] for part in fatal.split("; "))


def problems_of(report: SyncReport, status: ProfileStatus = ProfileStatus.OK) -> list[str]:
    """What the run found wrong, one line per problem, sorted (empty: nothing)."""
    found = set()
    if status is not ProfileStatus.OK:
        found.add(f"status: {status.value}")
    if report.fatal:
        found.add(f"failed: {_reason(report.fatal)}")
    found.update(f"error: {e.channel.value} {e.item} {e.action}" for e in report.errors)
    found.update(f"held: {h.channel.value} {h.side.value} {h.item}" for h in report.held)
    found.update(f"warning: {w}" for w in report.warnings)
    found.update(
        f"conflict: {c.channel.value} {c.item} {c.field} {c.host!r} {c.remote!r}"
        for c in report.conflicts
    )
    return sorted(found)


def _lasting(report: SyncReport, status: ProfileStatus) -> bool:
    """Problems that stay until someone acts; warnings and conflicts are one-off news."""
    return status is not ProfileStatus.OK or bool(report.fatal or report.errors or report.held)


def notice_due(
    previous: SentNotice | None,
    report: SyncReport,
    status: ProfileStatus,
    now: datetime,
    remind_every: timedelta | None = DEFAULT_REMINDER,
) -> NoticeDue:
    """The notice a run calls for, given the last one sent (``remind_every=None``: never
    remind)."""
    problems = problems_of(report, status)
    if not problems:
        if previous is not None and previous.lasting:
            return NoticeDue(Notice.RESOLVED, None, True)
        return NoticeDue(None, None, previous is not None)
    problem = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:32]
    record = SentNotice(problem, now, _lasting(report, status))
    if previous is None or previous.problem != problem:
        return NoticeDue(Notice.PROBLEM, record, True)
    if remind_every is not None and now - previous.sent_at >= remind_every:
        return NoticeDue(Notice.REMINDER, record, True)
    return NoticeDue(None, previous, False)

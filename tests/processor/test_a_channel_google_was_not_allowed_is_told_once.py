"""A channel the user's Google authorisation does not give access to (contact sync on,
Contacts not granted) is one email: not one a run, no daily reminder while the user has not
reconnected Google (they may not want contacts synced at all), and a note at once when they
have."""

from __future__ import annotations

from datetime import timedelta

from studio_world import NOW

from calsync import SyncReport
from calsync.model import Channel
from calsync.notices import Notice, notice_due
from calsync.profile import ProfileStatus
from calsync.wording import DEFAULT_WORDING

WAITING = DEFAULT_WORDING.not_authorised(Channel.CONTACTS)


def waiting(at: timedelta) -> SyncReport:
    return SyncReport("p", NOW + at, warnings=[WAITING], not_authorised=[Channel.CONTACTS])


def test_contacts_not_allowed_are_told_once_and_their_end_at_once() -> None:
    record, sent = None, []
    for hours in (0, 1, 25, 49, 73):
        at = timedelta(hours=hours)
        due = notice_due(record, waiting(at), ProfileStatus.OK, NOW + at)
        sent.append(due.notice)
        record = due.record if due.changed else record
    cleared = notice_due(record, SyncReport("p", NOW), ProfileStatus.OK, NOW + timedelta(days=4))

    assert sent == [Notice.PROBLEM, None, None, None, None]
    assert cleared.notice is Notice.RESOLVED


def test_another_lasting_problem_beside_it_is_reminded_of_as_usual() -> None:
    report = waiting(timedelta(0))
    report.fatal = "internal error: boom"
    first = notice_due(None, report, ProfileStatus.OK, NOW)

    later = notice_due(first.record, report, ProfileStatus.OK, NOW + timedelta(days=1))

    assert (first.notice, later.notice) == (Notice.PROBLEM, Notice.REMINDER)

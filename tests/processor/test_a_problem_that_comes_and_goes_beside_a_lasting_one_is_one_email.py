"""A failure that comes and goes (Google flaky every other run) beside a problem that lasts (an
item Google refuses for good) is the problem already told, not a new problem email at every run:
the user is emailed when a run finds something not heard of lately, and the record follows the
lines that go and come back without an email, so the daily reminder and the "working again"
note stay right."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from mailbox import NoticeStudio
from typing import Any

from studio_world import CAL, NOW, session

from calsync import Side, SyncReport
from calsync.engine.report import HeldDeletion, ItemError
from calsync.errors import InvalidRequest, TransientError
from calsync.model import Channel
from calsync.notices import SETTLE, Notice, Settling, notice_after
from calsync.profile import ProfileStatus
from calsync.state.base import SentNotice
from calsync.testing import MemoryCalendarBackend

MINUTE = timedelta(minutes=1)
OK = ProfileStatus.OK

REFUSED = ItemError(Channel.CALENDAR, "bad", "create bad", "Google answered 400 invalid: x")
STORMY = ItemError(Channel.CALENDAR, "n1", "create n1", "Google answered 503", transient=True)
HELD = HeldDeletion(Channel.CALENDAR, Side.REMOTE, "s1", "Portrait")


class Refusing(MemoryCalendarBackend):
    """A calendar that refuses the session ``bad`` for good (a 400)."""

    def create_event(self, calendar_id: str, event_id: str, fields: Any, marker: Any) -> Any:
        if marker.host_id == "bad":
            raise InvalidRequest(
                "Google answered 400 invalid: Bad Request", status=400, reason="invalid"
            )
        return super().create_event(calendar_id, event_id, fields, marker)


class Studio(NoticeStudio):
    """Ann, synced every five minutes, whose session ``bad`` Google refuses for good."""

    interval = 300.0

    def __init__(self) -> None:
        super().__init__()
        self.calendar = Refusing(now=self.clock, calendars=[CAL])


def test_a_storm_every_other_run_beside_an_item_refused_for_good_is_one_more_email() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    studio.schedule.add("ann", session("bad", day=2))  # refused at every run
    studio.round(processor)
    assert studio.mailbox.subjects == ["Google Sync problems: 1 error"]
    for run in range(8):  # forty minutes, Google flaky every other run
        if run % 2 == 0:
            studio.schedule.add("ann", session(f"n{run}", day=3 + run))
            studio.calendar.fail_next(
                "create_event", TransientError("Google answered 503 backendError", status=503)
            )
        studio.round(processor)

    assert len(studio.mailbox.subjects) == 2, studio.mailbox.subjects


def test_a_whole_run_failing_every_other_run_beside_an_item_refused_for_good() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    studio.schedule.add("ann", session("bad", day=2))
    studio.round(processor)
    for run in range(8):
        studio.broken = "connection reset by peer" if run % 2 == 0 else None
        studio.round(processor)

    assert len(studio.mailbox.subjects) == 2, studio.mailbox.subjects


def _run(
    previous: SentNotice | None,
    settling: Settling | None,
    report: SyncReport,
    at: datetime,
    status: ProfileStatus = OK,
) -> tuple[Notice | None, SentNotice | None, Settling | None]:
    """A run at ``at``, and what is stored after it (as the processor does once sent)."""
    due, after = notice_after(previous, settling, report, status, at)
    return due.notice, due.record, after


def _report(*errors: ItemError, fatal: str | None = None, **kw: Any) -> SyncReport:
    return SyncReport("p", NOW, errors=list(errors), fatal=fatal, **kw)


def test_a_new_lasting_line_beside_the_told_problem_is_told_at_once() -> None:
    other = ItemError(Channel.CALENDAR, "worse", "update worse", "Google answered 403 forbidden")
    told, record, settling = _run(None, None, _report(REFUSED), NOW)
    storm, record, settling = _run(record, settling, _report(REFUSED, STORMY), NOW + 5 * MINUTE)
    calm, record, settling = _run(record, settling, _report(REFUSED), NOW + 10 * MINUTE)
    new, record, settling = _run(record, settling, _report(REFUSED, other), NOW + 15 * MINUTE)
    held, record, settling = _run(
        record, settling, _report(REFUSED, other, held=[HELD]), NOW + 20 * MINUTE
    )

    assert [told, storm, calm, new, held] == [Notice.PROBLEM, Notice.PROBLEM, None] + [
        Notice.PROBLEM
    ] * 2


def test_a_line_back_after_it_stayed_away_for_settle_is_new() -> None:
    _, record, settling = _run(None, None, _report(REFUSED), NOW)
    _, record, settling = _run(record, settling, _report(REFUSED, STORMY), NOW + 5 * MINUTE)
    at = NOW + 5 * MINUTE
    for _ in range(12):  # an hour without the storm
        at += 5 * MINUTE
        quiet, record, settling = _run(record, settling, _report(REFUSED), at)
        assert quiet is None
    back, record, settling = _run(record, settling, _report(REFUSED, STORMY), at + 5 * MINUTE)

    assert back is Notice.PROBLEM


def test_the_reminder_keeps_its_rhythm_and_the_note_follows_the_lines_gone() -> None:
    _, record, settling = _run(None, None, _report(REFUSED), NOW)
    notices = []
    at = NOW
    for run in range(12 * 24 + 2):  # a day and ten minutes, Google flaky every other run
        at += 5 * MINUTE
        report = _report(REFUSED, STORMY) if run % 2 else _report(REFUSED)
        notice, record, settling = _run(record, settling, report, at)
        notices.append(notice)
    assert record is not None

    assert [n for n in notices if n is not None] == [Notice.PROBLEM, Notice.REMINDER]
    # the storm was told at the second run, ten minutes in; then a reminder a day later
    assert record.sent_at == NOW + 10 * MINUTE + timedelta(days=1)

    gone, record, settling = _run(record, settling, _report(), at + 5 * MINUTE)
    note, record, settling = _run(record, settling, _report(), at + 5 * MINUTE + SETTLE)
    assert (gone, note, record, settling) == (None, Notice.RESOLVED, None, None)


def test_a_storm_beside_held_deletions_is_one_problem_and_their_release_is_told_at_once() -> None:
    _, record, settling = _run(None, None, _report(held=[HELD]), NOW)
    notices = []
    for run in range(6):
        report = _report(STORMY, held=[HELD]) if run % 2 == 0 else _report(held=[HELD])
        notice, record, settling = _run(record, settling, report, NOW + (run + 1) * 5 * MINUTE)
        notices.append(notice)
    released, record, settling = _run(record, settling, _report(), NOW + 35 * MINUTE)

    assert notices == [Notice.PROBLEM, None, None, None, None, None]
    assert (released, record, settling) == (Notice.RESOLVED, None, None)


def test_a_settling_problem_stored_before_its_lines_were_still_reads_and_counts() -> None:
    failed = _report(fatal="could not connect: reset")
    _, record, _ = _run(None, None, failed, NOW)
    stored = Settling.from_json(json.dumps({"seen": NOW.isoformat(), "told": []}))

    same, record, settling = _run(record, stored, failed, NOW + 5 * MINUTE)
    assert same is None
    assert settling is not None
    assert Settling.from_json(settling.to_json()).lines == settling.lines
    back, _, _ = _run(record, settling, _report(REFUSED), NOW + 10 * MINUTE)
    assert back is Notice.PROBLEM

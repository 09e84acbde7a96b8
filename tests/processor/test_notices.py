"""Problem emails: on a new or changed problem, a reminder a day while it lasts, a note when it
clears; what was sent lives in the state store, so restarts and other runners don't resend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    SqliteStateStore,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.errors import RunStopped
from calsync.notices import SETTLE, Notice, notice_due, problems_of
from calsync.notify import Notifier
from calsync.processor import Connection, SyncProcessor
from calsync.profile import ProfileStatus
from calsync.state.base import SentNotice, StateStore
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

DAY = timedelta(days=1)


class Outbox(Notifier):
    """Keeps the notices it is asked to send; ``fail`` makes the next send raise."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []
        self.fail = False

    def notify(
        self, profile: SyncProfile, report: SyncReport, trace: str, notice: Notice | None
    ) -> None:
        if self.fail:
            self.fail = False
            raise OSError("the mail server is down")
        if notice is not None:
            self.sent.append(notice)


class Studio:
    """Ann, whose Google connection breaks when ``broken`` says why."""

    def __init__(self, store: StateStore | None = None, clock: Clock | None = None) -> None:
        self.clock = clock or Clock(NOW)
        self.schedule = MemoryScheduleSource(now=self.clock)
        self.schedule.add("ann", session("s1"))
        self.calendar = MemoryCalendarBackend(now=self.clock, calendars=[CAL])
        options = SyncOptions(notifications=Notifications(warnings_and_errors=True))
        self.profiles = MemoryProfileStore([SyncProfile("studio.ann", "ann", CAL, options)])
        self.store = store or MemoryStateStore()
        self.broken: str | None = None
        self.outbox = Outbox()

    def connect(self, profile: SyncProfile) -> Connection:
        if self.broken is not None:
            raise ConnectionError(self.broken)
        return Connection(self.calendar)

    def processor(self, **kw: Any) -> SyncProcessor:
        engine = SyncEngine(self.store, self.schedule, clock=self.clock)
        values: dict[str, Any] = {"clock": self.clock, "interval": 60.0, "notifier": self.outbox}
        values.update(kw)
        return SyncProcessor(engine, self.profiles, self.connect, **values)

    def run(self, processor: SyncProcessor, *, after: timedelta = timedelta(minutes=5)) -> None:
        self.clock.advance(seconds=after.total_seconds())
        processor.run_profile(self.profiles.get("studio.ann"))


def test_a_lasting_problem_is_told_once_reminded_daily_and_its_end_told_once() -> None:
    studio = Studio()
    processor = studio.processor()

    studio.broken = "connection reset by peer (request 1)"
    studio.run(processor)  # told
    studio.broken = "connection reset by peer (request 2)"  # the same problem in other words
    studio.run(processor)
    studio.run(processor, after=DAY / 2)
    studio.run(processor, after=DAY / 2)  # a day since the email: reminded
    studio.run(processor)
    studio.broken = None
    studio.run(processor)  # cleared: told once it has stayed away for a while
    studio.run(processor, after=SETTLE)
    studio.run(processor)

    assert studio.outbox.sent == [Notice.PROBLEM, Notice.REMINDER, Notice.RESOLVED]


def test_a_changed_problem_is_told_again_at_once() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.broken = "connection reset"
    studio.run(processor)

    studio.broken = None
    studio.calendar.delete_calendar(CAL)  # now a different problem
    studio.run(processor)

    assert studio.outbox.sent == [Notice.PROBLEM, Notice.PROBLEM]


def test_restarts_and_other_runners_on_the_same_store_do_not_send_it_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    studio = Studio(SqliteStateStore(path))
    studio.broken = "connection reset"
    runners = [studio.processor(holder="runner-a")]

    studio.run(runners[0])
    for name in ("runner-b", "runner-a-restarted"):
        studio.store = SqliteStateStore(path)  # another process on the same state
        runners.append(studio.processor(holder=name))
        studio.run(runners[-1])

    assert studio.outbox.sent == [Notice.PROBLEM]


def test_a_notice_that_could_not_be_sent_is_sent_at_the_next_run() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.broken = "connection reset"
    studio.outbox.fail = True

    studio.run(processor)
    studio.run(processor)

    assert studio.outbox.sent == [Notice.PROBLEM]


def test_reminders_follow_the_configured_interval_or_never() -> None:
    hourly, never = Studio(), Studio()
    processors = [
        hourly.processor(remind_every=timedelta(hours=1)),
        never.processor(remind_every=None),
    ]
    for studio, processor in zip((hourly, never), processors, strict=True):
        studio.broken = "connection reset"
        for _ in range(3):
            studio.run(processor, after=timedelta(minutes=61))

    assert hourly.outbox.sent == [Notice.PROBLEM, Notice.REMINDER, Notice.REMINDER]
    assert never.outbox.sent == [Notice.PROBLEM]


def test_one_off_news_is_not_followed_by_a_resolved_note() -> None:
    warned = SyncReport("p", NOW, warnings=["the session s1 was deleted in Google and restored"])

    first = notice_due(None, warned, ProfileStatus.OK, NOW)
    cleared = notice_due(first.record, SyncReport("p", NOW), ProfileStatus.OK, NOW + DAY)

    assert first.notice is Notice.PROBLEM
    assert (cleared.notice, cleared.record, cleared.changed) == (None, None, True)


@pytest.mark.parametrize(
    ("status", "report", "expected"),
    [
        (ProfileStatus.OK, SyncReport("p", NOW), []),
        (
            ProfileStatus.NOT_CONNECTED,
            SyncReport("p", NOW, fatal="no Google account is connected: connect it"),
            ["failed: no Google account is connected", "status: not_connected"],
        ),
        (
            ProfileStatus.OK,
            SyncReport("p", NOW, fatal="could not connect: reset (id 7); internal error: boom"),
            ["failed: could not connect; internal error"],
        ),
    ],
)
def test_a_problem_is_named_without_details_that_change_every_run(
    status: ProfileStatus, report: SyncReport, expected: list[str]
) -> None:
    assert problems_of(report, status) == expected


def test_nothing_outstanding_and_nothing_wrong_changes_nothing() -> None:
    due = notice_due(None, SyncReport("p", NOW), ProfileStatus.OK, NOW)

    assert (due.notice, due.record, due.changed) == (None, None, False)


def test_the_same_problem_within_the_reminder_interval_keeps_the_record() -> None:
    report = SyncReport("p", NOW, fatal="internal error: x")
    first = notice_due(None, report, ProfileStatus.OK, NOW)
    assert isinstance(first.record, SentNotice)

    again = notice_due(first.record, report, ProfileStatus.OK, NOW + DAY / 2)

    assert (again.notice, again.record, again.changed) == (None, first.record, False)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, "internal error: a", "internal error: b", "warning"]),
            st.integers(min_value=1, max_value=30),  # hours since the previous run
        ),
        max_size=30,
    )
)
def test_any_history_mails_each_change_at_once_and_the_same_problem_at_most_daily(
    history: list[tuple[str | None, int]],
) -> None:
    before: tuple[str, ...] = ()
    now, record, mailed_at = NOW, None, NOW
    for problem, hours in history:
        now += timedelta(hours=hours)
        report = SyncReport("p", now)
        if problem == "warning":
            report.warnings.append("the session s1 was restored")
        elif problem is not None:
            report.fatal = problem
        found = tuple(problems_of(report))

        due = notice_due(record, report, ProfileStatus.OK, now)

        lasting = bool(before) and before != ("warning: the session s1 was restored",)
        if not found:
            assert due.notice is (Notice.RESOLVED if lasting else None)
        elif lasting and found == ("warning: the session s1 was restored",):
            assert due.notice is Notice.RESOLVED  # working again, with the run's news
        elif found != before:
            assert due.notice is Notice.PROBLEM
        else:
            assert due.notice is (Notice.REMINDER if now - mailed_at >= DAY else None)
        if due.notice is not None:  # a "resolved" note may carry news, a reminder's start
            mailed_at = now
        record, before = (due.record if due.changed else record), found


class TimeLimit(RunStopped):
    """What a worker's time limit raises into a run (calsync.celery.TimeLimitReached)."""


def test_a_run_stopped_by_a_time_limit_is_told_like_a_failure_and_goes_on_next_time() -> None:
    studio = Studio()
    studio.schedule.add("ann", session("s2"))
    processor = studio.processor()
    studio.calendar.fail_next("write_events", TimeLimit("the soft time limit (600s)"))

    run = processor.run_profile(studio.profiles.get("studio.ann"))

    assert run.stopped == "the soft time limit (600s)"
    assert run.report is not None
    assert "stopped before it finished (the soft time limit (600s))" in (run.report.fatal or "")
    assert studio.outbox.sent == [Notice.PROBLEM]
    assert studio.store.get_last_run("studio.ann") is None  # not a recent run: due again
    assert studio.store.get_lease("studio.ann") is None  # the lease went with the run
    assert studio.profiles.get("studio.ann").status is ProfileStatus.OK  # nothing to fix

    studio.run(processor, after=SETTLE)  # the next run goes on and finishes

    assert len(studio.calendar.events(CAL)) == 2
    assert studio.outbox.sent == [Notice.PROBLEM, Notice.RESOLVED]

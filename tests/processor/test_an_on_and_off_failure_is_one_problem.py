"""A failure that comes and goes (Google flapping for an afternoon) is one problem: one email
when it starts, a reminder a day at most, and one "working again" note once it has stayed away
for ``SETTLE`` (an hour), not a problem and a note every other run."""

from __future__ import annotations

from datetime import timedelta
from mailbox import NoticeStudio
from pathlib import Path

from studio_world import NOW

from calsync import (
    SqliteStateStore,
    SyncReport,
)
from calsync.notices import SETTLE, Notice, Settling, notice_after
from calsync.profile import ProfileStatus

MINUTE = timedelta(minutes=1)
PROBLEM = "Google Sync problems: the last sync failed"
WORKING = "Google Sync is working again"


class Studio(NoticeStudio):
    """Ann, whose Google connection breaks when ``broken`` says why."""

    interval = 300.0


def test_a_failure_every_other_run_for_two_hours_is_one_email_and_one_note() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    for run in range(24):  # every five minutes, every other run fails
        studio.broken = "connection reset by peer" if run % 2 == 0 else None
        studio.round(processor)

    assert studio.mailbox.subjects == [PROBLEM]

    for _ in range(12):  # it stays away: told once, after an hour
        studio.round(processor)
    for _ in range(12):
        studio.round(processor)

    assert studio.mailbox.subjects == [PROBLEM, WORKING]


def test_the_note_waits_for_the_problem_to_stay_away_and_a_return_is_a_new_problem() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.broken = "connection reset"
    studio.round(processor)  # told
    studio.broken = None
    studio.round(processor, minutes=30)  # away for half an hour: not yet
    studio.broken = "connection reset"
    studio.round(processor, minutes=20)  # back: the problem already told
    studio.broken = None
    studio.round(processor, minutes=50)  # away 50 minutes: not yet
    assert studio.mailbox.subjects == [PROBLEM]

    studio.round(processor, minutes=10)  # an hour since it was last seen
    studio.broken = "connection reset"
    studio.round(processor, minutes=60 * 3)  # hours after the note: a new problem

    assert studio.mailbox.subjects == [PROBLEM, WORKING, PROBLEM]


def test_a_problem_the_user_fixed_is_told_cleared_at_the_first_good_run() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.refuse = True
    studio.round(processor)  # "please re-authenticate Google"
    studio.refuse = False
    studio.profiles.account_connected("studio.ann")  # the user acts

    studio.round(processor, minutes=1)

    assert studio.mailbox.subjects == [
        "Google Sync problems: please re-authenticate Google",
        WORKING,
    ]


def test_what_is_waiting_lives_in_the_store_for_the_next_runner(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    studio = Studio(store=SqliteStateStore(path))
    for run in range(12):  # a new runner every run, on the same state file
        studio.store = SqliteStateStore(path)
        studio.broken = "connection reset" if run % 2 == 0 else None
        studio.round(studio.processor(holder=f"runner-{run}"))

    assert studio.mailbox.subjects == [PROBLEM]


def test_news_while_a_failure_settles_is_told_once_and_the_note_still_follows() -> None:
    failed = SyncReport("p", NOW, fatal="could not connect: reset")
    news = SyncReport("p", NOW, warnings=["the session s1 was deleted in Google and restored"])
    clean = SyncReport("p", NOW)
    ok = ProfileStatus.OK

    problem, settling = notice_after(None, None, failed, ok, NOW)
    told, settling_1 = notice_after(problem.record, settling, news, ok, NOW + 5 * MINUTE)
    repeated, settling_2 = notice_after(problem.record, settling_1, news, ok, NOW + 10 * MINUTE)
    cleared, settling_3 = notice_after(problem.record, settling_2, clean, ok, NOW + SETTLE)

    assert problem.notice is Notice.PROBLEM
    assert settling == Settling(NOW)
    assert (told.notice, told.record, told.changed) == (Notice.PROBLEM, problem.record, False)
    assert repeated.notice is None
    assert settling_2 is not None
    assert settling_2.seen == NOW
    assert (cleared.notice, cleared.record, settling_3) == (Notice.RESOLVED, None, None)

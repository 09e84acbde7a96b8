"""A lasting problem that clears in a run which also has one-off news (a restored event, a
settled conflict) is still told cleared: the "working again" note carries the news, one email,
and the news is not told again."""

from __future__ import annotations

from mailbox import NoticeStudio

from studio_world import CAL, NOW

from calsync import (
    SyncReport,
)
from calsync.notices import Notice, notice_due
from calsync.profile import ProfileStatus


class Studio(NoticeStudio):
    """Ann, whose Google authorisation Google refuses while ``refuse`` is set."""


def test_the_working_again_note_goes_out_with_the_news_of_the_run_that_cleared_it() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)  # s1 synced
    studio.refuse = True
    studio.round(processor)  # "please re-authenticate Google"
    [event_id] = studio.calendar.events(CAL)
    studio.calendar.external_delete(CAL, event_id)  # meanwhile, deleted in Google by mistake
    studio.refuse = False
    studio.profiles.account_connected("studio.ann")  # the user re-authorises

    studio.round(processor)  # works again, and restores s1 (one-off news)
    studio.round(processor, minutes=60)  # clean
    studio.round(processor, minutes=60 * 25)  # clean, a day later

    assert studio.mailbox.subjects == [
        "Google Sync problems: please re-authenticate Google",
        "Google Sync is working again (1 warning)",
    ]
    note = studio.mailbox.messages[1].get_content()
    assert note.startswith("The problem Google Sync wrote to you about has cleared")
    assert "restored" in note
    assert len(studio.calendar.events(CAL)) == 1


def test_a_failure_cleared_by_a_run_with_a_conflict_is_told_cleared_once() -> None:
    failed = SyncReport("p", NOW, fatal="could not connect: connection reset")
    news = SyncReport("p", NOW, warnings=["the session s1 was deleted in Google and restored"])
    clean = SyncReport("p", NOW)

    problem = notice_due(None, failed, ProfileStatus.OK, NOW)
    cleared = notice_due(problem.record, news, ProfileStatus.OK, NOW)
    again = notice_due(cleared.record, news, ProfileStatus.OK, NOW)  # the same news: told
    after = notice_due(cleared.record, clean, ProfileStatus.OK, NOW)

    assert problem.notice is Notice.PROBLEM
    assert cleared.notice is Notice.RESOLVED
    assert cleared.record is not None
    assert not cleared.record.lasting
    assert again.notice is None
    assert (after.notice, after.record, after.changed) == (None, None, True)

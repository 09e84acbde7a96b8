"""Google flaky for an hour (503s, 500s, timeouts, rate limits) fails a different handful of
items at each run, which calsync tries again by itself: that storm is one problem, told once
(with the items that failed), then reminded of daily and told cleared once it has settled; an
item Google refuses for good is a problem of its own, told at once."""

from __future__ import annotations

from mailbox import Inbox, NoticeStudio

from studio_world import NOW, session

from calsync import SyncReport
from calsync.engine.report import ItemError
from calsync.errors import InvalidRequest, RateLimited, TransientError
from calsync.model import Channel
from calsync.notices import problems_of

PROBLEM = "Google Sync problems: 1 error"
WORKING = "Google Sync is working again"

#: what Google answers while it is flaky, one a run
STORM: list[TransientError] = [
    TransientError("Google answered 503 backendError: Backend Error", status=503),
    TransientError("Google answered 500 internalError: Internal Error", status=500),
    TransientError("connection to Google failed: TimeoutError"),
    RateLimited("Google answered 429 rateLimitExceeded: Rate Limit Exceeded", status=429),
    TransientError("Google answered 503 backendError: Backend Error", status=503),
]


class Studio(NoticeStudio):
    """Ann, synced every five minutes; each :meth:`new_session` is a new item to create."""

    interval = 300.0

    def new_session(self, number: int) -> str:
        item_id = f"n{number}"
        self.schedule.add("ann", session(item_id, day=number + 1))
        return item_id


def test_a_storm_failing_a_different_item_each_run_sends_one_problem_email() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    failed = []
    for number, error in enumerate(STORM):  # the item created this run fails; the last
        failed.append(studio.new_session(number))  # run's is tried again and goes through
        studio.calendar.fail_next("create_event", error)
        studio.round(processor)

    assert studio.mailbox.subjects == [PROBLEM]
    body = Inbox.body(studio.mailbox.messages[0])
    assert f"error: {failed[0]}:" in body  # the email still names the item that failed

    for _ in range(13):  # it stays away an hour: told cleared once
        studio.round(processor)

    assert studio.mailbox.subjects == [PROBLEM, WORKING]


def test_an_item_google_refuses_for_good_during_a_storm_is_a_new_problem() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    for number, error in enumerate(STORM[:3]):
        studio.new_session(number)
        studio.calendar.fail_next("create_event", error)
        studio.round(processor)
    studio.new_session(3)
    studio.new_session(4)
    studio.calendar.fail_next("create_event", STORM[3])  # n3: Google busy
    studio.calendar.fail_next("create_event", InvalidRequest("Google answered 400 invalid"))
    studio.round(processor)

    assert studio.mailbox.subjects == [PROBLEM, "Google Sync problems: 2 errors"]


def test_transient_item_errors_are_named_by_channel_and_permanent_ones_by_item() -> None:
    def named(*errors: ItemError) -> list[str]:
        return problems_of(SyncReport("p", NOW, errors=list(errors)))

    def busy(item: str, message: str) -> ItemError:
        return ItemError(Channel.CALENDAR, item, f"create {item}", message, transient=True)

    storm = named(busy("s1", "Google answered 503 backendError"))
    refused = ItemError(Channel.CALENDAR, "s9", "create s9", "Google answered 400 invalid: x")

    assert storm == named(busy("s2", "connection to Google failed"), busy("s3", "429: slow"))
    assert named(busy("s1", "503"), refused) == sorted(
        [*storm, "error: calendar s9 Google answered 400 invalid"]
    )
    assert named(ItemError(Channel.CONTACTS, "c1", "create c1", "503", transient=True)) != storm


def test_a_report_says_which_item_errors_were_transient() -> None:
    report = SyncReport(
        "p",
        NOW,
        errors=[
            ItemError(Channel.CALENDAR, "s1", "create s1", "503", transient=True),
            ItemError(Channel.CALENDAR, "s2", "create s2", "400 invalid"),
        ],
    )

    assert [e["transient"] for e in report.to_dict()["errors"]] == [True, False]


def test_a_read_google_could_not_answer_is_part_of_the_same_storm() -> None:
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    studio.new_session(0)
    studio.calendar.fail_next("create_event", STORM[0])
    studio.round(processor)  # n0's create fails: it is read again at the next run
    studio.new_session(1)
    studio.calendar.fail_next("get_event", STORM[1], count=3)
    studio.calendar.fail_next("create_event", STORM[2])
    studio.clock.advance(minutes=5)
    run = processor.run_profile(studio.profiles.get("studio.ann"))

    assert run.report is not None
    assert [(e.item, e.action.split()[0], e.transient) for e in run.report.errors] == [
        ("n0", "read", True),
        ("n1", "create", True),
    ]
    assert studio.mailbox.subjects == [PROBLEM]


def test_runs_google_fails_whole_and_runs_it_fails_a_few_items_are_one_problem() -> None:
    """A flaky Google fails a whole run one time (the listing answers 503 after calsync's
    retries) and a few items the next: one outage, one email."""
    studio = Studio()
    processor = studio.processor()
    studio.round(processor)
    for number, error in enumerate(STORM):
        if number % 2 == 0:
            studio.calendar.fail_next("list_events", error)
        else:
            studio.new_session(number)
            studio.calendar.fail_next("create_event", error)
        studio.round(processor)

    assert len(studio.mailbox.subjects) == 1, studio.mailbox.subjects
    assert studio.mailbox.subjects[0].startswith("Google Sync problems")

    for _ in range(13):  # it stays away an hour: told cleared once
        studio.round(processor)

    assert studio.mailbox.subjects[1:] == [WORKING]


def test_a_run_google_could_not_answer_is_named_as_the_channels_storm() -> None:
    def lines(report: SyncReport) -> list[str]:
        return problems_of(report)

    busy = ItemError(Channel.CALENDAR, "s1", "create s1", "Google answered 503", transient=True)
    storm = lines(SyncReport("p", NOW, errors=[busy]))
    stopped = "calendar sync failed, nothing was changed for it: Google answered 503 backendError"
    unavailable = SyncReport("p", NOW, fatal=stopped, unavailable=[Channel.CALENDAR])
    store = "the state store failed (disk I/O error); the next sync tries again"
    both = SyncReport("p", NOW, fatal=f"{stopped}; {store}", unavailable=[Channel.CALENDAR])

    assert lines(unavailable) == storm
    assert unavailable.to_dict()["unavailable"] == ["calendar"]
    assert lines(both) == sorted([*storm, f"failed: {store}"])  # (no details in it to drop)
    assert lines(SyncReport("p", NOW, fatal=stopped)) == [
        "failed: calendar sync failed, nothing was changed for it"
    ]

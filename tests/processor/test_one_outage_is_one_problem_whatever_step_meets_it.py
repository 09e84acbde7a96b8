"""A failing item is named by the item and the kind of its error, not by the engine's step
that met it: one unchanged outage (rate limited inserts, then rate limited reads of the same
items) is one problem email, not a new one each time the engine's step changes."""

from __future__ import annotations

from mailbox import Mailbox

from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.engine.report import ItemError
from calsync.errors import RateLimited
from calsync.model import Channel
from calsync.notices import problems_of
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource

LIMITED = "Google answered 403 rateLimitExceeded: Rate Limit Exceeded"


def test_an_outage_met_first_by_a_create_then_by_reads_is_mailed_once() -> None:
    clock = Clock(NOW)
    schedule = MemoryScheduleSource(now=clock)
    schedule.add("ann", session("s1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    options = SyncOptions(notifications=Notifications(warnings_and_errors=True))
    profiles = MemoryProfileStore(
        [SyncProfile("studio.ann", "ann", CAL, options, email="ann@studio.example")]
    )
    mailbox = Mailbox()
    engine = SyncEngine(MemoryStateStore(), schedule, clock=clock)
    processor = SyncProcessor(
        engine, profiles, lambda _: Connection(calendar), notifier=mailbox, clock=clock
    )
    processor.run_once()
    schedule.add("ann", session("s2", day=4))
    calendar.fail_next("write_events", RateLimited(LIMITED))  # the insert
    steps = []
    for _ in range(3):
        clock.advance(minutes=5)
        calendar.fail_next("get_event", RateLimited(LIMITED), count=5)  # then the reads
        run = processor.run_profile(profiles.get("studio.ann"))
        assert run.report is not None
        steps.append([(e.item, e.action.split()[0]) for e in run.report.errors])

    assert steps == [[("s2", "create")], [("s2", "read")], [("s2", "read")]]
    assert mailbox.subjects == ["Google Sync problems: 1 error"]


def test_a_failing_item_is_named_by_the_item_and_the_kind_of_error() -> None:
    def named(*errors: ItemError) -> list[str]:
        return problems_of(SyncReport("p", NOW, errors=list(errors)))

    create = ItemError(Channel.CALENDAR, "s2", "create remote calendar item for s2", LIMITED)
    read = ItemError(Channel.CALENDAR, "s2", "read remote calendar item abc", LIMITED)
    refused = ItemError(Channel.CALENDAR, "s2", "read remote calendar item abc", "403: denied")
    other = ItemError(Channel.CALENDAR, "s3", "read remote calendar item abc", LIMITED)

    assert (
        named(create) == named(read) == ["error: calendar s2 Google answered 403 rateLimitExceeded"]
    )
    assert named(refused) != named(read)
    assert named(other) != named(read)

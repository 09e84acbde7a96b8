"""Tracing one run captures that run's records and changes nothing anybody else's logging sees."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from studio_world import CAL, NOW, Clock, session

from calsync import (
    MemoryStateStore,
    Notifications,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
)
from calsync.notify import Notifier
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource
from calsync.trace import trace_run

# a module logger and one below it, as calsync's packages have (created before any trace)
OUTER = logging.getLogger("calsync.tracetest")
INNER = logging.getLogger("calsync.tracetest.inner")


class Collected(logging.Handler):
    """A host's handler with no level of its own: it sees what the loggers let through."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def host_handler() -> Iterator[Collected]:
    """The host configured ``calsync`` at INFO with one handler."""
    calsync = logging.getLogger("calsync")
    level, propagate = calsync.level, calsync.propagate
    handler = Collected()
    calsync.addHandler(handler)
    calsync.setLevel(logging.INFO)
    calsync.propagate = False
    try:
        yield handler
    finally:
        calsync.removeHandler(handler)
        calsync.setLevel(level)
        calsync.propagate = propagate


def in_thread(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_another_users_debug_records_never_reach_an_info_handler_while_one_user_is_traced(
    host_handler: Collected,
) -> None:
    traced, b_done = threading.Event(), threading.Event()
    traces: list[str] = []

    def user_a() -> None:
        with trace_run() as trace:
            assert trace is not None
            traced.set()
            b_done.wait(5)
            INNER.debug("A decides")
            OUTER.info("A writes")
        traces.append(trace.text)

    def user_b() -> None:
        traced.wait(5)
        INNER.debug("B decides")
        OUTER.debug("B thinks")
        INNER.info("B writes")
        b_done.set()

    threads = [in_thread(user_a), in_thread(user_b)]
    for thread in threads:
        thread.join(5)

    assert host_handler.messages == ["B writes", "A writes"]
    (trace,) = traces
    assert "A decides" in trace
    assert "A writes" in trace
    assert "B " not in trace


def test_two_overlapping_traces_leave_every_logger_level_exactly_as_before(
    host_handler: Collected,
) -> None:
    explicit = logging.getLogger("calsync.tracetest.explicit")
    explicit.setLevel(logging.WARNING)
    before = {log.name: log.level for log in (logging.getLogger("calsync"), OUTER, INNER, explicit)}
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    second_trace: list[str] = []

    def first() -> None:
        with trace_run():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with trace_run() as trace:
            assert trace is not None
            second_in.set()
            first_out.wait(5)
            INNER.debug("still traced after the first trace ended")
        second_trace.append(trace.text)

    threads = [in_thread(first), in_thread(second)]
    for thread in threads:
        thread.join(5)

    after = {log.name: log.level for log in (logging.getLogger("calsync"), OUTER, INNER, explicit)}
    assert before == after
    assert "still traced after the first trace ended" in second_trace[0]
    assert not OUTER.filters
    assert not INNER.filters
    INNER.debug("after every trace")
    assert "after every trace" not in host_handler.messages


def test_a_trace_holds_its_own_debug_records_but_they_do_not_reach_the_hosts_handlers(
    host_handler: Collected,
) -> None:
    with trace_run() as trace:
        INNER.debug("a decision")
        INNER.warning("a warning")

    assert trace is not None
    assert "DEBUG calsync.tracetest.inner: a decision" in trace.text
    assert "WARNING calsync.tracetest.inner: a warning" in trace.text
    assert host_handler.messages == ["a warning"]


def test_a_host_that_asks_for_debug_records_still_gets_them_during_a_trace(
    host_handler: Collected,
) -> None:
    logging.getLogger("calsync").setLevel(logging.DEBUG)
    done = threading.Event()

    def other_user() -> None:
        INNER.debug("other decision")
        done.set()

    with trace_run():
        in_thread(other_user).join(5)

    assert done.is_set()
    assert host_handler.messages == ["other decision"]


def test_a_disabled_trace_yields_nothing_and_installs_nothing() -> None:
    with trace_run(enabled=False) as trace:
        assert trace is None
        assert not INNER.filters


class Traces(Notifier):
    """The notifier: keeps every trace it is given, by profile."""

    def __init__(self) -> None:
        self.traces: dict[str, str] = {}

    def notify(self, profile: SyncProfile, report: SyncReport, trace: str, *more: Any) -> None:
        self.traces[profile.id] = trace


def test_the_processor_traces_only_the_verbose_users_run_while_the_others_log_as_configured(
    host_handler: Collected,
) -> None:
    clock = Clock(NOW)
    users = ["ann", "ben", "cara", "dan"]
    schedule = MemoryScheduleSource(now=clock)
    calendars = {u: MemoryCalendarBackend(now=clock, calendars=[CAL]) for u in users}
    for user in users:
        schedule.add(user, session(f"{user}-shoot"))
    verbose = SyncOptions(notifications=Notifications(verbose=True))
    profiles = MemoryProfileStore(
        SyncProfile(f"studio.{u}", u, CAL, verbose if u == "ann" else SyncOptions()) for u in users
    )
    notifier = Traces()
    processor = SyncProcessor(
        SyncEngine(MemoryStateStore(), schedule, clock=clock),
        profiles,
        lambda p: Connection(calendars[p.user_id]),
        notifier=notifier,
        clock=clock,
        workers=4,
    )
    runs = processor.run_once()

    assert {True} == {run.report is not None and run.report.ok for run in runs.values()}
    trace = notifier.traces["studio.ann"]
    assert "DEBUG" in trace
    assert "ann-shoot" in trace
    assert [u for u in users[1:] if f"{u}-shoot" in trace] == []
    assert host_handler.records
    assert min(record.levelno for record in host_handler.records) >= logging.INFO
    assert logging.getLogger("calsync").level == logging.INFO

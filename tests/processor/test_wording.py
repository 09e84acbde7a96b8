"""The host's names for its screens: calsync's defaults in one place, the host's own wording in
every message that names a screen, and a status for each way a user must act."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from studio_world import CAL, NOW, Clock, session

from calsync import (
    AuthError,
    MemoryStateStore,
    NotConnected,
    Notifications,
    ProfileStatus,
    SyncEngine,
    SyncOptions,
    SyncProfile,
    SyncReport,
    Wording,
)
from calsync.engine.sync import CALENDAR_GONE, REAUTHORISE
from calsync.notices import Notice
from calsync.notify import compose_message
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryProfileStore, MemoryScheduleSource
from calsync.wording import DEFAULT_WORDING

SRC = Path(__file__).resolve().parents[2] / "src" / "calsync"
MY_ACCOUNT = Wording(preferences="My Account > Google", sync_settings="the Sync page")


def run_with(refusal: Exception | None, wording: Wording = MY_ACCOUNT) -> tuple[SyncReport, str]:
    clock = Clock(NOW)
    schedule = MemoryScheduleSource(now=clock)
    schedule.add("ann", session("s1"))
    calendar = MemoryCalendarBackend(now=clock, calendars=[CAL])
    options = SyncOptions(wording=wording)
    profiles = MemoryProfileStore([SyncProfile("studio.ann", "ann", CAL, options)])

    def connect(profile: SyncProfile) -> Connection:
        if refusal is not None:
            raise refusal
        calendar.delete_calendar(CAL)
        return Connection(calendar)

    engine = SyncEngine(MemoryStateStore(), schedule, clock=clock)
    processor = SyncProcessor(engine, profiles, connect, clock=clock)
    run = processor.run_profile(profiles.get("studio.ann"))
    assert run.report is not None
    return run.report, profiles.get("studio.ann").status.value


def test_the_engines_messages_are_calsyncs_default_wording() -> None:
    # the engine still spells them out; they must say what the default wording says
    assert DEFAULT_WORDING.reauthorise == REAUTHORISE
    assert DEFAULT_WORDING.calendar_gone == CALENDAR_GONE


def test_screen_names_live_only_in_the_wording_module() -> None:
    naming = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "Preferences" in path.read_text(encoding="utf-8")
    }
    # engine/sync.py keeps its two constants until it reads them from calsync.wording
    assert naming <= {"wording.py", "engine/sync.py"}


@pytest.mark.parametrize(
    ("refusal", "status", "message"),
    [
        (NotConnected("no token"), "not_connected", MY_ACCOUNT.not_connected),
        (AuthError("invalid_grant"), "needs_reauth", MY_ACCOUNT.reauthorise),
        (None, "calendar_gone", MY_ACCOUNT.calendar_gone),
    ],
)
def test_each_report_that_asks_the_user_to_act_names_the_hosts_screen(
    refusal: Exception | None, status: str, message: str
) -> None:
    report, given = run_with(refusal)

    assert (given, report.fatal) == (status, message)
    assert "My Account > Google" in message
    assert report.needs_reauth is (status == "needs_reauth")


def test_the_email_advice_names_the_hosts_screens() -> None:
    options = SyncOptions(notifications=Notifications(warnings_and_errors=True), wording=MY_ACCOUNT)
    profile = SyncProfile("studio.ann", "ann", CAL, options, email="ann@studio.example")
    report = SyncReport("studio.ann", NOW, fatal=MY_ACCOUNT.not_connected)

    message = compose_message(
        attrs.evolve(profile, status=ProfileStatus.NOT_CONNECTED), report, "", "x@y", Notice.PROBLEM
    )

    assert message is not None
    assert "Connect your Google account in My Account > Google" in message.get_content()
    assert "User Preferences" not in message.get_content()


def test_connecting_google_sets_a_waiting_status_back_to_ok_and_nothing_else() -> None:
    profiles = MemoryProfileStore(
        SyncProfile(f"p.{status.value}", "u", CAL, status=status) for status in ProfileStatus
    )

    for status in ProfileStatus:
        profiles.account_connected(f"p.{status.value}")

    after = {p.id: p.status for p in profiles.profiles()}
    assert after == {
        "p.ok": ProfileStatus.OK,
        "p.needs_reauth": ProfileStatus.OK,
        "p.not_connected": ProfileStatus.OK,
        "p.calendar_gone": ProfileStatus.CALENDAR_GONE,  # waits for a calendar instead
    }
    with pytest.raises(KeyError):
        profiles.account_connected("p.nobody")

"""Operator and user flows through the ``calsync`` command (a subprocess), on the demo studio
against the Google emulator: connecting and re-connecting Google, "sync now", the status of a
user who never connected, and when problem emails go out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from mailbox import Inbox
from pathlib import Path

import pytest
from operator_world import Demo, consent, mail_server
from studio.db import Studio

from calsync import SqliteStateStore
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def demo(tmp_path: Path, google: GoogleEmulator) -> Demo:
    google.reset()
    google.clear_faults()
    return Demo(tmp_path, google)


@pytest.fixture
def inbox(demo: Demo) -> Iterator[Inbox]:
    with mail_server() as (inbox, port):
        demo.send_mail_to(port)
        yield inbox


def statuses(demo: Demo) -> dict[str, str]:
    """Each profile's status, as the studio's preferences screen shows it."""
    with Studio(demo.directory / "studio.sqlite3") as studio:
        return {f"lumen.{user.id}": prefs.status for user, prefs in studio.all_google_prefs()}


# -- 1. connecting Google again brings the user back ------------------------------------------


def test_authorize_brings_a_user_who_must_reauthorise_back_into_the_next_round(
    demo: Demo,
) -> None:
    ann = demo.profile_ids["ann"]
    with Studio(demo.directory / "studio.sqlite3") as studio:
        studio.set_sync_status(
            demo.user_ids["ann"], "needs_reauth", "Google refused the saved authorisation"
        )

    authorised = consent(demo.start("authorize", ann, "--no-browser"))
    round_ = demo.calsync("run", "--once")

    assert f"{ann}: Google connected" in authorised
    assert f"Profile {ann}:\n  Google: 9 created" in round_.stdout
    assert statuses(demo)[ann] == "ok"
    assert demo.events(ann) == 6


# -- 2. sync now ------------------------------------------------------------------------------


def test_a_failed_run_is_not_recent_and_sync_now_runs_right_after_a_run(demo: Demo) -> None:
    ann = demo.profile_ids["ann"]
    demo.connect(ann)
    demo.google.inject_fault(400, api_method="calendar.events.list", count=None)
    failed = demo.calsync("run", "--once")
    assert failed.returncode == 1
    assert "calendar sync failed" in failed.stdout
    demo.google.clear_faults()

    retried = demo.calsync("run", "--once")
    now = demo.calsync("sync", ann)  # "sync now", a moment after that run

    assert retried.returncode == 0, retried.stdout
    assert "synced moments ago" not in retried.stdout
    assert demo.events(ann) == 6
    assert now.returncode == 0, now.stdout
    assert "skipped" not in now.stdout
    assert "Google: 0 created" in now.stdout


def test_sync_now_waits_for_a_run_in_progress_and_then_runs(demo: Demo) -> None:
    ann = demo.profile_ids["ann"]
    demo.connect(ann)
    with SqliteStateStore(demo.directory / "calsync.sqlite3") as store:
        lease = store.acquire_lease(ann, "other-runner", timedelta(minutes=5), datetime.now(UTC))
        assert lease is not None
        waiting = demo.start("sync", ann, "--wait", "60")
        time.sleep(4)  # long enough to start and find the lease taken
        still_waiting, synced_meanwhile = waiting.poll() is None, demo.events(ann)
        store.release_lease(ann, "other-runner")
    out, _ = waiting.communicate(timeout=60)

    assert (still_waiting, synced_meanwhile) == (True, 0)
    assert waiting.returncode == 0, out
    assert "Google: 9 created" in out
    assert demo.events(ann) == 6


# -- 3. a user who never connected ------------------------------------------------------------


def test_a_user_who_never_connected_is_told_to_connect_once_and_named_in_the_log(
    demo: Demo, inbox: Inbox
) -> None:
    ann, ben, cara = (demo.profile_ids[name] for name in ("ann", "ben", "cara"))
    demo.connect(ann)

    round_ = demo.calsync("run", "--once")
    by_hand = demo.calsync("sync", ben)  # the operator tries Ben by hand

    assert round_.returncode == 0, round_.stdout  # waiting for a user is no failure
    assert by_hand.returncode == 0, by_hand.stdout
    assert (
        f"Profile {ben}: not connected, no Google account is connected: connect your Google "
        "account in User Preferences"
    ) in round_.stdout
    assert f"profile {ben} (Ben Brooks) has sync on but no Google account" in round_.stderr
    assert "@lumen-studio.example" not in round_.stderr
    assert statuses(demo) == {ann: "ok", ben: "not_connected", cara: "not_connected"}
    (message,) = inbox.to(demo.accounts[ben])
    assert message["Subject"] == "Google Sync problems: please connect your Google account"
    assert "Connect your Google account in User Preferences" in Inbox.body(message)
    assert "re-authenticate" not in Inbox.body(message).lower()


# -- 4. problem emails: new, reminder, resolved -----------------------------------------------


def delete_everything_of(demo: Demo, user: int) -> None:
    first, last = date.today() - timedelta(days=30), date.today() + timedelta(days=400)
    with Studio(demo.directory / "studio.sqlite3") as studio:
        for session in studio.sessions_between(user, first, last):
            studio.cancel_session(session.id)
        for appointment in studio.appointments_between(user, first, last):
            studio.delete_appointment(appointment.id)


def test_a_lasting_problem_is_mailed_once_and_its_end_once(demo: Demo, inbox: Inbox) -> None:
    ann = demo.profile_ids["ann"]
    demo.connect(ann)
    assert demo.calsync("sync", ann).returncode == 0
    delete_everything_of(demo, demo.user_ids["ann"])  # a mass deletion: held until confirmed

    held = [demo.calsync("sync", ann) for _ in range(2)]  # two runs, two processes
    status = demo.calsync("status").stdout.splitlines()
    (open_problem,) = (row for row in status if row.startswith(f"profile: {ann} "))
    confirmed = demo.calsync("sync", ann, "--confirm-deletions")

    assert all("held deletions: 6" in run.stdout for run in held)
    assert confirmed.returncode == 0, confirmed.stdout
    assert "problem mailed: 20" in open_problem  # the operator sees the user was told
    problem, resolved = inbox.to(demo.accounts[ann])
    assert problem["Subject"].startswith("Google Sync problems: 6 held deletions")
    assert resolved["Subject"] == "Google Sync is working again"
    assert demo.events(ann) == 0


def test_verbose_troubleshooting_still_mails_every_runs_trace(demo: Demo, inbox: Inbox) -> None:
    ben, ben_user = demo.profile_ids["ben"], demo.user_ids["ben"]
    demo.connect(ben)
    with Studio(demo.directory / "studio.sqlite3") as studio:
        prefs = studio.google_prefs(ben_user)
        verbose = type(prefs)(**{**vars(prefs), "verbose_troubleshooting": True})
        studio.set_google_prefs(ben_user, verbose)

    for _ in range(2):
        assert demo.calsync("sync", ben).returncode == 0

    mails = inbox.to(demo.accounts[ben])
    assert [m["Subject"] for m in mails] == ["Google Sync report", "Google Sync report"]
    assert all("Full trace of the run:" in Inbox.body(m) for m in mails)

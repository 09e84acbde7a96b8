"""Push notifications end to end, over real sockets: the emulator POSTs to calsync.web on
uvicorn, the receiver wakes the SyncProcessor, which syncs through the real
google-api-python-client. Polling is set ten minutes (and the safety net an hour) away, so a
change that arrives in seconds arrived by push."""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from push_world import PushStudio, wait_until

from calsync import SqliteStateStore
from calsync.profile import ProfileStatus
from calsync.push import token_hash
from calsync.push.channels import stopping
from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator


def post(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_change_made_in_google_reaches_the_host_in_seconds_without_a_poll(
    google: GoogleEmulator, kind: str, tmp_path: Path
) -> None:
    store = SqliteStateStore(tmp_path / "state.db") if kind == "sqlite" else None
    studio = PushStudio(google, store=store)
    with studio.running():
        wait_until(studio.healthy)
        runs_before = len(studio.runs)

        studio.edit_in_google("Lunch with Ann")
        took = wait_until(lambda: "Lunch with Ann" in studio.host_titles(), timeout=5)

    assert took < 3
    assert len(studio.runs) == runs_before + 1  # one sync, requested by the notification
    [channel] = google.push.channels()
    assert channel["calendarId"] == studio.profile().calendar_id


def test_a_burst_of_edits_gives_one_sync(google: GoogleEmulator) -> None:
    studio = PushStudio(google, debounce=2.0)  # ten API calls take well under 2 s, even loaded
    with studio.running():
        wait_until(studio.healthy)
        runs_before = len(studio.runs)

        start = time.monotonic()
        for n in range(10):
            studio.edit_in_google(f"Edit {n}")
        editing = time.monotonic() - start
        wait_until(lambda: len(studio.host_titles()) == 10, timeout=8)
        time.sleep(0.3)

    assert editing < 2.0
    assert len(studio.runs) == runs_before + 1


def test_a_forged_notification_is_refused_and_changes_nothing(google: GoogleEmulator) -> None:
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)
        [channel] = studio.store.push_channels()
        runs_before, stored_before = len(studio.runs), studio.store.push_channels()
        url = f"{studio.base_url}/google/notifications"
        forged = {
            "X-Goog-Channel-ID": channel.channel_id,
            "X-Goog-Channel-Token": "guessed",
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": "7",
        }

        wrong_token = post(url, forged)
        unknown = post(url, {**forged, "X-Goog-Channel-ID": "calsync-not-ours"})
        no_token = post(url, {k: v for k, v in forged.items() if k != "X-Goog-Channel-Token"})
        time.sleep(0.3)  # longer than the debounce: a sync would have started

    assert (wrong_token, unknown, no_token) == (403, 404, 403)
    assert len(studio.runs) == runs_before
    assert studio.store.push_channels() == stored_before


def test_an_expiring_channel_is_renewed_and_no_change_is_missed(google: GoogleEmulator) -> None:
    studio = PushStudio(google, ttl=timedelta(seconds=3), renew_before=timedelta(seconds=1.5))
    with studio.running():
        wait_until(studio.healthy)
        titles = [f"Edit {n}" for n in range(8)]
        for title in titles:  # edits over two channel lifetimes
            studio.edit_in_google(title)
            time.sleep(0.4)
        wait_until(lambda: set(titles) <= studio.host_titles(), timeout=3)
        live = google.push.channels()

    delivered = {d.channel_id for d in google.push.deliveries() if d.outcome == "delivered"}
    assert len(delivered) >= 2  # the edits came through successive channels
    assert len(live) <= 2  # each old channel was stopped once its successor was open
    assert not [d for d in google.push.deliveries() if d.outcome != "delivered"]


def test_a_channel_opened_by_a_process_that_died_in_the_watch_is_taken_up_not_leaked(
    google: GoogleEmulator,
) -> None:
    """A renewal's process dies between Google's answer to the watch and recording it: the
    row holds no resource id, yet Google posts to the channel. Its first message fills the
    row in; the next upkeep keeps the newest channel and stops the other at Google."""
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)
        [old] = studio.store.push_channels()
        profile = studio.profile()
        token = secrets.token_urlsafe(32)
        pending = attrs.evolve(old, channel_id="calsync-after-crash", resource_id="",
                               token_hash=token_hash(token), confirmed_at=None,
                               created_at=datetime.now(UTC))  # fmt: skip
        studio.store.put_push_channel(pending)  # as _open writes it, before the request
        calendar = studio.account("u0").calendar
        calendar.watch_events(profile.calendar_id, pending.channel_id, studio.push.address,
                              token, timedelta(minutes=10))  # fmt: skip
        # ... and the process dies here: Google's answer is never recorded

        def learnt() -> bool:
            row = studio.store.get_push_channel(pending.channel_id)
            return row is not None and bool(row.resource_id) and row.confirmed_at is not None

        wait_until(learnt)
        studio.push.maintain(profile, calendar)

        assert [c.channel_id for c in studio.store.push_channels()] == [pending.channel_id]
        assert [c["id"] for c in google.push.channels()] == [pending.channel_id]
        studio.edit_in_google("After the crash")
        wait_until(lambda: "After the crash" in studio.host_titles(), timeout=5)


def test_switching_calendar_stops_the_old_channel(google: GoogleEmulator) -> None:
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)
        old_calendar = studio.profile().calendar_id
        [old] = google.push.channels()

        new_calendar = studio.switch_calendar()
        wait_until(lambda: [c["calendarId"] for c in google.push.channels()] == [new_calendar])
        wait_until(studio.healthy)
        studio.edit_in_google("In the old calendar", calendar_id=old_calendar)
        studio.edit_in_google("In the new calendar")
        wait_until(lambda: "In the new calendar" in studio.host_titles(), timeout=5)

    assert not [d for d in google.push.deliveries() if d.channel_id == old["id"] and d.number > 1]
    assert "In the old calendar" not in studio.host_titles()
    assert [c.calendar_id for c in studio.store.push_channels()] == [new_calendar]


def test_a_dropped_delivery_is_caught_by_the_fallback_poll(google: GoogleEmulator) -> None:
    studio = PushStudio(google, interval=1.0, safety_interval=2.0)
    with studio.running():
        wait_until(studio.healthy)
        google.push.fail_deliveries(1, drop=True)

        studio.edit_in_google("Never notified")
        took = wait_until(lambda: "Never notified" in studio.host_titles(), timeout=5)

    assert took < 4
    assert [d.outcome for d in google.push.deliveries() if d.state == "exists"] == ["dropped"]


def test_sync_off_stops_the_channel(google: GoogleEmulator) -> None:
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)

        studio.turn_sync_off()
        wait_until(lambda: google.push.channels() == [], timeout=3)

    assert studio.store.push_channels() == []


def test_a_user_removed_from_the_host_has_the_channel_stopped(google: GoogleEmulator) -> None:
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)

        studio.remove_user()
        wait_until(lambda: google.push.channels() == [], timeout=3)

    assert studio.store.push_channels() == []


def test_a_deleted_calendar_is_noticed_at_once_and_its_channel_forgotten(
    google: GoogleEmulator,
) -> None:
    studio = PushStudio(google)
    with studio.running():
        wait_until(studio.healthy)

        google.delete_calendar(studio.tokens["u0"], str(studio.profile().calendar_id))
        wait_until(lambda: studio.profile().status is ProfileStatus.CALENDAR_GONE, timeout=5)

    assert studio.store.push_channels() == []


@pytest.mark.parametrize("change", ["turn_sync_off", "switch_calendar"])
def test_a_channel_whose_stop_failed_is_refused_and_stopped_once_google_answers(
    google: GoogleEmulator, change: str
) -> None:
    # retry_after 1 s; a run for upkeep skips a profile synced within half the interval
    studio = PushStudio(google, interval=2.0)
    with studio.running():
        wait_until(studio.healthy)
        old_calendar = studio.profile().calendar_id
        [old] = google.push.channels()
        google.inject_fault(503, api_method="calendar.channels.stop", count=None)

        getattr(studio, change)()
        wait_until(lambda: [c for c in studio.store.push_channels() if stopping(c)])
        assert [c.channel_id for c in studio.store.push_channels() if stopping(c)] == [old["id"]]
        studio.edit_in_google("While the stop fails", calendar_id=old_calendar)
        wait_until(lambda: [d for d in google.push.deliveries() if d.state == "exists"])
        google.clear_faults()
        wait_until(lambda: old["id"] not in [c["id"] for c in google.push.channels()])
        wait_until(lambda: old["id"] not in [c.channel_id for c in studio.store.push_channels()])

    assert [d.outcome for d in google.push.deliveries() if d.state == "exists"] == ["refused"]
    assert "While the stop fails" not in studio.host_titles()

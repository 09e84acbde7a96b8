"""The Google backend's push methods, through the real client against the emulator."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from calsync.errors import CalendarGone, InvalidRequest
from calsync.google.calendar import GoogleCalendarBackend
from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator

#: Nothing listens there: the emulator's deliveries are refused at once, nothing leaves the host.
ADDRESS = "http://127.0.0.1:9/google/notifications"


def test_watch_opens_a_channel_with_google_s_resource_id_and_expiry(
    google: GoogleEmulator, calendar_backend: GoogleCalendarBackend
) -> None:
    calendar = calendar_backend.create_calendar("Studio")

    channel = calendar_backend.watch_events(
        calendar.id, "calsync-1", ADDRESS, "s3cret", timedelta(hours=2)
    )

    [listed] = google.push.channels()
    assert (channel.channel_id, channel.resource_id) == ("calsync-1", listed["resourceId"])
    expected = datetime.now(UTC) + timedelta(hours=2)
    assert abs((channel.expires_at - expected).total_seconds()) < 5
    assert (listed["calendarId"], listed["address"]) == (calendar.id, ADDRESS)


def test_stop_ends_the_channel_and_stopping_it_again_succeeds(
    google: GoogleEmulator, calendar_backend: GoogleCalendarBackend
) -> None:
    calendar = calendar_backend.create_calendar("Studio")
    channel = calendar_backend.watch_events(calendar.id, "c1", ADDRESS, "t", timedelta(hours=1))

    calendar_backend.stop_channel(channel.channel_id, channel.resource_id)
    calendar_backend.stop_channel(channel.channel_id, channel.resource_id)

    assert google.push.channels() == []


def test_watching_a_deleted_calendar_is_calendar_gone_and_a_bad_address_is_refused(
    google: GoogleEmulator, calendar_backend: GoogleCalendarBackend, token: str
) -> None:
    calendar = calendar_backend.create_calendar("Studio")
    kept = calendar_backend.create_calendar("Kept")
    google.delete_calendar(token, calendar.id)

    with pytest.raises(CalendarGone):
        calendar_backend.watch_events(calendar.id, "c1", ADDRESS, "t", timedelta(hours=1))
    with pytest.raises(InvalidRequest):
        calendar_backend.watch_events(
            kept.id, "c2", "http://studio.example/hook", "t", timedelta(hours=1)
        )
    time.sleep(0.05)
    assert google.push.channels() == []

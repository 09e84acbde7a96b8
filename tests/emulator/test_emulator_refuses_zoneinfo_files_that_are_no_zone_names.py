"""The system's zoneinfo tree holds files that open as zones but are no names of the tz
database (``posix/…`` and ``right/…`` copies of every zone, ``posixrules``, ``localtime``):
Google answers them as an invalid time zone (400), and so does the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import reasons, timed_event

pytestmark = pytest.mark.emulator

NO_ZONE_NAMES = ["posix/Europe/London", "right/UTC", "posixrules", "localtime"]


@pytest.mark.parametrize("name", NO_ZONE_NAMES)
def test_an_event_in_a_zoneinfo_file_that_is_no_zone_is_refused(
    calendar: Any, calendar_id: str, name: str
) -> None:
    body = timed_event()
    body["start"]["timeZone"] = body["end"]["timeZone"] = name

    with pytest.raises(HttpError) as caught:
        calendar.events().insert(calendarId=calendar_id, body=body).execute()

    assert (caught.value.status_code, reasons(caught.value)) == (400, {"invalid"})


@pytest.mark.parametrize("name", NO_ZONE_NAMES)
def test_a_listing_rendered_in_a_zoneinfo_file_that_is_no_zone_is_refused(
    calendar: Any, calendar_id: str, name: str
) -> None:
    with pytest.raises(HttpError) as caught:
        calendar.events().list(calendarId=calendar_id, timeZone=name).execute()

    assert caught.value.status_code == 400


def test_the_zone_itself_is_still_known(calendar: Any, calendar_id: str) -> None:
    body = timed_event()
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/London"

    made = calendar.events().insert(calendarId=calendar_id, body=body).execute()

    assert made["start"]["timeZone"] == "Europe/London"

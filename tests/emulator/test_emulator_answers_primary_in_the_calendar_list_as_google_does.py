"""``calendarList.get`` with ``calendarId="primary"`` answers the primary calendar's list entry,
under its own id (its owner's address) and marked ``primary``, to a token granted only
``calendar.calendarlist.readonly``; ``calendars.get`` of the same calendar needs a scope
calsync never asks for (Google's discovery document), and ``calendar.app.created`` covers
neither for the primary. calsync resolves ``primary`` that way
(:meth:`~calsync.google.calendar.GoogleCalendarBackend.calendar_identity`)."""

from __future__ import annotations

from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.auth import CALENDAR_APP_CREATED, CALENDAR_LIST_READONLY
from calsync.google.services import build_calendar_service
from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator

ANN = "ann@studio.test"


def calendar_service(emulator: GoogleEmulator, scopes: str) -> Any:
    access, _ = emulator.issue_tokens(ANN, scopes)
    return build_calendar_service(Credentials(token=access), base_url=emulator.base_url)


def test_the_list_entry_of_primary_is_the_primary_calendar_under_its_own_id(
    emulator: GoogleEmulator,
) -> None:
    calendar = calendar_service(emulator, CALENDAR_LIST_READONLY)

    entry = calendar.calendarList().get(calendarId="primary").execute()

    assert (entry["kind"], entry["id"], entry["primary"]) == (
        "calendar#calendarListEntry",
        ANN,
        True,
    )
    assert emulator.stats()["scope_rejections"] == 0


def test_the_calendar_list_scope_does_not_read_the_calendar_itself(
    emulator: GoogleEmulator,
) -> None:
    calendar = calendar_service(emulator, CALENDAR_LIST_READONLY)

    with pytest.raises(HttpError) as refused:
        calendar.calendars().get(calendarId="primary").execute()

    assert refused.value.resp.status == 403


def test_the_scope_of_the_apps_own_calendars_does_not_read_the_primarys_entry(
    emulator: GoogleEmulator,
) -> None:
    calendar = calendar_service(emulator, CALENDAR_APP_CREATED)

    with pytest.raises(HttpError) as refused:
        calendar.calendarList().get(calendarId="primary").execute()

    assert refused.value.resp.status == 403

"""People: "Sync tokens expire 7 days after the full sync" (connections.list). A token an
incremental listing gives keeps the full sync's clock; it does not restart it. Contact
groups' and Calendar's tokens keep their own rules."""

from __future__ import annotations

from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, build_people_service
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import error_body

pytestmark = pytest.mark.emulator

DAY = 24 * 3600.0
TOKEN = "tokenclock"


@pytest.fixture
def people(emulator: GoogleEmulator) -> Any:
    return build_people_service(Credentials(token=TOKEN), base_url=emulator.base_url)


def list_contacts(people: Any, **params: Any) -> dict[str, Any]:
    api = people.people().connections()
    request = api.list(
        resourceName="people/me", personFields="names,metadata", requestSyncToken=True, **params
    )
    return dict(request.execute())


def expired(call: Any) -> bool:
    with pytest.raises(HttpError) as caught:
        call()
    body = error_body(caught.value)
    assert caught.value.resp.status == 400
    return bool(body["details"][0]["reason"] == "EXPIRED_SYNC_TOKEN")


def test_an_incremental_token_expires_seven_days_after_the_full_sync(
    emulator: GoogleEmulator, people: Any
) -> None:
    people.people().createContact(body={"names": [{"givenName": "Ann"}]}).execute()
    full = list_contacts(people)["nextSyncToken"]
    emulator.advance_clock(6 * DAY)
    incremental = list_contacts(people, syncToken=full)["nextSyncToken"]
    emulator.advance_clock(2 * DAY)  # 8 days after the full sync, 2 after the incremental

    assert expired(lambda: list_contacts(people, syncToken=incremental))
    assert expired(lambda: list_contacts(people, syncToken=full))
    fresh = list_contacts(people)  # a full sync starts the clock again
    assert [p["names"][0]["givenName"] for p in fresh["connections"]] == ["Ann"]
    emulator.advance_clock(6 * DAY)
    assert "nextSyncToken" in list_contacts(people, syncToken=fresh["nextSyncToken"])


def test_a_token_within_seven_days_of_its_full_sync_is_accepted(
    emulator: GoogleEmulator, people: Any
) -> None:
    full = list_contacts(people)["nextSyncToken"]
    token = full
    for _ in range(6):
        emulator.advance_clock(DAY)
        token = list_contacts(people, syncToken=token)["nextSyncToken"]
    emulator.advance_clock(DAY - 60)

    assert "nextSyncToken" in list_contacts(people, syncToken=token)


def test_contact_group_tokens_still_expire_seven_days_after_they_were_issued(
    emulator: GoogleEmulator, people: Any
) -> None:
    groups = people.contactGroups()
    first = groups.list().execute()["nextSyncToken"]
    emulator.advance_clock(6 * DAY)
    second = groups.list(syncToken=first).execute()["nextSyncToken"]
    emulator.advance_clock(2 * DAY)

    assert "nextSyncToken" in groups.list(syncToken=second).execute()
    assert expired(lambda: groups.list(syncToken=first).execute())


def test_calendar_tokens_do_not_age_with_the_clock(emulator: GoogleEmulator) -> None:
    calendar = build_calendar_service(Credentials(token=TOKEN), base_url=emulator.base_url)
    token = calendar.events().list(calendarId="primary").execute()["nextSyncToken"]
    emulator.advance_clock(30 * DAY)

    assert (
        "nextSyncToken" in calendar.events().list(calendarId="primary", syncToken=token).execute()
    )


def test_the_clock_only_moves_forward_and_a_reset_puts_it_back(emulator: GoogleEmulator) -> None:
    with pytest.raises(ValueError, match="forward"):
        emulator.advance_clock(-1)
    emulator.advance_clock(8 * DAY)
    emulator.reset()

    assert emulator.state.clock_offset == 0.0

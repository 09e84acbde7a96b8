"""``refused_zones``: Google's time-zone database lags the IANA one. In August 2022, after tz
2022b renamed Kiev to Kyiv, Google answered ``events.insert``/``update``/``patch`` carrying
``Europe/Kyiv`` with 400 ``invalid`` "Invalid time zone definition for start time." (and an
entry for the end time), still naming the zone ``Europe/Kiev`` (OutlookGoogleCalendarSync
issues #1525, #1528, #1530). ``GoogleEmulator(refused_zones={"Europe/Kyiv"})`` answers so;
``set_refused_zones``, ``POST /emulator/v1/refused-zones`` and ``--refuse-zone`` set it too.
Off by default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_admin import admin
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, new_batch_request
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import error_body, timed_event

pytestmark = pytest.mark.emulator

KYIV, KIEV = "Europe/Kyiv", "Europe/Kiev"

START_REFUSED = {
    "domain": "global",
    "reason": "invalid",
    "message": "Invalid time zone definition for start time.",
}
END_REFUSED = {
    "domain": "global",
    "reason": "invalid",
    "message": "Invalid time zone definition for end time.",
}
#: Google's answer, as OutlookGoogleCalendarSync's users met it.
REFUSED = {
    "code": 400,
    "message": "Invalid time zone definition for start time.",
    "errors": [START_REFUSED, END_REFUSED],
}


@pytest.fixture(scope="module")
def refusing() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(refused_zones={KYIV}) as google:
        yield google


def service(google: GoogleEmulator, token: str = "olena") -> Any:
    return build_calendar_service(Credentials(token=token), base_url=google.base_url)


def zoned(zone: str, **extra: Any) -> dict[str, Any]:
    body = timed_event("2031-03-05T10:00:00+02:00", "2031-03-05T11:00:00+02:00", **extra)
    body["start"]["timeZone"] = body["end"]["timeZone"] = zone
    return body


def refusal(call: Any) -> dict[str, Any]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    assert caught.value.status_code == 400
    return error_body(caught.value)


def test_an_insert_in_a_refused_zone_answers_googles_400(refusing: GoogleEmulator) -> None:
    events = service(refusing).events()

    assert refusal(events.insert(calendarId="primary", body=zoned(KYIV))) == REFUSED
    assert refusing.account("olena").calendar("primary").live_events() == []


def test_the_zones_other_name_is_taken_and_rendered_back_as_sent(
    refusing: GoogleEmulator,
) -> None:
    made = service(refusing).events().insert(calendarId="primary", body=zoned(KIEV)).execute()

    assert (made["start"]["timeZone"], made["end"]["timeZone"]) == (KIEV, KIEV)


def test_updates_and_patches_into_a_refused_zone_are_refused(refusing: GoogleEmulator) -> None:
    events = service(refusing).events()
    made = events.insert(calendarId="primary", body=zoned(KIEV)).execute()
    ids = {"calendarId": "primary", "eventId": made["id"]}

    assert refusal(events.update(**ids, body=zoned(KYIV))) == REFUSED
    assert refusal(events.patch(**ids, body=zoned(KYIV))) == REFUSED
    end_only = {"end": {"dateTime": "2031-03-05T12:00:00+02:00", "timeZone": KYIV}}
    assert refusal(events.patch(**ids, body=end_only)) == {
        "code": 400,
        "message": "Invalid time zone definition for end time.",
        "errors": [END_REFUSED],
    }
    patched = events.patch(**ids, body={"summary": "Kept"}).execute()
    assert (patched["summary"], patched["start"]["timeZone"]) == ("Kept", KIEV)


def test_a_recurring_event_and_an_import_in_a_refused_zone_are_refused(
    refusing: GoogleEmulator,
) -> None:
    events = service(refusing).events()
    weekly = zoned(KYIV, recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])

    assert refusal(events.insert(calendarId="primary", body=weekly)) == REFUSED
    imported = zoned(KYIV, iCalUID="kyiv-1@example.com")
    assert refusal(events.import_(calendarId="primary", body=imported)) == REFUSED


def test_an_instance_moved_into_a_refused_zone_is_refused(refusing: GoogleEmulator) -> None:
    events = service(refusing).events()
    weekly = zoned(KIEV, recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    series = events.insert(calendarId="primary", body=weekly).execute()
    [first, *_] = events.instances(calendarId="primary", eventId=series["id"]).execute()["items"]

    call = events.patch(calendarId="primary", eventId=first["id"], body=zoned(KYIV))
    assert refusal(call) == REFUSED


def test_a_batch_part_in_a_refused_zone_gets_the_400_the_others_are_made(
    refusing: GoogleEmulator,
) -> None:
    calendar = service(refusing)
    answers: dict[str, Any] = {}
    batch = new_batch_request(
        calendar, callback=lambda rid, response, exc: answers.update({rid: exc or response})
    )
    for index, zone in enumerate((KIEV, KYIV, "Europe/London")):
        batch.add(
            calendar.events().insert(calendarId="primary", body=zoned(zone)), request_id=str(index)
        )
    batch.execute()

    assert isinstance(answers["1"], HttpError)
    assert error_body(answers["1"]) == REFUSED
    assert [answers[i]["start"]["timeZone"] for i in ("0", "2")] == [KIEV, "Europe/London"]


def test_zones_are_taken_by_default_and_refused_as_set_in_python_or_over_http(
    emulator: GoogleEmulator,
) -> None:
    events = service(emulator).events()
    made = events.insert(calendarId="primary", body=zoned(KYIV)).execute()
    assert made["start"]["timeZone"] == KYIV

    emulator.set_refused_zones({KYIV, KIEV})
    assert refusal(events.insert(calendarId="primary", body=zoned(KIEV))) == REFUSED

    status, answer = admin(emulator.base_url, "POST", "refused-zones", {"zones": [KIEV]})
    assert (status, answer) == (200, {"zones": [KIEV]})
    assert admin(emulator.base_url, "GET", "refused-zones") == (200, {"zones": [KIEV]})
    assert events.insert(calendarId="primary", body=zoned(KYIV)).execute()
    assert admin(emulator.base_url, "POST", "refused-zones", {"zones": KIEV})[0] == 400

    emulator.reset()
    assert admin(emulator.base_url, "GET", "refused-zones") == (200, {"zones": []})
    assert events.insert(calendarId="primary", body=zoned(KIEV)).execute()


def test_reset_keeps_the_zones_the_emulator_was_made_to_refuse(refusing: GoogleEmulator) -> None:
    refusing.set_refused_zones(())
    refusing.reset()

    events = service(refusing).events()
    assert refusal(events.insert(calendarId="primary", body=zoned(KYIV))) == REFUSED


def test_the_standalone_emulator_takes_the_option() -> None:
    from calsync.testing.emulator.__main__ import _parser

    args = _parser().parse_args(["--refuse-zone", KYIV, "--refuse-zone", KIEV])

    assert args.refused_zones == [KYIV, KIEV]
    assert _parser().parse_args([]).refused_zones == []

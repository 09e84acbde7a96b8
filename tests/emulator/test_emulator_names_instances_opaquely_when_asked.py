"""Instances of recurring events in both id styles: ``dated`` (``<series>_<start>``, Google's
until Q3 2026) and ``opaque`` (``GoogleEmulator(instance_ids="opaque")``, as Google's since:
base32hex without ``_``, derivable neither from the series nor from the start, stable for one
occurrence). Everything a client does with an instance works the same in both; only the ids
differ."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from calsync.testing.emulator import GoogleEmulator
from calsync.testing.emulator.recurrence import InstanceIds
from calsync.testing.emulator.times import When, parse_datetime

from .emulator_support import new_event_id, reasons

pytestmark = pytest.mark.emulator

STYLES = ["dated", "opaque"]


@pytest.fixture(scope="module", params=STYLES)
def emulator(request: pytest.FixtureRequest) -> Iterator[GoogleEmulator]:
    """An emulator per id style (the suite's ``target`` and ``calendar`` then use it)."""
    with GoogleEmulator(instance_ids=request.param) as google:
        yield google


@pytest.fixture
def style(emulator: GoogleEmulator) -> str:
    return emulator.state.instance_ids.style


def weekly(count: int = 3) -> dict[str, Any]:
    """Tuesdays 09:00 London time from 2030-01-01."""
    return {
        "id": new_event_id(),
        "summary": "Yoga",
        "start": {"dateTime": "2030-01-01T09:00:00Z", "timeZone": "Europe/London"},
        "end": {"dateTime": "2030-01-01T10:00:00Z", "timeZone": "Europe/London"},
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
    }


def insert(calendar: Any, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return dict(calendar.events().insert(calendarId=calendar_id, body=body).execute())


def instances(calendar: Any, calendar_id: str, series: str) -> list[dict[str, Any]]:
    request = calendar.events().instances(calendarId=calendar_id, eventId=series)
    return list(request.execute()["items"])


def single_events(calendar: Any, calendar_id: str, **params: Any) -> dict[str, Any]:
    request = calendar.events().list(calendarId=calendar_id, singleEvents=True, **params)
    return dict(request.execute())


def test_instance_ids_have_the_style_asked_for(calendar: Any, calendar_id: str, style: str) -> None:
    master = insert(calendar, calendar_id, weekly())

    ids = [item["id"] for item in instances(calendar, calendar_id, master["id"])]

    if style == "dated":
        days = ["20300101", "20300108", "20300115"]
        assert ids == [f"{master['id']}_{day}T090000Z" for day in days]
    else:
        assert all(re.fullmatch(r"[a-v0-9]{26}", event_id) for event_id in ids), ids
        assert not [event_id for event_id in ids if master["id"] in event_id]
        assert len(set(ids)) == 3


def test_an_instance_keeps_its_id_in_every_answer(calendar: Any, calendar_id: str) -> None:
    master = insert(calendar, calendar_id, weekly())
    ids = [item["id"] for item in instances(calendar, calendar_id, master["id"])]

    listed = [item["id"] for item in single_events(calendar, calendar_id)["items"]]
    again = [item["id"] for item in instances(calendar, calendar_id, master["id"])]
    got = calendar.events().get(calendarId=calendar_id, eventId=ids[1]).execute()

    assert (sorted(listed), again, got["id"]) == (sorted(ids), ids, ids[1])
    assert (got["recurringEventId"], got["originalStartTime"]["dateTime"]) == (
        master["id"],
        "2030-01-08T09:00:00Z",
    )


def test_a_patched_instance_is_an_exception_under_the_same_id(
    calendar: Any, calendar_id: str
) -> None:
    master = insert(calendar, calendar_id, weekly())
    second = instances(calendar, calendar_id, master["id"])[1]

    patched = (
        calendar.events()
        .patch(calendarId=calendar_id, eventId=second["id"], body={"summary": "Portrait"})
        .execute()
    )

    assert (patched["id"], patched["recurringEventId"]) == (second["id"], master["id"])
    assert patched["originalStartTime"] == second["originalStartTime"]
    summaries = {
        item["id"]: item["summary"] for item in instances(calendar, calendar_id, master["id"])
    }
    assert summaries[second["id"]] == "Portrait"
    assert list(summaries.values()).count("Yoga") == 2


def test_a_deleted_instance_is_a_tombstone_saying_which_occurrence_it_was(
    calendar: Any, calendar_id: str
) -> None:
    master = insert(calendar, calendar_id, weekly())
    token = single_events(calendar, calendar_id)["nextSyncToken"]
    third = instances(calendar, calendar_id, master["id"])[2]

    calendar.events().delete(calendarId=calendar_id, eventId=third["id"]).execute()

    [tombstone] = single_events(calendar, calendar_id, syncToken=token)["items"]
    assert (tombstone["id"], tombstone["status"]) == (third["id"], "cancelled")
    assert tombstone["recurringEventId"] == master["id"]
    assert parse_datetime(tombstone["originalStartTime"]["dateTime"]) == parse_datetime(
        third["originalStartTime"]["dateTime"]
    )
    got = calendar.events().get(calendarId=calendar_id, eventId=third["id"]).execute()
    assert got["status"] == "cancelled"
    assert third["id"] not in [i["id"] for i in instances(calendar, calendar_id, master["id"])]
    revived = (
        calendar.events()
        .patch(calendarId=calendar_id, eventId=third["id"], body={"status": "confirmed"})
        .execute()
    )
    assert (revived["id"], revived["recurringEventId"]) == (third["id"], master["id"])


def test_an_instance_id_is_never_free_for_an_insert(
    calendar: Any, calendar_id: str, style: str
) -> None:
    """A dated id holds a ``_``, which no client id may (400); an opaque one is taken (409),
    deleted or not, as any event's id."""
    master = insert(calendar, calendar_id, weekly())
    first, second, _ = instances(calendar, calendar_id, master["id"])
    calendar.events().delete(calendarId=calendar_id, eventId=second["id"]).execute()

    for instance in (first, second):
        body = {"id": instance["id"], "start": first["start"], "end": first["end"]}
        with pytest.raises(HttpError) as caught:
            insert(calendar, calendar_id, body)
        expected = (400, "invalid") if style == "dated" else (409, "duplicate")
        assert (caught.value.status_code, *reasons(caught.value)) == expected


def test_a_dated_id_names_an_instance_in_the_dated_style_only(
    calendar: Any, calendar_id: str, style: str
) -> None:
    master = insert(calendar, calendar_id, weekly())
    dated = f"{master['id']}_20300108T090000Z"
    request = calendar.events().get(calendarId=calendar_id, eventId=dated)

    if style == "dated":
        assert request.execute()["recurringEventId"] == master["id"]
    else:
        with pytest.raises(HttpError) as caught:
            request.execute()
        assert caught.value.status_code == 404


def test_opaque_ids_cannot_be_derived_from_the_series_and_its_start() -> None:
    """Two emulators name the same occurrence of the same series differently (each has a key
    of its own), and one names it the same every time."""
    original = When(None, parse_datetime("2030-01-08T09:00:00Z"), "Europe/London")
    one, other = InstanceIds("opaque"), InstanceIds("opaque")

    assert one.name("yoga0001", original) == one.name("yoga0001", original)
    assert one.name("yoga0001", original) != other.name("yoga0001", original)
    assert one.occurrence(one.name("yoga0001", original)) == ("yoga0001", original)


def test_an_unknown_id_style_is_refused() -> None:
    with pytest.raises(ValueError, match="opaque"):
        InstanceIds("hashed")  # type: ignore[arg-type]

"""Google's JSON ↔ calsync's model: table tests, malformed input included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from calsync.backends import RemoteContact, RemoteEvent
from calsync.google.translate import (
    MARKER_ITEM,
    MARKER_MADE,
    MARKER_PROFILE,
    Skipped,
    contact_from_json,
    event_body,
    event_from_json,
    person_body,
)
from calsync.model import (
    AllDay,
    ContactFields,
    Email,
    EventFields,
    Marker,
    Phone,
    PostalAddress,
    Timed,
)

PARIS = timezone(timedelta(hours=1))
KYIV = timezone(timedelta(hours=2))
MARKER = Marker("studio.u7", "s1")
GROUP = "contactGroups/abc"


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "calendar#event",
        "id": "evt00001",
        "etag": '"3181161784712000"',
        "status": "confirmed",
        "summary": "Wedding",
        "start": {"dateTime": "2031-03-10T09:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2031-03-10T11:00:00+01:00", "timeZone": "Europe/Paris"},
        "updated": "2031-01-02T03:04:05.678Z",
        "eventType": "default",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def read(data: Any, zone: str | None = None) -> RemoteEvent:
    result = event_from_json(data, calendar_zone=zone)
    assert isinstance(result, RemoteEvent), result
    return result


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {},
            Timed(
                datetime(2031, 3, 10, 9, tzinfo=PARIS),
                datetime(2031, 3, 10, 11, tzinfo=PARIS),
                "Europe/Paris",
            ),
            id="timed keeps its zone",
        ),
        pytest.param(
            {"start": {"date": "2031-03-10"}, "end": {"date": "2031-03-11"}},
            AllDay(date(2031, 3, 10), date(2031, 3, 11)),
            id="all-day, end exclusive",
        ),
        pytest.param(
            {"start": {"date": "2031-03-10"}, "end": {"date": "2031-03-13"}},
            AllDay(date(2031, 3, 10), date(2031, 3, 13)),
            id="multi-day all-day",
        ),
        pytest.param(
            {
                "start": {"dateTime": "2031-03-10T22:00:00+02:00", "timeZone": "Europe/Kiev"},
                "end": {"dateTime": "2031-03-12T08:00:00+02:00", "timeZone": "Europe/Kiev"},
            },
            Timed(
                datetime(2031, 3, 10, 22, tzinfo=KYIV),
                datetime(2031, 3, 12, 8, tzinfo=KYIV),
                "Europe/Kyiv",
            ),
            id="multi-day timed, legacy zone canonicalised",
        ),
        pytest.param(
            {
                "start": {"dateTime": "2031-03-10T09:00:00", "timeZone": "Europe/Paris"},
                "end": {"dateTime": "2031-03-10T10:00:00", "timeZone": "Europe/Paris"},
            },
            Timed(
                datetime(2031, 3, 10, 9, tzinfo=PARIS),
                datetime(2031, 3, 10, 10, tzinfo=PARIS),
                "Europe/Paris",
            ),
            id="local time placed by its timeZone",
        ),
        pytest.param(
            {
                "start": {"dateTime": "2031-03-10T08:00:00Z"},
                "end": {"dateTime": "2031-03-10T09:00:00Z"},
            },
            Timed(
                datetime(2031, 3, 10, 8, tzinfo=UTC),
                datetime(2031, 3, 10, 9, tzinfo=UTC),
                "America/New_York",
            ),
            id="no timeZone: the calendar's",
        ),
    ],
)
def test_event_times_are_read_exactly(changes: dict[str, Any], expected: Any) -> None:
    got = read(event(**changes), zone="America/New_York")

    assert got.fields is not None
    assert expected == got.fields.when


def test_an_event_without_a_title_is_read_with_an_empty_title() -> None:
    got = read(event(summary=None))

    assert got.fields is not None
    assert (got.fields.title, got.fields.description, got.fields.location) == ("", "", "")


def test_an_event_is_read_with_its_text_marker_etag_and_update_time() -> None:
    private = {MARKER_PROFILE: "studio.u7", MARKER_ITEM: "s1", "other": "x"}
    data = event(
        description="Call Ann\r\n+44 20 7946 0000  ",
        location="St Mary's",
        extendedProperties={"private": private},
    )

    got = read(data)

    assert got.fields is not None
    assert (got.fields.description, got.fields.location) == (
        "Call Ann\n+44 20 7946 0000",
        "St Mary's",
    )
    assert (got.marker, got.etag) == (MARKER, '"3181161784712000"')
    assert datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC) == got.updated


def test_a_half_marker_is_no_marker() -> None:
    got = read(event(extendedProperties={"private": {MARKER_PROFILE: "studio.u7"}}))

    assert got.marker is None


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "calendar#event", "etag": '"1"', "id": "gone0001", "status": "cancelled"},
        event(status="cancelled"),
    ],
    ids=["listing tombstone", "cancelled with details"],
)
def test_a_cancelled_event_is_a_tombstone(data: dict[str, Any]) -> None:
    got = read(data)

    assert (got.deleted, got.fields) == (True, None)


def test_an_instance_of_a_recurring_event_names_its_series() -> None:
    data = event(
        id="abc123_20310310T080000Z",
        recurringEventId="abc123",
        originalStartTime={"dateTime": "2031-03-10T09:00:00+01:00", "timeZone": "Europe/Paris"},
    )

    got = read(data)

    assert (got.series_id, got.marker, got.deleted) == ("abc123", None, False)


@pytest.mark.parametrize("kind", ["outOfOffice", "focusTime", "workingLocation", "birthday"])
def test_special_event_types_are_read_with_their_type(kind: str) -> None:
    assert kind == read(event(eventType=kind)).event_type


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (event(start=None), "no start"),
        (event(start={"date": "2031-03-10"}), "not both dates or both times"),
        (event(start={"date": "2031-13-45"}, end={"date": "2031-03-11"}), "unreadable date"),
        (event(start={"date": "2031-03-11"}, end={"date": "2031-03-11"}), "not after"),
        (event(end={"dateTime": "2031-03-10T08:00:00+01:00"}), "ends before it starts"),
        (event(start={"dateTime": "tomorrow at nine"}), "unreadable time"),
        (
            event(
                start={"dateTime": "2031-03-10T09:00:00", "timeZone": "Mars/Olympus"},
                end={"dateTime": "2031-03-10T10:00:00", "timeZone": "Mars/Olympus"},
            ),
            "unknown time zone",
        ),
        (event(summary=["a", "list"]), "unexpected data"),
        (event(start="2031-03-10"), "unexpected data"),
        (event(extendedProperties={"private": {"k": 1}}), "unexpected data"),
    ],
)
def test_a_malformed_event_is_skipped_with_a_reason_naming_it(
    data: dict[str, Any], reason: str
) -> None:
    got = event_from_json(data)

    assert isinstance(got, Skipped)
    assert got.item_id == "evt00001"
    assert reason in got.reason
    assert "evt00001" in got.warning("event")


@pytest.mark.parametrize("data", [None, "text", [], {"summary": "no id"}, {"id": 42}])
def test_something_that_is_not_an_event_is_skipped(data: Any) -> None:
    assert isinstance(event_from_json(data), Skipped)


# -- writing events ------------------------------------------------------------------------


def test_an_insert_body_carries_id_times_zone_and_marker() -> None:
    start = datetime(2031, 3, 10, 8, tzinfo=UTC)
    fields = EventFields(
        "Wedding", "Call", "Church", Timed(start, start + timedelta(hours=1), "Europe/Kiev")
    )

    body = event_body(fields, MARKER, event_id="abc12345")

    assert body == {
        "id": "abc12345",
        "summary": "Wedding",
        "description": "Call",
        "location": "Church",
        "start": {"dateTime": "2031-03-10T10:00:00+02:00", "timeZone": "Europe/Kyiv"},
        "end": {"dateTime": "2031-03-10T11:00:00+02:00", "timeZone": "Europe/Kyiv"},
        "extendedProperties": {"private": {MARKER_PROFILE: "studio.u7", MARKER_ITEM: "s1"}},
    }


def test_a_patch_body_clears_the_unused_half_of_start_and_end() -> None:
    fields = EventFields("Closed", when=AllDay.single(date(2031, 3, 10)))

    body = event_body(fields, None, confirm=True)

    assert body["start"] == {"date": "2031-03-10", "dateTime": None, "timeZone": None}
    assert body["end"] == {"date": "2031-03-11", "dateTime": None, "timeZone": None}
    assert (body["status"], "extendedProperties" in body) == ("confirmed", False)


@pytest.mark.parametrize(
    "when",
    [
        AllDay(date(2031, 3, 10), date(2031, 3, 14)),
        Timed(
            datetime(2031, 10, 26, 0, 30, tzinfo=UTC),
            datetime(2031, 10, 26, 3, 30, tzinfo=UTC),
            "Europe/London",
        ),
    ],
    ids=["all-day", "timed across a DST change"],
)
def test_an_event_round_trips_through_its_json(when: Any) -> None:
    fields = EventFields("T", "D", "L", when)
    body = event_body(fields, MARKER, event_id="abc12345")

    got = read({**body, "etag": '"1"', "status": "confirmed"})

    assert (got.fields, got.marker) == (fields, MARKER)


# -- contacts ------------------------------------------------------------------------------

ANN = ContactFields(
    given_name="Ann",
    family_name="Archer",
    organization="Archer & Co",
    phones=(Phone("+44 20 7946 0000"), Phone("+44 20 7946 0001", "work")),
    emails=(Email("ann@example.com"),),
    addresses=(PostalAddress("1 High St", "London", postal_code="N1 1AA", country="GB"),),
    notes="Prefers mornings",
)


def test_a_contact_round_trips_through_its_json_with_groups_and_marker() -> None:
    body = person_body(ANN, marker=MARKER, groups=["contactGroups/myContacts", GROUP])
    data = {**body, "resourceName": "people/c1", "etag": "%EgUBAi43PRoEAQIFByIM"}

    got = contact_from_json(data, GROUP)

    assert got == RemoteContact("people/c1", "%EgUBAi43PRoEAQIFByIM", ANN, MARKER, in_group=True)


def test_a_contact_outside_the_group_is_read_as_such() -> None:
    body = person_body(ANN, groups=["contactGroups/myContacts"])

    got = contact_from_json({**body, "resourceName": "people/c1"}, GROUP)

    assert isinstance(got, RemoteContact)
    assert (got.in_group, got.marker, got.fields) == (False, None, ANN)


def test_a_deleted_contact_is_a_tombstone() -> None:
    data = {"resourceName": "people/c1", "etag": "%E", "metadata": {"deleted": True}}

    got = contact_from_json(data, GROUP)

    assert isinstance(got, RemoteContact)
    assert (got.deleted, got.fields, got.in_group) == (True, None, False)


def test_a_contact_with_nothing_but_a_name_is_read() -> None:
    got = contact_from_json({"resourceName": "people/c1", "names": [{"givenName": "Bo"}]}, GROUP)

    assert isinstance(got, RemoteContact)
    assert ContactFields(given_name="Bo") == got.fields


def test_an_update_body_keeps_other_clients_data_and_clears_emptied_fields() -> None:
    from calsync.google.wire import ClientData

    body = person_body(
        ContactFields(given_name="Ann"),
        marker=MARKER,
        groups=[GROUP],
        other_client_data=[ClientData("crm", "42")],
        resource_name="people/c1",
        etag="%E",
    )

    assert body["clientData"] == [
        {"key": "crm", "value": "42"},
        {"key": MARKER_PROFILE, "value": "studio.u7"},
        {"key": MARKER_ITEM, "value": "s1"},
    ]
    assert (body["phoneNumbers"], body["organizations"], body["biographies"]) == ([], [], [])
    assert body["memberships"] == [{"contactGroupMembership": {"contactGroupResourceName": GROUP}}]


def test_a_created_contacts_made_token_is_written_and_read_back_with_its_marker() -> None:
    made = Marker("studio.u7", "c1", "0123456789abcdef")
    body = person_body(ContactFields(given_name="Ann"), marker=made, groups=[GROUP])

    assert body["clientData"] == [
        {"key": MARKER_PROFILE, "value": "studio.u7"},
        {"key": MARKER_ITEM, "value": "c1"},
        {"key": MARKER_MADE, "value": "0123456789abcdef"},
    ]
    got = contact_from_json({"resourceName": "people/c1", **body}, GROUP)
    assert isinstance(got, RemoteContact)
    assert got.marker is not None
    assert got.marker.made == "0123456789abcdef"


def test_an_update_drops_the_made_token_and_keeps_other_clients_data() -> None:
    from calsync.google.translate import other_client_data
    from calsync.google.wire import ClientData, Person

    person = Person(
        client_data=[ClientData("crm", "42"), ClientData(MARKER_MADE, "0123456789abcdef")]
    )

    assert other_client_data(person) == [ClientData("crm", "42")]


def test_markers_naming_the_same_item_are_equal_whatever_their_made_token() -> None:
    assert Marker("studio.u7", "c1", "0123456789abcdef") == Marker("studio.u7", "c1")
    assert Marker("studio.u7", "c1", "0123456789abcdef").is_well_formed()
    assert not Marker("studio.u7", "c1", "x" * 300).is_well_formed()


@pytest.mark.parametrize(
    "data",
    [{"names": "Ann"}, {"resourceName": 5}, {"resourceName": "people/c1", "phoneNumbers": {}}],
)
def test_a_malformed_contact_is_skipped(data: dict[str, Any]) -> None:
    assert isinstance(contact_from_json(data, GROUP), Skipped)

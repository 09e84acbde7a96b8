"""An event or person whose id calsync cannot keep (a NUL, a control character, half of a
UTF-16 pair, more than 1024 characters), or whose series id or etag a state store cannot hold,
is skipped with a warning naming it safely: the items next to it sync, and the calendar and
contacts channels never fail for it (PostgreSQL refuses NUL in text, so such an id used to fail
both channels in every run). A ``nextSyncToken`` a store cannot hold is no token: the next
listing is a full one.

The emulator refuses such ids, so the real client runs against it through a transport that
adds the bad items to Google's listings (and one that spoils the sync tokens)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httplib2
import pytest
from google.oauth2.credentials import Credentials
from services import POSTGRES_URL, require, unique_name

from calsync import SqliteStateStore, StateStore
from calsync.google.account import GoogleAccount
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service, build_people_service
from calsync.google.translate import Skipped, contact_from_json, event_from_json
from calsync.model import ContactFields, EventFields
from calsync.testing.emulator import GoogleEmulator

if TYPE_CHECKING:
    from pathlib import Path

    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

#: Ids no state store may be asked about: what each holds, and the id.
BAD_IDS = {
    "a NUL": "nul\x00id01",
    "a control character": "ctl\u202eid01",
    "half of a UTF-16 pair": "sur\ud800id01",
    "1025 characters": "z" * 1025,
}
TIMES = {
    "start": {"dateTime": "2031-03-10T09:00:00Z"},
    "end": {"dateTime": "2031-03-10T10:00:00Z"},
}

#: (what is wrong, the JSON Google sends) of the events the transport adds to a listing
BAD_EVENTS = [
    *((f"an id holding {what}", {"id": bad, "summary": "Bad id"}) for what, bad in BAD_IDS.items()),
    ("a series id holding a NUL", {"id": "inst00001", "recurringEventId": "ser\x00ies"}),
    ("a series id too long", {"id": "inst00002", "recurringEventId": "s" * 1025}),
    ("an etag holding a NUL", {"id": "etag00001", "etag": '"e\x00tag"', "summary": "Bad etag"}),
]


def bad_events() -> list[dict[str, Any]]:
    return [{"etag": '"1"', "summary": "Bad", **TIMES, **event} for _, event in BAD_EVENTS]


def bad_people(group: str) -> list[dict[str, Any]]:
    member = [{"contactGroupMembership": {"contactGroupResourceName": group}}]
    people = [
        {"resourceName": "people/" + bad, "etag": "%1", "names": [{"givenName": "Bad id"}]}
        for bad in BAD_IDS.values()
    ]
    people.append({"resourceName": "people/c9", "etag": "%\x00", "names": [{"givenName": "Tag"}]})
    return [{**person, "memberships": member} for person in people]


# -- reading one item ------------------------------------------------------------------------


@pytest.mark.parametrize("what", list(BAD_IDS))
def test_an_event_whose_id_cannot_be_kept_is_skipped_naming_it_safely(what: str) -> None:
    got = event_from_json({"id": BAD_IDS[what], "etag": '"1"', **TIMES})

    assert isinstance(got, Skipped)
    assert got.warning("event").isprintable()
    assert len(got.item_id) < 80


@pytest.mark.parametrize("what", list(BAD_IDS))
def test_a_person_whose_resource_name_cannot_be_kept_is_skipped_naming_it_safely(
    what: str,
) -> None:
    got = contact_from_json({"resourceName": "people/" + BAD_IDS[what], "etag": "%1"}, "g")

    assert isinstance(got, Skipped)
    assert got.warning("contact").isprintable()
    assert len(got.item_id) < 80


@pytest.mark.parametrize(("what", "event"), BAD_EVENTS, ids=[what for what, _ in BAD_EVENTS])
def test_an_event_naming_an_id_or_etag_no_store_holds_is_skipped(
    what: str, event: dict[str, Any]
) -> None:
    got = event_from_json({"etag": '"1"', **TIMES, **event})

    assert isinstance(got, Skipped), what


def test_a_person_whose_etag_holds_a_nul_is_skipped() -> None:
    got = contact_from_json({"resourceName": "people/c1", "etag": "%\x00"}, "g")

    assert isinstance(got, Skipped)
    assert got.item_id == "people/c1"


def test_ids_of_1024_printable_characters_are_kept() -> None:
    long_id = "é" * 1024

    event = event_from_json({"id": long_id, "recurringEventId": long_id, **TIMES})
    person = contact_from_json({"resourceName": long_id, "etag": "%1"}, "g")

    assert not isinstance(event, Skipped)
    assert (event.id, event.series_id) == (long_id, long_id)
    assert not isinstance(person, Skipped)
    assert person.id == long_id


def test_a_previous_resource_name_no_store_holds_is_left_out_the_person_kept() -> None:
    previous = ["people/old1", "people/\x00old", "people/" + "9" * 1025]
    data = {"resourceName": "people/c1", "metadata": {"previousResourceNames": previous}}

    got = contact_from_json(data, "g")

    assert not isinstance(got, Skipped)
    assert got.previous_ids == ("people/old1",)


# -- a whole run, through the real client ------------------------------------------------------


class RewritingHttp(httplib2.Http):  # type: ignore[misc]  # httplib2 ships no types
    """The transport to the emulator, letting ``rewrite`` change each JSON answer of a GET."""

    def __init__(self, rewrite: Callable[[str, dict[str, Any]], None]) -> None:
        super().__init__()
        self.rewrite = rewrite

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        response, content = super().request(uri, method, *args, **kwargs)
        if method == "GET" and response.status == 200 and content[:1] == b"{":
            data = json.loads(content)
            self.rewrite(urlsplit(uri).path, data)
            content = json.dumps(data).encode()
            response["content-length"] = str(len(content))
        return response, content


def rewired(w: GoogleWorld, rewrite: Callable[[str, dict[str, Any]], None]) -> None:
    """Give ``w`` backends whose answers from the emulator pass through ``rewrite``."""
    credentials = Credentials(token=w.token)
    base_url = w.google.base_url
    calendar = build_calendar_service(credentials, base_url=base_url, http=RewritingHttp(rewrite))
    people = build_people_service(credentials, base_url=base_url, http=RewritingHttp(rewrite))
    pacer, retrying = unpaced(), no_wait_retrying()
    w.account = GoogleAccount(
        GoogleCalendarBackend(calendar, pacer=pacer, retrying=retrying),
        GoogleContactsBackend(people, pacer=pacer, retrying=retrying),
        pacer,
    )


@pytest.fixture(params=["postgres", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """The server's state store (PostgreSQL, which refuses NUL in text) and the desktop's."""
    if request.param == "sqlite":
        with SqliteStateStore(tmp_path / "state.sqlite3") as sqlite:
            yield sqlite
        return
    require("PostgreSQL")
    import psycopg
    from psycopg import sql

    from calsync.server.database import Database
    from calsync.state.postgres import PostgresStateStore

    schema = unique_name("pg")
    database = Database(POSTGRES_URL, schema=schema, max_size=4)
    try:
        with PostgresStateStore(database, migrate=True) as postgres:
            yield postgres
    finally:
        database.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def group_of(google: GoogleEmulator, token: str, name: str) -> str:
    account = google.account(token)
    [group] = [g for g in account.contact_groups.values() if g.get("name") == name]
    return str(group["resourceName"])


def titles(w: GoogleWorld) -> list[str]:
    return sorted(item.title for item in w.items().values() if item.title)


def given_names(w: GoogleWorld) -> list[str]:
    contacts = w.clients.contacts(w.profile.user_id).values()
    return sorted(contact.fields.given_name for contact in contacts)


@pytest.mark.emulator
def test_items_whose_ids_no_store_holds_are_skipped_and_the_others_sync(
    world: MakeWorld, studio: StudioBuilders, store: StateStore
) -> None:
    w = world(store=store, inbound_calendar=True, inbound_contacts=True)
    assert w.sync().ok
    group = group_of(w.google, w.token, studio.group)
    w.calendar_user.external_create(w.calendar_id, EventFields("Good one", when=studio.timed(5)))
    renamed = w.contacts_user.external_create(ContactFields(given_name="Goodp"), [group]).id

    def rewrite(path: str, data: dict[str, Any]) -> None:
        if path.endswith("/events") and "items" in data:
            data["items"] += bad_events()
        if path.endswith("/connections"):
            for person in data.get("connections", []):
                if person.get("resourceName") == renamed:  # renamed, from a name no store holds
                    metadata = person.setdefault("metadata", {})
                    metadata["previousResourceNames"] = ["people/\x00old"]
            data.setdefault("connections", []).extend(copy.deepcopy(bad_people(group)))

    rewired(w, rewrite)

    for _ in range(2):
        report = w.sync()

        assert report.ok, report.summary()
        assert titles(w) == ["Good one"]
        assert given_names(w) == ["Goodp"]
        skipped = [warning for warning in report.warnings if warning.startswith("skipped")]
        assert len(skipped) == len(BAD_EVENTS) + len(bad_people(group))
        assert all(warning.isprintable() and len(warning) < 200 for warning in skipped)


@pytest.mark.emulator
def test_a_sync_token_no_store_holds_is_no_token_and_the_next_listing_is_full(
    world: MakeWorld, studio: StudioBuilders, store: StateStore
) -> None:
    w = world(store=store, inbound_calendar=True, inbound_contacts=True)

    def rewrite(path: str, data: dict[str, Any]) -> None:
        if "nextSyncToken" in data:
            data["nextSyncToken"] = "to\x00ken" + str(data["nextSyncToken"])

    rewired(w, rewrite)
    for day, title in enumerate(("First", "Second"), start=5):
        w.calendar_user.external_create(w.calendar_id, EventFields(title, when=studio.timed(day)))

        report = w.sync()

        assert report.ok, report.summary()
        assert title in titles(w)
    assert titles(w) == ["First", "Second"]

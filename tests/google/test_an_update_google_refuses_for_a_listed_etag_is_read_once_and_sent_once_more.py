"""Google refuses the etag a contact listing gave (400 ``FAILED_PRECONDITION``, "Request
person.etag is different than the current person.etag": google-api-python-client issue
#1169) and takes the one of ``people.get``. One refusal then costs one read (``get``, or one
``batchGet`` for a batch) and one update sent again with the fresh etag, never a refusal per
contact; and a contact the Google user really changed meanwhile still goes to the engine's
conflict rules, the user's edit kept. On the emulator with ``people_listing_etags="refused"``
and the real google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from calsync import Phone, Side
from calsync.errors import PreconditionFailed
from calsync.google.account import GoogleAccount
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.translate import MARKER_ITEM
from calsync.model import ContactFields
from calsync.testing.emulator import GoogleEmulator

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import ContactsUser, GoogleWorld, MakeWorld

    from calsync.backends import RemoteContact, RemoteListing

pytestmark = pytest.mark.emulator

UPDATE = "people.people.updateContact"
BATCH_UPDATE = "people.people.batchUpdateContacts"
GET = "people.people.get"
BATCH_GET = "people.people.getBatchGet"


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[GoogleEmulator]:
    """An emulator that refuses the etags of contact listings, as Google does."""
    with GoogleEmulator(people_listing_etags="refused") as google:
        yield google


def synced(world: MakeWorld, studio: StudioBuilders, clients: int = 5) -> GoogleWorld:
    w = world(inbound_contacts=True)
    for number in range(1, clients + 1):
        client = studio.client(f"c{number}", given=f"Client{number}")
        w.clients.add(studio.user, client, groups=[studio.group])
    assert w.sync().ok
    return w


def contact_of(w: GoogleWorld, client_id: str) -> str:
    [name] = [
        name
        for name, person in w.group_members().items()
        if {"key": MARKER_ITEM, "value": client_id}
        in [{"key": e["key"], "value": e["value"]} for e in person.get("clientData", [])]
    ]
    return name


def write_calls(google: GoogleEmulator) -> dict[str, int]:
    methods: dict[str, int] = google.stats()["methods"]
    return {m: n for m, n in methods.items() if m in (UPDATE, BATCH_UPDATE, GET, BATCH_GET)}


def phone_of(w: GoogleWorld, client_id: str) -> str:
    person = w.contacts_user.contacts()[contact_of(w, client_id)]
    return str(person["phoneNumbers"][0]["value"])


def test_a_batch_of_updates_refused_for_its_listed_etags_is_read_once_and_sent_once_more(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced(world, studio)
    for number in (1, 2, 3):
        w.clients.edit(studio.user, f"c{number}", phones=(Phone(f"+44 7700 90012{number}"),))
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert not report.has_problems, report.summary()
    assert report.count(Side.REMOTE, "updated") == 3
    assert write_calls(w.google) == {BATCH_UPDATE: 2, BATCH_GET: 1}
    assert w.google.stats()["statuses"].get("400") == 1
    assert [phone_of(w, f"c{n}") for n in (1, 2, 3)] == [f"+44 7700 90012{n}" for n in (1, 2, 3)]
    assert w.sync().writes == 0


def test_one_update_refused_for_its_listed_etag_costs_one_get_and_one_retry(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced(world, studio)
    w.clients.edit(studio.user, "c4", phones=(Phone("+44 7700 900444"),))
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert not report.has_problems, report.summary()
    assert write_calls(w.google) == {UPDATE: 2, GET: 1}
    assert w.google.stats()["statuses"].get("400") == 1
    assert phone_of(w, "c4") == "+44 7700 900444"


def test_an_update_whose_contact_the_user_changed_since_the_listing_is_refused_unwritten(
    contacts_backend: GoogleContactsBackend,
    contacts_user: ContactsUser,
    google: GoogleEmulator,
) -> None:
    group = contacts_backend.ensure_group("Weddings")
    made = contacts_user.external_create(ContactFields(given_name="Ann"), groups=[group])
    [listed] = contacts_backend.list_contacts(group, None).items
    contacts_user.external_update(made.id, notes="Call after six")
    google.reset_stats()

    with pytest.raises(PreconditionFailed):
        contacts_backend.update_contact(
            group, made.id, ContactFields(given_name="Ann", notes="Studio"), None, listed.etag
        )

    assert write_calls(google) == {UPDATE: 1, GET: 1}  # the refusal, the read: no retry
    person = contacts_user.contacts()[made.id]
    assert person["biographies"][0]["value"] == "Call after six"


class EditedAfterListing(GoogleContactsBackend):
    """The contacts backend, with the Google user editing contacts right after a listing
    (between calsync's read and its write)."""

    edit: Callable[[], Any] | None = None

    def list_contacts(self, group_id: str, cursor: str | None) -> RemoteListing[RemoteContact]:
        listing = super().list_contacts(group_id, cursor)
        edit, self.edit = self.edit, None
        if edit is not None:
            edit()
        return listing


def edited_after_listing(w: GoogleWorld, edit: Callable[[], Any]) -> None:
    contacts = EditedAfterListing(
        w.account.contacts.service,
        pacer=w.account.pacer,
        retrying=w.account.contacts.caller.retrying,
    )
    contacts.edit = edit
    w.account = GoogleAccount(w.account.calendar, contacts, w.account.pacer)


def test_a_contact_the_user_edited_meanwhile_is_planned_again_and_keeps_the_users_edit(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced(world, studio)
    for number in (1, 2, 3):
        w.clients.edit(studio.user, f"c{number}", phones=(Phone(f"+44 7700 90012{number}"),))
    bea = contact_of(w, "c2")
    edited_after_listing(w, lambda: w.contacts_user.external_update(bea, notes="Vegetarian"))

    report = w.sync()

    assert report.ok, report.summary()
    assert not report.has_problems, report.summary()
    assert [phone_of(w, f"c{n}") for n in (1, 2, 3)] == [f"+44 7700 90012{n}" for n in (1, 2, 3)]
    assert w.contacts_user.contacts()[bea]["biographies"][0]["value"] == "Vegetarian"
    assert w.clients.contacts(studio.user)["c2"].fields.notes == "Vegetarian"
    assert w.sync().writes == 0


def test_a_field_both_sides_changed_meanwhile_goes_to_the_conflict_policy(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced(world, studio)
    w.clients.edit(studio.user, "c1", phones=(Phone("+44 7700 900111"),))
    ann = contact_of(w, "c1")
    edited_after_listing(
        w, lambda: w.contacts_user.external_update(ann, phones=(Phone("+44 7700 900999"),))
    )

    report = w.sync()

    assert report.ok, report.summary()
    [conflict] = report.conflicts
    assert (conflict.item, conflict.field) == ("c1", "phones"), conflict
    assert (conflict.remote, conflict.winner) == ("+44 7700 900999", Side.HOST)
    assert phone_of(w, "c1") == "+44 7700 900111"  # as the (default) policy decided, reported

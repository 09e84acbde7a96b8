"""A studio user's client sync group synced with Google Contacts through the engine, on the
emulator with the real google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import pytest

from calsync import Contact, ContactFields, DeletionRules, Email, Phone, PostalAddress, Side
from calsync.google.translate import MARKER_ITEM, MARKER_MADE, MARKER_PROFILE
from calsync.model import Channel

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def given_names(people: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(p.get("names", [{}])[0].get("givenName", "") for p in people.values())


def marker_of(person: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["value"] for d in person.get("clientData", [])}


def synced_world(world: MakeWorld, studio: StudioBuilders, *names: str, **options: Any) -> Any:
    w = world(**options)
    for number, name in enumerate(names, 1):
        w.clients.add(studio.user, studio.client(f"c{number}", given=name), groups=[studio.group])
    report = w.sync()
    assert report.ok, report.summary()
    return w


def test_initial_sync_puts_the_client_group_in_a_google_group_of_the_same_name(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    w.clients.add(studio.user, studio.client("c1", "Ann"), groups=[studio.group])
    w.clients.add(studio.user, studio.client("c2", "Bea"), groups=[studio.group])
    w.clients.add(studio.user, studio.client("c3", "Cy"))  # not in the sync group

    report = w.sync()

    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "created") == 2
    members = w.group_members()
    assert given_names(members) == ["Ann", "Bea"]
    assert sorted(marker_of(p)[MARKER_ITEM] for p in members.values()) == ["c1", "c2"]
    assert {marker_of(p)[MARKER_PROFILE] for p in members.values()} == {"studio.u7"}
    # each create's token goes with it: it proves, after a crash, which contact a create made
    assert all(len(marker_of(p)[MARKER_MADE]) == 16 for p in members.values())

    w.google.reset_stats()
    quiet = w.sync()

    assert (quiet.ok, quiet.writes) == (True, 0)
    assert w.google.stats()["methods"] == {
        "calendar.events.list": 1,
        "people.people.connections.list": 1,
    }


def test_an_empty_client_group_makes_an_empty_google_group(world: MakeWorld) -> None:
    w = world()

    report = w.sync()

    assert report.ok, report.summary()
    assert w.group_members() == {}


def test_host_edits_go_out_and_google_edits_come_back(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", "Bea", inbound_contacts=True)
    [ann_id] = [k for k, p in w.group_members().items() if marker_of(p)[MARKER_ITEM] == "c1"]
    [bea_id] = [k for k, p in w.group_members().items() if marker_of(p)[MARKER_ITEM] == "c2"]

    w.clients.edit(studio.user, "c1", phones=(Phone("+44 7700 900123"),))
    w.contacts_user.external_update(bea_id, notes="Vegetarian")
    report = w.sync()

    assert report.ok, report.summary()
    assert (report.count(Side.REMOTE, "updated"), report.count(Side.HOST, "updated")) == (1, 1)
    ann = w.contacts_user.contacts()[ann_id]
    assert [p["value"] for p in ann["phoneNumbers"]] == ["+44 7700 900123"]
    assert w.clients.contacts(studio.user)["c2"].fields.notes == "Vegetarian"
    assert w.sync().writes == 0


def test_a_contact_added_to_the_google_group_comes_back_as_a_client(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", inbound_contacts=True)
    group = w.account.contacts.ensure_group(studio.group)

    w.contacts_user.external_create(ContactFields(given_name="Dan"), groups=[group])
    report = w.sync()

    assert report.ok, report.summary()
    clients = w.clients.contacts(studio.user)
    [dan] = [c for c in clients.values() if c.fields.given_name == "Dan"]
    assert dan.id in w.clients.members(studio.user, studio.group)


def test_a_client_removed_from_the_host_group_deletes_the_contact_calsync_made(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", "Bea")

    w.clients.remove_from_group_by_user(studio.user, studio.group, "c1")
    report = w.sync()

    assert report.ok, report.summary()
    assert given_names(w.group_members()) == ["Bea"]
    assert given_names(w.contacts_user.contacts()) == ["Bea"]


def test_a_client_removed_from_the_host_group_can_keep_its_contact_unlabelled(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    rules = DeletionRules(delete_removed_contacts=False)
    w = synced_world(world, studio, "Ann", "Bea", deletion_rules=rules)

    w.clients.remove_from_group_by_user(studio.user, studio.group, "c1")
    report = w.sync()

    assert report.ok, report.summary()
    assert given_names(w.group_members()) == ["Bea"]
    assert given_names(w.contacts_user.contacts()) == ["Ann", "Bea"]


def test_a_contact_taken_out_of_the_google_group_is_put_back(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann")
    [ann_id] = w.group_members()
    group = w.account.contacts.ensure_group(studio.group)

    w.contacts_user.external_remove_from_group(ann_id, group)
    report = w.sync()

    assert report.ok, report.summary()
    assert list(w.group_members()) == [ann_id]


@pytest.mark.parametrize("delete_contacts", [False, True], ids=["keeping", "deleting"])
def test_a_contact_group_deleted_in_google_is_made_again_with_the_clients_in_it(
    world: MakeWorld, studio: StudioBuilders, delete_contacts: bool
) -> None:
    w = synced_world(world, studio, "Ann", "Bea", inbound_contacts=True)
    old_group = w.account.contacts.ensure_group(studio.group)
    clients = w.clients.contacts(studio.user)

    # the Google user deletes the group, keeping its contacts or not: every write naming
    # the old group would be refused
    w.contacts_user.service.contactGroups().delete(
        resourceName=old_group, deleteContacts=delete_contacts
    ).execute()
    report = w.sync()

    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "restored" if delete_contacts else "updated") == 2
    assert w.account.contacts.find_group(studio.group) not in (None, old_group)
    assert given_names(w.group_members()) == ["Ann", "Bea"]
    assert w.clients.contacts(studio.user) == clients
    assert w.sync().writes == 0


def test_a_re_setup_finds_no_difference_in_entries_the_host_left_unlabelled(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """A phone, email or address with no label reads back from Google as ``mobile`` or
    ``home``, as calsync's model now holds it: a re-setup (the state lost) adopts the
    contact with no conflict and no write (before: three false conflicts, and an update that
    dropped the contact's ``calsyncMade`` proof)."""
    w = world(inbound_contacts=True)
    fields = ContactFields(
        given_name="Zoe",
        phones=(Phone("020 7946 0003", ""),),
        emails=(Email("z@example.com", ""),),
        addresses=(PostalAddress(city="Paris", label=""),),
    )
    w.clients.add(studio.user, Contact("c1", fields), groups=[studio.group])
    assert w.sync().ok
    w.store.forget_channel(w.profile.id, Channel.CONTACTS)
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert (report.conflicts, report.writes) == ([], 0)
    assert "people.people.updateContact" not in w.google.stats()["methods"]


def test_an_expired_people_sync_token_reconciles_in_full(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", "Bea", inbound_contacts=True)
    [ann_id] = [k for k, p in w.group_members().items() if marker_of(p)[MARKER_ITEM] == "c1"]
    before = w.clients.contacts(studio.user)

    w.contacts_user.external_delete(ann_id)
    w.google.expire_sync_tokens()
    report = w.sync()

    assert report.ok, report.summary()
    assert w.google.stats()["statuses"].get("400", 0) >= 1
    assert any("restored" in warning for warning in report.warnings)
    assert given_names(w.group_members()) == ["Ann", "Bea"]
    assert w.clients.contacts(studio.user).keys() == before.keys()
    assert w.sync().writes == 0


def test_many_contacts_go_out_in_batches_of_up_to_200_creates(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    for number in range(450):
        client = studio.client(f"c{number}", given=f"Client{number:03d}")
        w.clients.add(studio.user, attrs.evolve(client), groups=[studio.group])

    report = w.sync()

    assert report.ok, report.summary()
    assert len(w.group_members()) == 450
    methods = w.google.stats()["methods"]
    assert methods["people.people.batchCreateContacts"] == 3  # 200 + 200 + 50
    assert "people.people.createContact" not in methods


def _person(w: Any, resource_name: str) -> dict[str, Any]:
    person: dict[str, Any] = w.google.account(w.token).contacts[resource_name]
    return person


def test_a_studio_edit_keeps_what_the_google_user_added_to_the_contact(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", "Bea")  # contacts out only: the studio rules
    [ann] = [k for k, p in w.group_members().items() if marker_of(p)[MARKER_ITEM] == "c1"]
    people = w.contacts_user.service.people()
    fields = "names,organizations,addresses,emailAddresses,phoneNumbers,metadata"
    current = people.get(resourceName=ann, personFields=fields).execute()
    first = current["names"][0]
    extra = {
        "etag": current["etag"],
        "names": [{**first, "middleName": "Marie", "honorificPrefix": "Dr"}],
        "organizations": [{"name": "Acme", "title": "Head of Photography"}],
        "addresses": [{"streetAddress": "1 High St", "extendedAddress": "Flat 3"}],
    }
    people.updateContact(
        resourceName=ann, updatePersonFields="names,organizations,addresses", body=extra
    ).execute()
    w.sync()  # the studio's own organisation and address come back over Google's
    w.clients.edit(studio.user, "c1", phones=(Phone("+44 20 7946 9999"),))

    report = w.sync()

    assert report.ok, report.summary()
    after = _person(w, ann)
    assert [p["value"] for p in after["phoneNumbers"]] == ["+44 20 7946 9999"]
    [name] = after["names"]
    assert (name["givenName"], name["middleName"]) == ("Ann", "Marie")
    assert name["honorificPrefix"] == "Dr"
    assert w.sync().writes == 0


def test_a_contact_named_in_one_line_in_google_comes_in_with_that_name_and_keeps_it(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = synced_world(world, studio, "Ann", inbound_contacts=True)
    [group] = {m for p in w.group_members().values() for m in person_groups_of(p)} - {
        "contactGroups/myContacts"
    }
    made = (
        w.contacts_user.service.people()
        .createContact(
            personFields="names",
            body={
                "names": [{"unstructuredName": "Dr. Who"}],
                "memberships": [
                    {"contactGroupMembership": {"contactGroupResourceName": name}}
                    for name in ("contactGroups/myContacts", group)
                ],
            },
        )
        .execute()
    )
    w.sync()
    [who] = [c for c in w.clients.contacts(studio.user).values() if c.id != "c1"]
    assert who.fields.given_name == "Dr. Who"
    w.clients.edit(studio.user, who.id, phones=(Phone("+44 20 7946 1234"),))

    report = w.sync()

    assert report.ok, report.summary()
    after = _person(w, made["resourceName"])
    assert after["names"][0]["unstructuredName"] == "Dr. Who"
    assert [p["value"] for p in after["phoneNumbers"]] == ["+44 20 7946 1234"]
    assert w.sync().writes == 0


def person_groups_of(person: dict[str, Any]) -> list[str]:
    return [
        m["contactGroupMembership"]["contactGroupResourceName"]
        for m in person.get("memberships", [])
        if "contactGroupMembership" in m
    ]

"""People v1 contactGroups and memberships."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import error_body

pytestmark = pytest.mark.emulator


@pytest.fixture
def new_group(target: Any, people: Any) -> Any:
    def make(name: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"contactGroup": {"name": name or f"Group {uuid.uuid4().hex[:6]}", **extra}}
        created = dict(people.contactGroups().create(body=body).execute())
        target.cleanups.append(
            lambda: people.contactGroups().delete(resourceName=created["resourceName"]).execute()
        )
        return created

    return make


@pytest.fixture
def contact(target: Any, people: Any) -> dict[str, Any]:
    body = {"names": [{"givenName": "Member"}]}
    created = dict(people.people().createContact(body=body, personFields="memberships").execute())
    target.cleanups.append(
        lambda: people.people().deleteContact(resourceName=created["resourceName"]).execute()
    )
    return created


def member_groups(people: Any, resource_name: str) -> list[str]:
    fetched = people.people().get(resourceName=resource_name, personFields="memberships")
    return sorted(
        m["contactGroupMembership"]["contactGroupResourceName"]
        for m in fetched.execute().get("memberships", [])
    )


def test_a_created_group_is_a_user_group(new_group):
    group = new_group("Wedding clients")
    assert group["resourceName"].startswith("contactGroups/")
    assert group["name"] == "Wedding clients"
    assert group["groupType"] == "USER_CONTACT_GROUP"
    assert group["etag"]


def test_a_duplicate_group_name_answers_409(new_group, people):
    new_group("Portraits")
    with pytest.raises(HttpError) as caught:
        people.contactGroups().create(body={"contactGroup": {"name": "Portraits"}}).execute()
    assert caught.value.status_code == 409
    assert error_body(caught.value)["status"] == "ALREADY_EXISTS"


def test_group_client_data_is_returned_only_when_asked(new_group, people):
    group = new_group(clientData=[{"key": "owner", "value": "calsync"}])
    assert "clientData" not in group
    plain = people.contactGroups().get(resourceName=group["resourceName"]).execute()
    asked = people.contactGroups().get(
        resourceName=group["resourceName"], groupFields="clientData,name"
    )
    assert "clientData" not in plain
    assert asked.execute()["clientData"] == [{"key": "owner", "value": "calsync"}]


def test_the_group_list_includes_system_groups(people, new_group):
    group = new_group()
    listed = people.contactGroups().list(pageSize=1000).execute()
    names = {item["resourceName"] for item in listed["contactGroups"]}
    assert {"contactGroups/myContacts", "contactGroups/starred", group["resourceName"]} <= names
    assert "nextSyncToken" in listed


def test_members_are_added_and_removed(new_group, contact, people):
    group = new_group()
    modify = people.contactGroups().members().modify
    modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": [contact["resourceName"]]}
    ).execute()
    assert member_groups(people, contact["resourceName"]) == sorted(
        ["contactGroups/myContacts", group["resourceName"]]
    )
    fetched = people.contactGroups().get(resourceName=group["resourceName"], maxMembers=10)
    result = fetched.execute()
    assert result["memberResourceNames"] == [contact["resourceName"]]
    assert result["memberCount"] == 1
    modify(
        resourceName=group["resourceName"],
        body={"resourceNamesToRemove": [contact["resourceName"]]},
    ).execute()
    assert member_groups(people, contact["resourceName"]) == ["contactGroups/myContacts"]


def test_unknown_members_are_reported_not_found(target, new_group, people):
    target.require_emulator()
    group = new_group()
    result = (
        people.contactGroups()
        .members()
        .modify(
            resourceName=group["resourceName"], body={"resourceNamesToAdd": ["people/c123456789"]}
        )
        .execute()
    )
    assert result == {"notFoundResourceNames": ["people/c123456789"]}


def test_removing_the_last_group_of_a_contact_is_refused(target, contact, people):
    target.require_emulator()
    result = (
        people.contactGroups()
        .members()
        .modify(
            resourceName="contactGroups/myContacts",
            body={"resourceNamesToRemove": [contact["resourceName"]]},
        )
        .execute()
    )
    assert result == {"canNotRemoveLastContactGroupResourceNames": [contact["resourceName"]]}


def test_a_contact_created_in_a_group_is_a_member(new_group, people, target):
    group = new_group()
    membership = {"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}
    body = {"names": [{"givenName": "In group"}], "memberships": [membership]}
    created = people.people().createContact(body=body, personFields="memberships").execute()
    target.cleanups.append(
        lambda: people.people().deleteContact(resourceName=created["resourceName"]).execute()
    )
    assert member_groups(people, created["resourceName"]) == [group["resourceName"]]


def test_a_membership_in_an_unknown_group_is_rejected(people):
    membership = {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/nope"}}
    body = {"names": [{"givenName": "X"}], "memberships": [membership]}
    with pytest.raises(HttpError) as caught:
        people.people().createContact(body=body, personFields="names").execute()
    assert caught.value.status_code == 400


def test_a_group_is_renamed_with_update(new_group, people):
    group = new_group("Old name")
    body = {"contactGroup": {"name": "New name", "etag": group["etag"]}}
    updated = people.contactGroups().update(resourceName=group["resourceName"], body=body)
    assert updated.execute()["name"] == "New name"


def test_deleting_a_group_keeps_its_contacts_unless_asked(new_group, contact, people, target):
    target.require_emulator()
    group = new_group()
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": [contact["resourceName"]]}
    ).execute()
    people.contactGroups().delete(resourceName=group["resourceName"]).execute()
    assert member_groups(people, contact["resourceName"]) == ["contactGroups/myContacts"]
    with pytest.raises(HttpError) as caught:
        people.contactGroups().get(resourceName=group["resourceName"]).execute()
    assert caught.value.status_code == 404


def test_deleting_a_group_with_delete_contacts_removes_them(new_group, contact, people, target):
    emulator = target.require_emulator()
    group = new_group()
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": [contact["resourceName"]]}
    ).execute()
    people.contactGroups().delete(resourceName=group["resourceName"], deleteContacts=True).execute()
    assert contact["resourceName"] in emulator.account(target.token).deleted_contacts


def test_an_incremental_group_listing_marks_deleted_groups(target, people, new_group):
    target.require_emulator()
    group = new_group()
    full = people.contactGroups().list().execute()
    people.contactGroups().delete(resourceName=group["resourceName"]).execute()
    changes = people.contactGroups().list(syncToken=full["nextSyncToken"]).execute()
    assert [
        (g["resourceName"], g["metadata"].get("deleted")) for g in changes["contactGroups"]
    ] == [(group["resourceName"], True)]


def test_system_groups_cannot_be_deleted(people):
    with pytest.raises(HttpError) as caught:
        people.contactGroups().delete(resourceName="contactGroups/myContacts").execute()
    assert caught.value.status_code == 400

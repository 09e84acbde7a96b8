"""A contact's resource name changes when Google links it to a profile (people.v1
``PersonMetadata.previousResourceNames``): the emulator does it on request, as Google does. The
contact keeps its content under a new name that lists the old one, an incremental listing
shows it changed under the new name, and the old name answers 404."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_admin import admin
from googleapiclient.errors import HttpError

pytestmark = pytest.mark.emulator

FIELDS = "names,clientData,memberships,metadata"


def sync_listing(people: Any, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every page of people/me/connections with a sync token: (connections, next token)."""
    api = people.people().connections()
    request = api.list(
        resourceName="people/me", personFields=FIELDS, requestSyncToken=True, **params
    )
    items: list[dict[str, Any]] = []
    while request is not None:
        page = request.execute()
        items.extend(page.get("connections", []))
        token = page.get("nextSyncToken", "")
        request = api.list_next(request, page)
    return items, token


def ann(people: Any) -> dict[str, Any]:
    body = {
        "names": [{"givenName": "Ann"}],
        "clientData": [{"key": "calsyncOwner", "value": "studio"}],
    }
    return dict(people.people().createContact(body=body, personFields=FIELDS).execute())


def test_a_renamed_contact_is_listed_under_its_new_name_naming_the_old_one(emulator, target):
    people = target.people()
    target.require_emulator()
    old = ann(people)["resourceName"]
    _, token = sync_listing(people)

    new = emulator.rename_contact(target.token, old)
    changed, _ = sync_listing(people, syncToken=token)

    assert new != old
    assert new.startswith("people/c")
    assert [p["resourceName"] for p in changed] == [new]
    assert changed[0]["metadata"]["previousResourceNames"] == [old]
    assert changed[0]["names"][0]["givenName"] == "Ann"
    assert changed[0]["clientData"][0]["value"] == "studio"


def test_the_old_name_of_a_renamed_contact_answers_404(emulator, target):
    people = target.people()
    target.require_emulator()
    created = ann(people)
    emulator.rename_contact(target.token, created["resourceName"], "people/c1234567890")

    with pytest.raises(HttpError) as got:
        people.people().get(resourceName=created["resourceName"], personFields=FIELDS).execute()
    with pytest.raises(HttpError) as updated:
        people.people().updateContact(
            resourceName=created["resourceName"],
            updatePersonFields="names",
            body={"etag": created["etag"], "names": [{"givenName": "Bo"}]},
        ).execute()
    renamed = people.people().get(resourceName="people/c1234567890", personFields=FIELDS)

    assert (got.value.status_code, updated.value.status_code) == (404, 404)
    assert renamed.execute()["metadata"]["previousResourceNames"] == [created["resourceName"]]


def test_renaming_an_unknown_contact_or_to_a_taken_name_is_refused(emulator, target):
    people = target.people()
    target.require_emulator()
    first, second = ann(people)["resourceName"], ann(people)["resourceName"]

    with pytest.raises(KeyError):
        emulator.rename_contact(target.token, "people/c404")
    with pytest.raises(ValueError, match="cannot be given"):
        emulator.rename_contact(target.token, first, second)


def test_a_contact_is_renamed_over_http(emulator, target):
    people = target.people()
    target.require_emulator()
    old = ann(people)["resourceName"]
    body = {"account": target.token, "resource_name": old}

    status, answer = admin(emulator.base_url, "POST", "rename-contact", body)
    again, _ = admin(emulator.base_url, "POST", "rename-contact", body)

    assert (status, again) == (200, 404)
    fetched = people.people().get(resourceName=answer["resource_name"], personFields=FIELDS)
    assert fetched.execute()["metadata"]["previousResourceNames"] == [old]

"""People v1 contacts: CRUD with etags, batch mutations, and connections sync."""

from __future__ import annotations

import time
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .emulator_support import error_body, reasons

pytestmark = pytest.mark.emulator

FIELDS = "names,emailAddresses,phoneNumbers,clientData,memberships,metadata"


def person(given: str, **extra: Any) -> dict[str, Any]:
    return {"names": [{"givenName": given, "familyName": "Client"}], **extra}


@pytest.fixture
def create(target: Any, people: Any) -> Any:
    """Create a contact (deleted again on real Google)."""

    def make(body: dict[str, Any]) -> dict[str, Any]:
        created = dict(people.people().createContact(body=body, personFields=FIELDS).execute())
        name = created["resourceName"]
        target.cleanups.append(lambda: people.people().deleteContact(resourceName=name).execute())
        return created

    return make


def connections(people: Any, **params: Any) -> tuple[list[dict], list[dict]]:
    """Follow every page of people/me/connections; returns (connections, pages)."""
    api = people.people().connections()
    request = api.list(resourceName="people/me", personFields=FIELDS, **params)
    items: list[dict] = []
    pages: list[dict] = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        items.extend(page.get("connections", []))
        request = api.list_next(request, page)
    return items, pages


def test_a_created_contact_has_a_resource_name_etag_and_my_contacts_membership(create):
    created = create(person("Ann", emailAddresses=[{"value": "ann@example.com"}]))
    assert created["resourceName"].startswith("people/c")
    assert created["etag"].startswith("%")
    assert created["names"][0]["givenName"] == "Ann"
    groups = [
        m["contactGroupMembership"]["contactGroupResourceName"] for m in created["memberships"]
    ]
    assert groups == ["contactGroups/myContacts"]
    assert created["metadata"]["sources"][0]["type"] == "CONTACT"


def test_client_data_round_trips(create, people):
    created = create(person("Bo", clientData=[{"key": "syncOwner", "value": "calsync"}]))
    fetched = people.people().get(resourceName=created["resourceName"], personFields="clientData")
    data = fetched.execute()["clientData"]
    assert [(item["key"], item["value"]) for item in data] == [("syncOwner", "calsync")]


def test_get_without_person_fields_is_rejected(create, people):
    created = create(person("Cy"))
    with pytest.raises(HttpError) as caught:
        people.people().get(resourceName=created["resourceName"]).execute()
    assert caught.value.status_code == 400
    assert error_body(caught.value)["status"] == "INVALID_ARGUMENT"


def test_an_unknown_person_field_is_rejected(create, people):
    created = create(person("Di"))
    request = people.people().get(resourceName=created["resourceName"], personFields="shoeSize")
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_a_person_field_mask_limits_the_response(create, people):
    created = create(person("Ed", emailAddresses=[{"value": "ed@example.com"}]))
    fetched = (
        people.people().get(resourceName=created["resourceName"], personFields="names").execute()
    )
    assert set(fetched) == {"resourceName", "etag", "names"}


def test_update_contact_replaces_the_masked_fields(create, people):
    created = create(person("Fay", emailAddresses=[{"value": "old@example.com"}]))
    body = {
        "etag": created["etag"],
        "names": [{"givenName": "Faye"}],
        "emailAddresses": [],
    }
    updated = (
        people.people()
        .updateContact(
            resourceName=created["resourceName"],
            updatePersonFields="names,emailAddresses",
            personFields=FIELDS,
            body=body,
        )
        .execute()
    )
    assert updated["names"][0]["givenName"] == "Faye"
    assert "emailAddresses" not in updated
    assert updated["etag"] != created["etag"]


def test_update_contact_ignores_fields_outside_the_mask(create, people):
    created = create(person("Flo", emailAddresses=[{"value": "keep@example.com"}]))
    fetched = people.people().get(resourceName=created["resourceName"], personFields=FIELDS)
    current = fetched.execute()
    current["names"] = [{"givenName": "Flora"}]
    current["emailAddresses"] = [{"value": "ignored@example.com"}]
    updated = (
        people.people()
        .updateContact(
            resourceName=created["resourceName"],
            updatePersonFields="names",
            personFields=FIELDS,
            body=current,
        )
        .execute()
    )
    assert updated["names"][0]["givenName"] == "Flora"
    assert [e["value"] for e in updated["emailAddresses"]] == ["keep@example.com"]


def test_update_contact_with_a_stale_etag_answers_400_failed_precondition(create, people):
    created = create(person("Gil"))
    people.people().updateContact(
        resourceName=created["resourceName"],
        updatePersonFields="names",
        body={"etag": created["etag"], "names": [{"givenName": "Gill"}]},
    ).execute()
    with pytest.raises(HttpError) as caught:
        people.people().updateContact(
            resourceName=created["resourceName"],
            updatePersonFields="names",
            body={"etag": created["etag"], "names": [{"givenName": "Stale"}]},
        ).execute()
    assert caught.value.status_code == 400
    assert error_body(caught.value)["status"] == "FAILED_PRECONDITION"


def test_update_contact_without_an_etag_is_rejected(create, people):
    created = create(person("Hal"))
    request = people.people().updateContact(
        resourceName=created["resourceName"],
        updatePersonFields="names",
        body={"names": [{"givenName": "X"}]},
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_update_contact_without_update_person_fields_is_rejected(create, people):
    created = create(person("Ida"))
    request = people.people().updateContact(
        resourceName=created["resourceName"], body={"etag": created["etag"]}
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400


def test_update_contact_accepts_the_source_etag(create, people):
    created = create(person("Jo"))
    source = created["metadata"]["sources"][0]
    body = {
        "metadata": {"sources": [{"type": "CONTACT", "id": source["id"], "etag": source["etag"]}]},
        "names": [{"givenName": "Joe"}],
    }
    updated = people.people().updateContact(
        resourceName=created["resourceName"], updatePersonFields="names", body=body
    )
    assert updated.execute()["names"][0]["givenName"] == "Joe"


def test_a_deleted_contact_answers_404(create, people):
    created = create(person("Kim"))
    people.people().deleteContact(resourceName=created["resourceName"]).execute()
    with pytest.raises(HttpError) as caught:
        people.people().get(resourceName=created["resourceName"], personFields="names").execute()
    assert caught.value.status_code == 404
    assert error_body(caught.value)["status"] == "NOT_FOUND"


def test_two_names_on_one_contact_are_rejected(people):
    body = {"names": [{"givenName": "A"}, {"givenName": "B"}]}
    with pytest.raises(HttpError) as caught:
        people.people().createContact(body=body, personFields="names").execute()
    assert caught.value.status_code == 400


def test_an_unknown_person_field_in_a_body_is_rejected(target, people):
    target.require_emulator()
    with pytest.raises(HttpError) as caught:
        people.people().createContact(body={"nams": []}, personFields="names").execute()
    assert caught.value.status_code == 400
    assert "Unknown name" in error_body(caught.value)["message"]


def test_batch_create_update_and_delete_contacts(target, people):
    created = (
        people.people()
        .batchCreateContacts(
            body={
                "contacts": [{"contactPerson": person(f"P{i}")} for i in range(3)],
                "readMask": "names,metadata",
            }
        )
        .execute()["createdPeople"]
    )
    assert [item["httpStatusCode"] for item in created] == [200, 200, 200]
    by_name = {item["person"]["resourceName"]: item["person"] for item in created}
    updates = {
        name: {"etag": data["etag"], "names": [{"givenName": "Renamed"}]}
        for name, data in by_name.items()
    }
    result = (
        people.people()
        .batchUpdateContacts(body={"contacts": updates, "updateMask": "names", "readMask": "names"})
        .execute()["updateResult"]
    )
    assert {r["person"]["names"][0]["givenName"] for r in result.values()} == {"Renamed"}
    people.people().batchDeleteContacts(body={"resourceNames": list(by_name)}).execute()
    if target.emulator is not None:
        assert target.emulator.account(target.token).contacts == {}


def test_batch_create_over_200_contacts_is_rejected(people):
    body = {"contacts": [{"contactPerson": person("x")}] * 201, "readMask": "names"}
    with pytest.raises(HttpError) as caught:
        people.people().batchCreateContacts(body=body).execute()
    assert caught.value.status_code == 400


def test_batch_delete_over_500_contacts_is_rejected(people):
    body = {"resourceNames": [f"people/c{i}" for i in range(501)]}
    with pytest.raises(HttpError) as caught:
        people.people().batchDeleteContacts(body=body).execute()
    assert caught.value.status_code == 400


def test_batch_update_with_one_stale_etag_changes_nothing(target, create, people):
    emulator = target.require_emulator()
    first, second = create(person("Q1")), create(person("Q2"))
    updates = {
        first["resourceName"]: {"etag": first["etag"], "names": [{"givenName": "new"}]},
        second["resourceName"]: {"etag": "%stale", "names": [{"givenName": "new"}]},
    }
    with pytest.raises(HttpError) as caught:
        people.people().batchUpdateContacts(
            body={"contacts": updates, "updateMask": "names", "readMask": "names"}
        ).execute()
    assert caught.value.status_code == 400
    contacts = emulator.account(target.token).contacts
    assert contacts[first["resourceName"]]["names"][0]["givenName"] == "Q1"


def test_connections_page_and_give_the_sync_token_on_the_last_page(target, create, people):
    target.require_emulator()
    names = {create(person(f"C{i}"))["resourceName"] for i in range(5)}
    items, pages = connections(people, pageSize=2, requestSyncToken=True)
    assert {item["resourceName"] for item in items} == names
    assert len(pages) == 3
    assert all("nextSyncToken" not in page for page in pages[:-1])
    assert "nextSyncToken" in pages[-1]


def test_connections_give_no_sync_token_unless_requested(people):
    _, pages = connections(people)
    assert "nextSyncToken" not in pages[-1]


def test_connections_require_person_fields(people):
    with pytest.raises(HttpError) as caught:
        people.people().connections().list(resourceName="people/me").execute()
    assert caught.value.status_code == 400


def test_an_incremental_connections_listing_marks_deleted_contacts(target, create, people):
    target.require_emulator()  # Google may take minutes to show writes to sync requests
    keep, change, remove = (create(person(n)) for n in ("Keep", "Change", "Remove"))
    _, pages = connections(people, requestSyncToken=True)
    people.people().updateContact(
        resourceName=change["resourceName"],
        updatePersonFields="names",
        body={"etag": change["etag"], "names": [{"givenName": "Changed"}]},
    ).execute()
    people.people().deleteContact(resourceName=remove["resourceName"]).execute()
    items, pages = connections(people, syncToken=pages[-1]["nextSyncToken"], requestSyncToken=True)
    by_name = {item["resourceName"]: item for item in items}
    assert keep["resourceName"] not in by_name
    assert by_name[change["resourceName"]]["names"][0]["givenName"] == "Changed"
    assert by_name[remove["resourceName"]]["metadata"]["deleted"] is True
    assert "nextSyncToken" in pages[-1]


def test_an_expired_people_sync_token_answers_400_expired_sync_token(target, people):
    emulator = target.require_emulator()
    _, pages = connections(people, requestSyncToken=True)
    emulator.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        connections(people, syncToken=pages[-1]["nextSyncToken"], requestSyncToken=True)
    assert caught.value.status_code == 400
    assert error_body(caught.value) == {
        "code": 400,
        "message": (
            "Sync token is expired. Clear local cache and retry call without the sync token."
        ),
        "status": "FAILED_PRECONDITION",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "EXPIRED_SYNC_TOKEN",
                "domain": "people.googleapis.com",
            }
        ],
    }
    assert caught.value.error_details[0]["reason"] == "EXPIRED_SYNC_TOKEN"
    assert reasons(caught.value) == {"EXPIRED_SYNC_TOKEN"}


def test_people_changes_reach_sync_only_after_the_propagation_delay(target, create, people):
    emulator = target.require_emulator()
    emulator.set_people_propagation_delay(0.5)
    _, pages = connections(people, requestSyncToken=True)
    token = pages[-1]["nextSyncToken"]
    created = create(person("Late"))
    fetched = people.people().get(resourceName=created["resourceName"], personFields="names")
    assert fetched.execute()["resourceName"] == created["resourceName"]
    early, pages = connections(people, syncToken=token, requestSyncToken=True)
    assert early == []
    time.sleep(0.55)
    late, _ = connections(people, syncToken=pages[-1]["nextSyncToken"], requestSyncToken=True)
    assert [item["resourceName"] for item in late] == [created["resourceName"]]


def test_only_people_me_has_connections(people):
    with pytest.raises(HttpError) as caught:
        people.people().connections().list(resourceName="people/c1", personFields="names").execute()
    assert caught.value.status_code == 400

"""``people_listing_etags="refused"``: as Google's (google-api-python-client issue #1169), an
etag read from ``people.connections.list`` is refused by updateContact with 400
``FAILED_PRECONDITION`` ("Request person.etag is different than the current person.etag"),
while the etag of ``people.get`` is accepted. Off by default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_people_service
from calsync.testing.emulator import GoogleEmulator

from .emulator_support import error_body

pytestmark = pytest.mark.emulator

FIELDS = "names,metadata"


@pytest.fixture(scope="module")
def strict() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(people_listing_etags="refused") as google:
        yield google


def listed_and_got(google: GoogleEmulator) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    people = build_people_service(Credentials(token="alice"), base_url=google.base_url)
    created = people.people().createContact(body={"names": [{"givenName": "Ann"}]}).execute()
    name = created["resourceName"]
    page = (
        people.people()
        .connections()
        .list(resourceName="people/me", personFields=FIELDS, requestSyncToken=True)
        .execute()
    )
    [listed] = [p for p in page["connections"] if p["resourceName"] == name]
    got = people.people().get(resourceName=name, personFields=FIELDS).execute()
    return people, listed, got


def rename(people: Any, name: str, etag: str, given: str) -> dict[str, Any]:
    body = {"etag": etag, "names": [{"givenName": given}]}
    request = people.people().updateContact(
        resourceName=name, updatePersonFields="names", body=body
    )
    return dict(request.execute())


def test_a_listing_etag_is_refused_and_the_etag_of_get_accepted(strict: GoogleEmulator) -> None:
    people, listed, got = listed_and_got(strict)
    name = got["resourceName"]

    assert listed["etag"] != got["etag"]
    assert listed["metadata"]["sources"][0]["etag"] == listed["etag"]
    with pytest.raises(HttpError) as caught:
        rename(people, name, listed["etag"], "Bea")
    assert caught.value.resp.status == 400
    body = error_body(caught.value)
    assert body["status"] == "FAILED_PRECONDITION"
    assert body["message"].startswith("Request person.etag is different than the current")
    assert rename(people, name, got["etag"], "Bea")["names"][0]["givenName"] == "Bea"


def test_a_batch_update_with_a_listing_etag_is_refused(strict: GoogleEmulator) -> None:
    people, listed, got = listed_and_got(strict)

    def batch_rename(etag: str) -> Any:
        person = {"etag": etag, "names": [{"givenName": "B"}]}
        body = {"contacts": {got["resourceName"]: person}, "updateMask": "names", "readMask": ""}
        return people.people().batchUpdateContacts(body=body).execute()

    with pytest.raises(HttpError) as caught:
        batch_rename(listed["etag"])
    assert caught.value.resp.status == 400
    assert batch_rename(got["etag"])["updateResult"]


def test_listing_etags_are_accepted_by_default(emulator: GoogleEmulator) -> None:
    people, listed, got = listed_and_got(emulator)

    assert listed["etag"] == got["etag"]
    assert rename(people, got["resourceName"], listed["etag"], "Bea")["etag"] != got["etag"]


def test_the_standalone_emulator_takes_the_option() -> None:
    from calsync.testing.emulator.__main__ import _parser

    args = _parser().parse_args(["--people-listing-etags", "refused"])

    assert args.people_listing_etags == "refused"

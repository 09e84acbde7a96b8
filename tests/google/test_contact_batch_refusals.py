"""A ``batchCreateContacts`` refused because of one person in it: the other creates are
replayed one at a time, while an ambiguous failure of the batch is never replayed.

On the emulator with the real google-api-python-client. The emulator accepts any phone
number, so :func:`refuse_phone` wraps its create handlers to refuse, as Google does, any
request carrying a person with a chosen phone: 400 ``INVALID_ARGUMENT`` for the whole call,
nothing created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import pytest
from google.oauth2.credentials import Credentials

from calsync import Phone, Side
from calsync.backends import CreateContact, RemoteContact, WriteResult
from calsync.errors import (
    InvalidRequest,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    TransientError,
)
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_people_service
from calsync.model import ContactFields, Marker
from calsync.testing.emulator import GoogleEmulator
from calsync.testing.emulator.context import HANDLERS, CallContext, Handler, Result
from calsync.testing.emulator.errors import invalid_argument, reason_error

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator

BATCH_CREATE = "people.people.batchCreateContacts"
CREATE = "people.people.createContact"
BAD_PHONE = "+44 20 7946 0999"
GOOD_PHONE = "+44 20 7946 0001"
NAMES = ["Ann", "Bea", "Cy", "Dee", "Eve"]
BAD = 2  # Cy's phone is refused


def _phones(person: Any) -> list[str]:
    if not isinstance(person, dict):
        return []
    return [str(p.get("value")) for p in person.get("phoneNumbers") or [] if isinstance(p, dict)]


def refuse_phone(monkeypatch: pytest.MonkeyPatch, phone: str) -> list[str]:
    """Make the emulator refuse, with 400 ``INVALID_ARGUMENT``, every ``createContact`` or
    ``batchCreateContacts`` carrying a person whose phone is ``phone`` (the whole call, before
    anything is created). Returns the log of refused calls (method ids)."""
    refused: list[str] = []

    def wrap(method_id: str, original: Handler) -> Handler:
        def refusing(ctx: CallContext) -> Result:
            body = ctx.body if isinstance(ctx.body, dict) else {}
            if method_id == BATCH_CREATE:
                people = [(c or {}).get("contactPerson") for c in body.get("contacts") or []]
            else:
                people = [body]
            if any(phone in _phones(person) for person in people):
                refused.append(method_id)
                raise invalid_argument("Invalid phone number")
            return original(ctx)

        return refusing

    for method_id in (BATCH_CREATE, CREATE):
        monkeypatch.setitem(HANDLERS, method_id, wrap(method_id, HANDLERS[method_id]))
    return refused


def fail_after_creating(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    """Make the next ``batchCreateContacts`` create its contacts, then answer ``status``
    (the answer lost on the way: Google did the work, the client cannot know)."""
    original = HANDLERS[BATCH_CREATE]
    fired: list[bool] = []

    def lossy(ctx: CallContext) -> Result:
        result = original(ctx)
        if fired:
            return result
        fired.append(True)
        raise reason_error(status, "backendError")

    monkeypatch.setitem(HANDLERS, BATCH_CREATE, lossy)


def creates(bad: int | None = BAD) -> list[CreateContact]:
    writes = []
    for number, name in enumerate(NAMES):
        phone = BAD_PHONE if number == bad else GOOD_PHONE
        fields = ContactFields(given_name=name, family_name="Smith", phones=(Phone(phone),))
        writes.append(CreateContact(fields, Marker("studio.u7", f"c{number}", made=f"t{number}")))
    return writes


def backend_for(google: GoogleEmulator, token: str, pacer: QuotaPacer) -> GoogleContactsBackend:
    service = build_people_service(Credentials(token=token), base_url=google.base_url)
    return GoogleContactsBackend(service, pacer=pacer, retrying=no_wait_retrying())


def stored_names(google: GoogleEmulator, token: str) -> list[str]:
    people = google.account(token).contacts.values()
    return sorted(p["names"][0]["givenName"] for p in people if not p.get("deleted"))


def names_of(results: list[WriteResult[RemoteContact]]) -> list[str | None]:
    return [
        r.item.fields.given_name if r.item is not None and r.item.fields is not None else None
        for r in results
    ]


def test_one_refused_person_fails_alone_and_the_others_are_created_once(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = refuse_phone(monkeypatch, BAD_PHONE)
    pacer = QuotaPacer(600, 60.0)
    backend = backend_for(google, token, pacer)
    group = backend.ensure_group("Weddings")
    google.reset_stats()
    admitted = pacer.admitted

    results = backend.write_contacts(group, creates())

    assert names_of(results) == ["Ann", "Bea", None, "Dee", "Eve"]
    assert [r.error is None for r in results] == [True, True, False, True, True]
    error = results[BAD].error
    assert isinstance(error, InvalidRequest)
    assert "Invalid phone number" in str(error)
    assert stored_names(google, token) == ["Ann", "Bea", "Dee", "Eve"]  # each exactly once
    assert refused == [BATCH_CREATE, CREATE]
    methods = google.stats()["methods"]
    assert (methods[BATCH_CREATE], methods[CREATE]) == (1, len(NAMES))
    # the replayed creates are paced like any call: the batch's 5 units, then one each
    assert pacer.admitted - admitted == 2 * len(NAMES)


def test_the_replayed_creates_carry_the_marker_and_the_group(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_phone(monkeypatch, BAD_PHONE)
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")

    results = backend.write_contacts(group, creates())

    made = [r.item for r in results if r.item is not None]
    assert [c.marker for c in made] == [w.marker for i, w in enumerate(creates()) if i != BAD]
    assert all(c.in_group for c in made)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"status": 500}, TransientError),
        ({"status": 503}, TransientError),
        ({"reset": True}, TransientError),
        ({"status": 429, "count": 6}, RateLimited),  # every try of the policy
        ({"status": 403, "reason": "quotaExceeded"}, QuotaExceeded),
        ({"status": 403, "reason": "forbidden"}, PermissionDenied),
    ],
    ids=["500", "503", "reset", "rate-limited", "quota", "forbidden"],
)
def test_a_batch_create_that_fails_otherwise_is_not_replayed(
    google: GoogleEmulator,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    fault: dict[str, Any],
    kind: type[Exception],
) -> None:
    refuse_phone(monkeypatch, BAD_PHONE)
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")
    google.reset_stats()
    google.inject_fault(api_method=BATCH_CREATE, **fault)

    results = backend.write_contacts(group, creates(bad=None))

    assert all(isinstance(r.error, kind) for r in results), results
    assert CREATE not in google.stats()["methods"]
    assert stored_names(google, token) == []


def test_a_batch_create_lost_after_google_made_the_contacts_makes_no_copies(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_after_creating(monkeypatch, 500)
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")
    google.reset_stats()

    results = backend.write_contacts(group, creates(bad=None))

    assert all(isinstance(r.error, TransientError) for r in results), results
    assert google.stats()["methods"] == {BATCH_CREATE: 1}
    assert stored_names(google, token) == sorted(NAMES)  # once each: the intents adopt them


def test_a_rate_limited_batch_create_is_retried_whole(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")
    google.reset_stats()
    google.inject_fault(429, api_method=BATCH_CREATE, count=1)

    results = backend.write_contacts(group, creates(bad=None))

    assert names_of(results) == NAMES
    assert google.stats()["methods"] == {BATCH_CREATE: 2}
    assert stored_names(google, token) == sorted(NAMES)


def test_a_replay_stops_at_a_rate_limit_and_sends_nothing_more(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_phone(monkeypatch, BAD_PHONE)
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")
    google.reset_stats()
    google.inject_fault(429, api_method=CREATE, count=6)  # every try of Ann's create

    results = backend.write_contacts(group, creates())

    assert all(isinstance(r.error, RateLimited) for r in results), results
    assert google.stats()["methods"] == {BATCH_CREATE: 1, CREATE: 6}
    assert stored_names(google, token) == []


def test_a_replayed_create_that_fails_ambiguously_is_not_retried_and_the_rest_go_on(
    google: GoogleEmulator, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_phone(monkeypatch, BAD_PHONE)
    backend = backend_for(google, token, QuotaPacer(600, 60.0))
    group = backend.ensure_group("Weddings")
    google.reset_stats()
    google.inject_fault(500, api_method=CREATE, count=1)  # Ann's single create

    results = backend.write_contacts(group, creates())

    assert isinstance(results[0].error, TransientError)
    assert isinstance(results[BAD].error, InvalidRequest)
    assert names_of(results) == [None, "Bea", None, "Dee", "Eve"]
    assert google.stats()["methods"] == {BATCH_CREATE: 1, CREATE: len(NAMES)}
    assert stored_names(google, token) == ["Bea", "Dee", "Eve"]


def test_one_refused_client_no_longer_keeps_the_others_out_of_google(
    world: MakeWorld, studio: StudioBuilders, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_phone(monkeypatch, BAD_PHONE)
    w = world()
    for number, name in enumerate(NAMES):
        client = studio.client(f"c{number}", given=name)
        if number == BAD:
            assert client.fields is not None
            fields = attrs.evolve(client.fields, phones=(Phone(BAD_PHONE),))
            client = attrs.evolve(client, fields=fields)
        w.clients.add(studio.user, client, groups=[studio.group])

    first = w.sync()
    second = w.sync()

    assert first.count(Side.REMOTE, "created") == len(NAMES) - 1
    assert [e.item for e in first.errors] == [f"c{BAD}"]
    assert "Invalid phone number" in first.errors[0].message
    assert second.count(Side.REMOTE, "created") == 0
    assert [e.item for e in second.errors] == [f"c{BAD}"]
    members = w.group_members()
    assert sorted(p["names"][0]["givenName"] for p in members.values()) == [
        "Ann",
        "Bea",
        "Dee",
        "Eve",
    ]

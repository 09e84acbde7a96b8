"""People v1 contacts: get, create, update, delete, their batch forms and connections.list."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import failed_precondition, invalid_argument, not_found
from calsync.testing.emulator.listing import finish, next_sync_token, open_cursor, page_through
from calsync.testing.emulator.people_model import (
    UPDATE_FIELDS,
    check_creatable,
    clean_input,
    default_memberships,
    new_resource_name,
    parse_mask,
    person_tombstone,
    read_mask,
    render_person,
    request_etag,
    source_id_of,
    stamp_person,
)
from calsync.testing.emulator.state import Account, EmulatorState, StoredPerson
from calsync.testing.emulator.tokens import PEOPLE_SYNC_TTL, Key

logger = logging.getLogger(__name__)

PAGE_DEFAULT = 100
PAGE_MAX = 1000
BATCH_MUTATE_MAX = 200
BATCH_DELETE_MAX = 500
STALE_ETAG = (
    "Request person.etag is different than the current person.etag. "
    "Clear local cache and get the latest person."
)
MISSING_ETAG = (
    "Request must set person.etag or person.metadata.sources.etag for the source that is "
    "being updated."
)


def find_person(account: Account, resource_name: str) -> StoredPerson:
    """A live contact by resource name; 404 ``NOT_FOUND`` otherwise."""
    stored = account.people.get(resource_name)
    if stored is None or stored.deleted:
        raise not_found("people")
    return stored


def create_person(state: EmulatorState, account: Account, body: dict[str, Any]) -> StoredPerson:
    """Store a new contact (in ``myContacts`` unless memberships are given)."""
    name, source_id = new_resource_name()
    while name in account.people:
        name, source_id = new_resource_name()
    check_creatable(body)
    fields = clean_input(account, body, UPDATE_FIELDS, source_id)
    fields.setdefault("memberships", default_memberships(source_id))
    resource = {
        "resourceName": name,
        "metadata": {"sources": [{"type": "CONTACT", "id": source_id}], "objectType": "PERSON"},
        **fields,
    }
    stored = StoredPerson(resource, 0, 0.0)
    stamp_person(state, stored)
    account.people[name] = stored
    return stored


def check_update(account: Account, name: str, body: dict[str, Any]) -> StoredPerson:
    """The contact an update targets, after the etag checks (missing or stale gives 400)."""
    stored = find_person(account, name)
    etag = request_etag(body)
    if etag is None:
        raise invalid_argument(MISSING_ETAG)
    if etag != stored.resource["etag"]:
        raise failed_precondition(STALE_ETAG)
    return stored


def apply_update(
    state: EmulatorState,
    account: Account,
    stored: StoredPerson,
    body: dict[str, Any],
    mask: frozenset[str],
) -> None:
    """Replace the masked fields (a masked field absent from the body is cleared)."""
    if "memberships" in mask and not body.get("memberships"):
        raise invalid_argument("Contact must have at least one contact group membership.")
    fields = clean_input(account, body, mask, source_id_of(stored.resource))
    for name in mask:
        stored.resource.pop(name, None)
    stored.resource.update(fields)
    stamp_person(state, stored)


def rename_person(
    state: EmulatorState, account: Account, resource_name: str, new_name: str | None = None
) -> StoredPerson:
    """Give a live contact a new resource name, as Google does when it links the contact to
    a profile (a verified email or phone number added, say): the person keeps everything
    else, lists its former names in ``metadata.previousResourceNames`` and is listed as
    changed under its new name; the old name answers 404 from then on (and no tombstone is
    listed for it). 404 for an unknown contact, 400 when ``new_name`` is taken."""
    stored = find_person(account, resource_name)
    if new_name is None:
        new_name, _ = new_resource_name()
        while new_name in account.people:
            new_name, _ = new_resource_name()
    elif new_name in account.people or not new_name.startswith("people/"):
        raise invalid_argument(f"Resource name {new_name} cannot be given to a contact.")
    del account.people[resource_name]
    metadata = stored.resource["metadata"]
    metadata["previousResourceNames"] = [
        *metadata.get("previousResourceNames", ()),
        resource_name,
    ]
    stored.resource["resourceName"] = new_name
    account.people[new_name] = stored
    stamp_person(state, stored)
    return stored


@handler("people.people.get")
def get_person(ctx: CallContext) -> Result:
    """A contact, or the user's own profile for ``people/me``."""
    mask = read_mask(ctx.params, required=True)
    if ctx.path["peopleId"] == "me":
        return _me(ctx.account, mask)
    stored = find_person(ctx.account, f"people/{ctx.path['peopleId']}")
    return render_person(stored.resource, mask)


def _me(account: Account, mask: frozenset[str] | None) -> dict[str, Any]:
    profile = {
        "resourceName": "people/me",
        "etag": EmulatorState.people_etag(0),
        "names": [{"displayName": account.email.split("@")[0]}],
        "emailAddresses": [{"value": account.email}],
        "metadata": {"sources": [{"type": "PROFILE", "id": "me"}], "objectType": "PERSON"},
    }
    return render_person(profile, mask)


@handler("people.people.createContact")
def create_contact(ctx: CallContext) -> Result:
    """Create a contact."""
    mask = read_mask(ctx.params, required=False)
    stored = create_person(ctx.state, ctx.account, ctx.body or {})
    return render_person(stored.resource, mask)


@handler("people.people.updateContact")
def update_contact(ctx: CallContext) -> Result:
    """Update a contact; ``updatePersonFields`` and a current etag are required."""
    mask = parse_mask(
        "updatePersonFields", ctx.param("updatePersonFields"), UPDATE_FIELDS, required=True
    )
    assert mask is not None
    body: dict[str, Any] = ctx.body or {}
    stored = check_update(ctx.account, f"people/{ctx.path['peopleId']}", body)
    apply_update(ctx.state, ctx.account, stored, body, mask)
    return render_person(stored.resource, read_mask(ctx.params, required=False))


@handler("people.people.deleteContact")
def delete_contact(ctx: CallContext) -> Result:
    """Delete a contact (kept as a tombstone for incremental sync)."""
    stored = find_person(ctx.account, f"people/{ctx.path['peopleId']}")
    stored.deleted = True
    stamp_person(ctx.state, stored)
    return {}


@handler("people.people.getBatchGet")
def batch_get(ctx: CallContext) -> Result:
    """Up to 200 people by resource name."""
    mask = read_mask(ctx.params, required=True)
    names = ctx.param("resourceNames") or []
    if not names or len(names) > BATCH_MUTATE_MAX:
        raise invalid_argument("resourceNames must contain between 1 and 200 names.")
    responses = []
    for name in names:
        stored = ctx.account.people.get(name)
        if stored is None or stored.deleted:
            status = {"code": 5, "message": "Requested entity was not found."}
            responses.append(
                {"requestedResourceName": name, "httpStatusCode": 404, "status": status}
            )
        else:
            person = render_person(stored.resource, mask)
            responses.append(
                {
                    "requestedResourceName": name,
                    "httpStatusCode": 200,
                    "person": person,
                    "status": {},
                }
            )
    return {"responses": responses}


@handler("people.people.batchCreateContacts")
def batch_create(ctx: CallContext) -> Result:
    """Create up to 200 contacts in one call."""
    body: dict[str, Any] = ctx.body or {}
    contacts = body.get("contacts") or []
    if not contacts or len(contacts) > BATCH_MUTATE_MAX:
        raise invalid_argument("contacts must contain between 1 and 200 contacts.")
    mask = _batch_read_mask(body)
    people = [(entry or {}).get("contactPerson") or {} for entry in contacts]
    for person in people:
        check_creatable(person)
        clean_input(ctx.account, person, UPDATE_FIELDS, "0")
    created = []
    for person in people:
        stored = create_person(ctx.state, ctx.account, person)
        created.append(_person_response(stored, mask))
    return {"createdPeople": created}


@handler("people.people.batchUpdateContacts")
def batch_update(ctx: CallContext) -> Result:
    """Update up to 200 contacts atomically (every etag is checked first)."""
    body: dict[str, Any] = ctx.body or {}
    contacts: dict[str, Any] = body.get("contacts") or {}
    if not contacts or len(contacts) > BATCH_MUTATE_MAX:
        raise invalid_argument("contacts must contain between 1 and 200 contacts.")
    mask = parse_mask("updateMask", body.get("updateMask"), UPDATE_FIELDS, required=True)
    assert mask is not None
    read = _batch_read_mask(body)
    checked = {name: check_update(ctx.account, name, p or {}) for name, p in contacts.items()}
    results = {}
    for name, stored in checked.items():
        apply_update(ctx.state, ctx.account, stored, contacts[name] or {}, mask)
        results[name] = {"requestedResourceName": name, **_person_response(stored, read)}
    return {"updateResult": results}


@handler("people.people.batchDeleteContacts")
def batch_delete(ctx: CallContext) -> Result:
    """Delete up to 500 contacts atomically."""
    names = (ctx.body or {}).get("resourceNames") or []
    if not names or len(names) > BATCH_DELETE_MAX:
        raise invalid_argument("resourceNames must contain between 1 and 500 names.")
    targets = [find_person(ctx.account, name) for name in names]
    for stored in targets:
        if not stored.deleted:
            stored.deleted = True
            stamp_person(ctx.state, stored)
    return {}


def _batch_read_mask(body: dict[str, Any]) -> frozenset[str] | None:
    if "readMask" not in body:
        raise invalid_argument("readMask is required.")
    if not body["readMask"]:
        return frozenset()
    return read_mask({"personFields": body["readMask"]}, required=True)


def _person_response(stored: StoredPerson, mask: frozenset[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"httpStatusCode": 200, "status": {}}
    if mask:
        out["person"] = render_person(stored.resource, mask)
    return out


def _sort_key(order: str) -> Callable[[StoredPerson], Key]:
    """Keyset order for connections: by change sequence or by a name part."""
    part = {"FIRST_NAME_ASCENDING": "givenName", "LAST_NAME_ASCENDING": "familyName"}.get(order)
    sign = -1 if order == "LAST_MODIFIED_DESCENDING" else 1

    def key(stored: StoredPerson) -> Key:
        name = stored.resource["resourceName"]
        if part is None:
            return (sign * stored.seq, name)
        names = stored.resource.get("names") or [{}]
        return (str(names[0].get(part, "")).lower(), name)

    return key


def _sync_high_water(ctx: CallContext) -> int:
    """The newest sequence below every change still hidden by the propagation delay."""
    now = ctx.state.monotonic()
    pending = [s.seq for s in ctx.account.people.values() if s.visible_at > now]
    return min(pending) - 1 if pending else ctx.state.seq


@handler("people.people.connections.list")
def list_connections(ctx: CallContext) -> Result:
    """The user's contacts, paged; incremental with a sync token (tombstones included)."""
    if ctx.path["peopleId"] != "me":
        raise invalid_argument("Only people/me is valid for connections.")
    mask = read_mask(ctx.params, required=True)
    size = int(ctx.param("pageSize", 0)) or PAGE_DEFAULT
    if size < 0 or size > PAGE_MAX:
        raise invalid_argument("pageSize must be between 1 and 1000.")
    scope = f"people|{ctx.account.email}"
    cursor = open_cursor(ctx, scope, ttl=PEOPLE_SYNC_TTL, high_water=_sync_high_water(ctx))
    people = list(ctx.account.people.values())
    if cursor.sync is not None:
        since = cursor.sync.seq
        chosen = [s for s in people if since < s.seq <= cursor.high_water]
        key = _sort_key("LAST_MODIFIED_ASCENDING")
    else:
        chosen = [s for s in people if not s.deleted]
        key = _sort_key(ctx.param("sortOrder", "LAST_MODIFIED_ASCENDING"))
    items, page_token = page_through(cursor, chosen, key, size)
    connections = [
        _listed(ctx.state, s, person_tombstone(s.resource) if s.deleted else None, mask)
        for s in items
    ]
    body: dict[str, Any] = {"connections": connections, "totalItems": len(chosen)}
    if not connections:
        del body["connections"]
    # "Sync tokens expire 7 days after the full sync": incremental ones do not restart that
    token = partial(next_sync_token, ctx, cursor, scope, expires_from_full_sync=True)
    return finish(body, page_token, token if ctx.param("requestSyncToken") else None)


def _listed(
    state: EmulatorState,
    stored: StoredPerson,
    tombstone: dict[str, Any] | None,
    mask: frozenset[str] | None,
) -> dict[str, Any]:
    """A contact as a listing shows it. With ``people_listing_etags="refused"`` it carries an
    etag of the listing's own (top level and on its CONTACT source), which updates refuse as
    stale, as Google's (google-api-python-client issue #1169); get and batchGet give the one
    they accept."""
    person = tombstone if tombstone is not None else render_person(stored.resource, mask)
    if state.people_listing_etags == "accepted":
        return person
    etag = EmulatorState.people_listing_etag(stored.seq)
    person["etag"] = etag
    if "metadata" in person:
        metadata = person["metadata"] = dict(person["metadata"])
        sources = metadata.get("sources") or []
        metadata["sources"] = [
            {**source, "etag": etag} if "etag" in source else source for source in sources
        ]
    return person

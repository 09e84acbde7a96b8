"""People v1 ``contactGroups``: create, list (incremental too), get, update, delete, members."""

from __future__ import annotations

import logging
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import (
    already_exists,
    failed_precondition,
    invalid_argument,
    not_found,
)
from calsync.testing.emulator.listing import finish, next_sync_token, open_cursor, page_through
from calsync.testing.emulator.people import find_person
from calsync.testing.emulator.people_model import parse_mask, stamp_person
from calsync.testing.emulator.state import Account, EmulatorState, StoredGroup, StoredPerson, new_id
from calsync.testing.emulator.tokens import PEOPLE_SYNC_TTL

logger = logging.getLogger(__name__)

GROUP_FIELDS = frozenset({"clientData", "groupType", "memberCount", "metadata", "name"})
UPDATE_FIELDS = frozenset({"clientData", "name"})
CREATE_DEFAULT = frozenset({"metadata", "groupType", "name"})
READ_DEFAULT = frozenset({"metadata", "groupType", "memberCount", "name"})
PAGE_DEFAULT = 30
PAGE_MAX = 1000
MODIFY_MAX = 1000
ADDABLE_SYSTEM = frozenset({"contactGroups/myContacts", "contactGroups/starred"})


def _mask(name: str, text: str | None, default: frozenset[str]) -> frozenset[str]:
    return parse_mask(name, text, GROUP_FIELDS, required=False) or default


def members_of(account: Account, group_name: str) -> list[str]:
    """Resource names of the live contacts in a group."""
    return sorted(
        name
        for name, person in account.people.items()
        if not person.deleted and group_name in _group_names(person)
    )


def _group_names(person: StoredPerson) -> list[str]:
    return [
        m["contactGroupMembership"]["contactGroupResourceName"]
        for m in person.resource.get("memberships", [])
        if "contactGroupMembership" in m
    ]


def render_group(
    account: Account, stored: StoredGroup, mask: frozenset[str], max_members: int = 0
) -> dict[str, Any]:
    """The ContactGroup JSON with the masked fields."""
    resource = stored.resource
    out: dict[str, Any] = {"resourceName": resource["resourceName"], "etag": resource["etag"]}
    if "name" in mask:
        out.update(name=resource["name"], formattedName=resource["formattedName"])
    if "groupType" in mask:
        out["groupType"] = resource["groupType"]
    if "metadata" in mask:
        out["metadata"] = dict(
            resource["metadata"], **({"deleted": True} if stored.deleted else {})
        )
    if "clientData" in mask and resource.get("clientData"):
        out["clientData"] = resource["clientData"]
    members = members_of(account, resource["resourceName"]) if not stored.deleted else []
    if "memberCount" in mask and members:
        out["memberCount"] = len(members)
    if max_members and members:
        out["memberResourceNames"] = members[:max_members]
    return out


def _find_group(account: Account, name: str) -> StoredGroup:
    stored = account.groups.get(name)
    if stored is None or stored.deleted:
        raise not_found("people")
    return stored


def _stamp(state: EmulatorState, stored: StoredGroup) -> None:
    stored.seq = state.next_seq()
    stored.resource["etag"] = EmulatorState.people_etag(stored.seq)
    stored.resource["metadata"] = {"updateTime": state.timestamp()}


def _check_name(account: Account, name: Any, own: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("Contact group name must not be empty.")
    for other in account.groups.values():
        taken = not other.deleted and not other.system and other.resource["name"] == name
        if taken and other.resource["resourceName"] != own:
            raise already_exists("Contact group name already exists.")
    return name


@handler("people.contactGroups.create")
def create_group(ctx: CallContext) -> Result:
    """Create a user contact group; a name already used gives 409."""
    body: dict[str, Any] = ctx.body or {}
    group = body.get("contactGroup") or {}
    name = _check_name(ctx.account, group.get("name"))
    resource_name = f"contactGroups/{new_id(16)}"
    resource = {
        "resourceName": resource_name,
        "groupType": "USER_CONTACT_GROUP",
        "name": name,
        "formattedName": name,
    }
    if group.get("clientData"):
        resource["clientData"] = group["clientData"]
    stored = StoredGroup(resource, 0)
    _stamp(ctx.state, stored)
    ctx.account.groups[resource_name] = stored
    mask = _mask("readGroupFields", body.get("readGroupFields"), CREATE_DEFAULT)
    return render_group(ctx.account, stored, mask)


@handler("people.contactGroups.get")
def get_group(ctx: CallContext) -> Result:
    """One contact group, with up to ``maxMembers`` member names."""
    stored = _find_group(ctx.account, f"contactGroups/{ctx.path['contactGroupsId']}")
    mask = _mask("groupFields", ctx.param("groupFields"), READ_DEFAULT)
    return render_group(ctx.account, stored, mask, int(ctx.param("maxMembers", 0)))


@handler("people.contactGroups.batchGet")
def batch_get_groups(ctx: CallContext) -> Result:
    """Several contact groups by resource name."""
    mask = _mask("groupFields", ctx.param("groupFields"), READ_DEFAULT)
    responses = []
    for name in ctx.param("resourceNames") or []:
        stored = _find_group(ctx.account, name)
        group = render_group(ctx.account, stored, mask, int(ctx.param("maxMembers", 0)))
        responses.append({"requestedResourceName": name, "contactGroup": group, "status": {}})
    return {"responses": responses}


@handler("people.contactGroups.list")
def list_groups(ctx: CallContext) -> Result:
    """All contact groups (system ones included), paged; incremental with a sync token."""
    mask = _mask("groupFields", ctx.param("groupFields"), READ_DEFAULT)
    size = int(ctx.param("pageSize", 0)) or PAGE_DEFAULT
    if size < 0 or size > PAGE_MAX:
        raise invalid_argument("pageSize must be between 1 and 1000.")
    scope = f"groups|{ctx.account.email}"
    cursor = open_cursor(ctx, scope, ttl=PEOPLE_SYNC_TTL)
    groups = list(ctx.account.groups.values())
    if cursor.sync is not None:
        chosen = [g for g in groups if cursor.sync.seq < g.seq <= cursor.high_water]
    else:
        chosen = [g for g in groups if not g.deleted]
    items, page_token = page_through(cursor, chosen, lambda g: (g.resource["resourceName"],), size)
    body: dict[str, Any] = {
        "contactGroups": [render_group(ctx.account, g, mask) for g in items],
        "totalItems": len(chosen),
    }
    return finish(body, page_token, lambda: next_sync_token(ctx, cursor, scope))


@handler("people.contactGroups.update")
def update_group(ctx: CallContext) -> Result:
    """Rename a user group or replace its clientData (a stale etag gives 400)."""
    stored = _find_group(ctx.account, f"contactGroups/{ctx.path['contactGroupsId']}")
    if stored.system:
        raise invalid_argument("System contact groups cannot be updated.")
    body: dict[str, Any] = ctx.body or {}
    group = body.get("contactGroup") or {}
    if group.get("etag") and group["etag"] != stored.resource["etag"]:
        raise failed_precondition("Request contactGroup.etag is different than the current etag.")
    fields = _mask("updateGroupFields", body.get("updateGroupFields"), frozenset({"name"}))
    if not fields <= UPDATE_FIELDS:
        raise invalid_argument("updateGroupFields may only contain name and clientData.")
    if "name" in fields:
        name = _check_name(ctx.account, group.get("name"), stored.resource["resourceName"])
        stored.resource.update(name=name, formattedName=name)
    if "clientData" in fields:
        stored.resource["clientData"] = group.get("clientData") or []
    _stamp(ctx.state, stored)
    mask = _mask("readGroupFields", body.get("readGroupFields"), CREATE_DEFAULT)
    return render_group(ctx.account, stored, mask)


@handler("people.contactGroups.delete")
def delete_group(ctx: CallContext) -> Result:
    """Delete a user group; its contacts too with ``deleteContacts=true``."""
    name = f"contactGroups/{ctx.path['contactGroupsId']}"
    stored = _find_group(ctx.account, name)
    if stored.system:
        raise invalid_argument("System contact groups cannot be deleted.")
    for member in members_of(ctx.account, name):
        person = ctx.account.people[member]
        if ctx.param("deleteContacts"):
            person.deleted = True
        else:
            _set_groups(person, [g for g in _group_names(person) if g != name])
        stamp_person(ctx.state, person)
    stored.deleted = True
    _stamp(ctx.state, stored)
    return {}


def _set_groups(person: StoredPerson, names: list[str]) -> None:
    source = person.resource["metadata"]["sources"][0]
    person.resource["memberships"] = [
        {
            "metadata": {"source": {"type": "CONTACT", "id": source["id"]}},
            "contactGroupMembership": {
                "contactGroupId": name.split("/", 1)[1],
                "contactGroupResourceName": name,
            },
        }
        for name in names
    ]


@handler("people.contactGroups.members.modify")
def modify_members(ctx: CallContext) -> Result:
    """Add and remove contacts; unknown names and last-group removals are reported."""
    name = f"contactGroups/{ctx.path['contactGroupsId']}"
    stored = _find_group(ctx.account, name)
    if stored.system and name not in ADDABLE_SYSTEM:
        raise invalid_argument(f"Cannot modify the members of {name}.")
    body: dict[str, Any] = ctx.body or {}
    adds, removes = body.get("resourceNamesToAdd") or [], body.get("resourceNamesToRemove") or []
    if len(adds) + len(removes) > MODIFY_MAX:
        raise invalid_argument("At most 1000 resource names can be modified at once.")
    not_found_names: list[str] = []
    last_group: list[str] = []
    for person_name, adding in [(n, True) for n in adds] + [(n, False) for n in removes]:
        person = ctx.account.people.get(person_name)
        if person is None or person.deleted:
            not_found_names.append(person_name)
            continue
        groups = _group_names(person)
        if adding and name not in groups:
            _set_groups(person, [*groups, name])
        elif not adding and name in groups:
            if len(groups) == 1:
                last_group.append(person_name)
                continue
            _set_groups(person, [g for g in groups if g != name])
        else:
            continue
        stamp_person(ctx.state, find_person(ctx.account, person_name))
    out: dict[str, Any] = {}
    if not_found_names:
        out["notFoundResourceNames"] = not_found_names
    if last_group:
        out["canNotRemoveLastContactGroupResourceNames"] = last_group
    return out

"""Person resources: field masks, input validation, server decoration and rendering."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable
from typing import Any

from calsync.testing.emulator.errors import ApiError, invalid_argument
from calsync.testing.emulator.state import Account, EmulatorState, StoredPerson

logger = logging.getLogger(__name__)

UPDATE_FIELDS = frozenset(
    [
        "addresses",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "memberships",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "relations",
        "sipAddresses",
        "urls",
        "userDefined",
    ]
)
READ_FIELDS = UPDATE_FIELDS | {"ageRanges", "coverPhotos", "metadata", "photos", "skills"}
SINGLETONS = ("biographies", "birthdays", "genders", "names")
OUTPUT_ONLY = frozenset({"resourceName", "etag", "metadata"})
MASK_DOC = "https://developers.google.com/people/api/rest/v1/people/get"
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,}$")


def parse_mask(
    name: str, text: str | None, allowed: frozenset[str], *, required: bool
) -> frozenset[str] | None:
    """A comma-separated field mask; None when absent and not required."""
    if not text:
        if required:
            raise invalid_argument(
                f"{name} mask is required. Please specify one or more valid paths. "
                f"Valid paths are documented at {MASK_DOC}."
            )
        return None
    paths = {path.strip().removeprefix("person.") for path in text.split(",") if path.strip()}
    for path in sorted(paths):
        if path not in allowed:
            raise invalid_argument(
                f'Invalid {name} mask path: "{path}". Valid paths are documented at {MASK_DOC}.'
            )
    return frozenset(paths)


def read_mask(params: dict[str, Any], *, required: bool) -> frozenset[str] | None:
    """``personFields`` (or the older ``requestMask.includeField``) of a read."""
    text = params.get("personFields") or params.get("requestMask.includeField")
    return parse_mask("personFields", text, READ_FIELDS, required=required)


def new_resource_name() -> tuple[str, str]:
    """A new contact's ``people/c<digits>`` name and its CONTACT source id (hex)."""
    number = random.randrange(10**18, 10**19)
    return f"people/c{number}", f"{number:x}"


def check_creatable(body: dict[str, Any]) -> None:
    """A new contact may only carry writable fields (read-only ones such as photos: 400)."""
    for key in body:
        if key not in UPDATE_FIELDS and key not in OUTPUT_ONLY:
            raise invalid_argument(f"Person field {key} cannot be set by a contact mutation.")


def clean_input(
    account: Account, body: dict[str, Any], fields: Iterable[str], source_id: str
) -> dict[str, Any]:
    """Validate and decorate the given fields of a Person body (absent fields are skipped).

    Fields of the body outside ``fields`` are ignored, as an update ignores unmasked fields.
    """
    out: dict[str, Any] = {}
    for name in fields:
        items = body.get(name)
        if not items:
            continue
        if name in SINGLETONS and len(items) > 1:
            raise invalid_argument(f"Only one {name} is allowed per contact.")
        if name == "memberships":
            items = _memberships(account, items, source_id)
        out[name] = [_decorate(name, item, index, source_id) for index, item in enumerate(items)]
    return out


def _source(source_id: str) -> dict[str, Any]:
    return {"type": "CONTACT", "id": source_id}


def _decorate(field: str, item: dict[str, Any], index: int, source_id: str) -> dict[str, Any]:
    out = dict(item)
    if field != "memberships":
        out["metadata"] = {"primary": index == 0, "source": _source(source_id)}
        if field != "clientData":
            out["metadata"]["sourcePrimary"] = index == 0
    if out.get("type") and field != "clientData":
        text = str(out["type"])
        out["formattedType"] = text[:1].upper() + text[1:]
    if field == "names":
        _derive_names(out)
    if field == "phoneNumbers" and _PHONE.match(str(out.get("value", ""))):
        digits = re.sub(r"[^0-9]", "", str(out["value"]))
        out["canonicalForm"] = ("+" if str(out["value"]).startswith("+") else "") + digits
    return out


def _derive_names(name: dict[str, Any]) -> None:
    parts = ("honorificPrefix", "givenName", "middleName", "familyName", "honorificSuffix")
    display = " ".join(str(name[p]) for p in parts if name.get(p))
    name.setdefault("displayName", display)
    family, given = name.get("familyName"), name.get("givenName")
    last_first = ", ".join(str(x) for x in (family, given) if x) or display
    name.setdefault("displayNameLastFirst", last_first)
    name.setdefault("unstructuredName", name["displayName"])


def _memberships(account: Account, items: list[Any], source_id: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        membership = (item or {}).get("contactGroupMembership") or {}
        name = membership.get("contactGroupResourceName")
        if not name and membership.get("contactGroupId"):
            name = f"contactGroups/{membership['contactGroupId']}"
        group = account.groups.get(name or "")
        if group is None or group.deleted:
            raise invalid_argument(f"Contact group resource name is not valid: {name}")
        group_id = name.split("/", 1)[1] if name else ""
        out.append(
            {
                "metadata": {"source": _source(source_id)},
                "contactGroupMembership": {
                    "contactGroupId": group_id,
                    "contactGroupResourceName": name,
                },
            }
        )
    if items and not out:
        raise ApiError(400, "badRequest", "No contact group memberships specified.")
    return out


def default_memberships(source_id: str) -> list[dict[str, Any]]:
    """New contacts belong to ``contactGroups/myContacts``."""
    return [
        {
            "metadata": {"source": _source(source_id)},
            "contactGroupMembership": {
                "contactGroupId": "myContacts",
                "contactGroupResourceName": "contactGroups/myContacts",
            },
        }
    ]


def source_id_of(resource: dict[str, Any]) -> str:
    """The CONTACT source id of a stored person."""
    return str(resource["metadata"]["sources"][0]["id"])


def stamp_person(state: EmulatorState, stored: StoredPerson) -> None:
    """Record a modification: new sequence and etag, visible to sync after the delay."""
    stored.seq = state.next_seq()
    etag = EmulatorState.people_etag(stored.seq)
    stored.resource["etag"] = etag
    source = stored.resource["metadata"]["sources"][0]
    source.update(etag=etag, updateTime=state.timestamp())
    stored.visible_at = state.monotonic() + state.people_propagation_delay


def request_etag(body: dict[str, Any]) -> str | None:
    """The etag a mutation names: top-level or on the CONTACT source."""
    if body.get("etag"):
        return str(body["etag"])
    for source in (body.get("metadata") or {}).get("sources") or []:
        if source.get("type", "CONTACT") == "CONTACT" and source.get("etag"):
            return str(source["etag"])
    return None


def render_person(resource: dict[str, Any], mask: frozenset[str] | None) -> dict[str, Any]:
    """The person as returned: resourceName and etag plus the masked fields."""
    out = {"resourceName": resource["resourceName"], "etag": resource["etag"]}
    for name, value in resource.items():
        if name in OUTPUT_ONLY and name != "metadata":
            continue
        if mask is None or name in mask:
            out[name] = value
    return out


def person_tombstone(resource: dict[str, Any]) -> dict[str, Any]:
    """How a deleted contact appears in an incremental listing."""
    return {
        "resourceName": resource["resourceName"],
        "etag": resource["etag"],
        "metadata": {"sources": [_source(source_id_of(resource))], "deleted": True},
    }

"""Google's JSON ↔ calsync's model: the one module that knows both vocabularies.

Reading never raises for bad data: an event or person that cannot be read becomes a
:class:`Skipped` naming it and saying why, which the backend turns into a warning of the
listing. So does one naming an id calsync cannot keep (its own, or its series'), or an etag a
state store cannot hold: every id read is one a store is asked about, and PostgreSQL refuses a
NUL in text, which would fail the whole channel in every run. Writing builds the JSON bodies
Google expects from model values.

Conventions:

* all-day items are ``{"date": ...}`` with an exclusive end date; timed items are a
  ``dateTime`` with its offset plus the IANA ``timeZone`` they were made in: sent under its
  canonical name (or, where Google refuses that one, under another name of the zone that
  the backend chooses), and read from any of its names as the canonical one (``Europe/Kiev``
  is read as ``Europe/Kyiv``), so that a name Google renders back is no edit;
* the ownership marker lives in ``extendedProperties.private`` of events and in ``clientData``
  of contacts (:mod:`calsync.google.markers`, whose names this module re-exports);
* bodies for ``events.patch`` name every key of ``start``/``end`` (``null`` for the unused
  one), because a patch merges objects and would otherwise keep a stale ``dateTime`` next to
  a new ``date``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import cattrs
from attrs import frozen

from calsync.backends import RemoteContact, RemoteEvent
from calsync.errors import ConfigurationError, InvalidRequest
from calsync.google import wire
from calsync.google.markers import (
    MARKER_ITEM,
    MARKER_KEYS,
    MARKER_MADE,
    MARKER_PROFILE,
    event_marker,
    marker_properties,
    other_client_data,
    person_marker,
)
from calsync.model import (
    AllDay,
    ContactFields,
    Email,
    EventFields,
    Marker,
    Phone,
    PostalAddress,
    Timed,
    When,
    whole_characters,
)
from calsync.timezones import canonical_zone, zone_info, zone_names

__all__ = [
    "MARKER_ITEM",
    "MARKER_KEYS",
    "MARKER_MADE",
    "MARKER_PROFILE",
    "PERSON_FIELDS",
    "SYNCED_PERSON_FIELDS",
    "Skipped",
    "contact_from_json",
    "event_body",
    "event_from_json",
    "event_marker",
    "is_series",
    "marker_properties",
    "merged_person_fields",
    "occurrence_start",
    "other_client_data",
    "parse_time",
    "person_body",
    "person_groups",
    "person_marker",
    "rfc3339",
    "sync_token",
]

#: The person fields calsync synchronises (``updatePersonFields`` of an update).
SYNCED_PERSON_FIELDS = (
    "names",
    "organizations",
    "phoneNumbers",
    "emailAddresses",
    "addresses",
    "biographies",
)
#: The person fields calsync reads (``personFields`` of a get or a listing).
PERSON_FIELDS = ",".join((*SYNCED_PERSON_FIELDS, "memberships", "clientData", "metadata"))

#: The longest id calsync keeps of a Google item (Google's event ids are at most 1024 long;
#: the engine holds the remote id a host item names to the same length).
MAX_GOOGLE_ID = 1024
#: How much of an id calsync cannot keep a warning shows.
_SHOWN_ID = 60


class _Malformed(Exception):
    """Internal: the item cannot be read; the message says why."""


@frozen
class Skipped:
    """An item that could not be read, and why."""

    item_id: str
    reason: str

    def warning(self, what: str) -> str:
        return f"skipped Google {what} {self.item_id}: {self.reason}"


# -- ids and tokens ------------------------------------------------------------------------


def _keepable(an_id: str) -> bool:
    """Whether calsync can keep ``an_id``: 1 to :data:`MAX_GOOGLE_ID` printable characters
    (no NUL nor other control character, no half of a UTF-16 pair)."""
    return 0 < len(an_id) <= MAX_GOOGLE_ID and an_id.isprintable()


def _storable(text: str) -> bool:
    """Whether a state store can hold ``text`` (any length): no NUL, which PostgreSQL
    refuses, and no half of a UTF-16 pair, which no UTF-8 store can hold."""
    return "\x00" not in text and whole_characters(text)


def _shown(an_id: str) -> str:
    """``an_id`` as a warning names it: as it is when it can be kept, else escaped and cut."""
    if _keepable(an_id):
        return an_id
    return repr(an_id[:_SHOWN_ID]) + ("\N{HORIZONTAL ELLIPSIS}" if len(an_id) > _SHOWN_ID else "")


def _unkept(what: str) -> str:
    return f"{what} is not 1 to {MAX_GOOGLE_ID} printable characters"


def _kept_id(an_id: str | None, what: str) -> str | None:
    """``an_id`` (an id an item names, ``None`` when it names none) when it can be kept."""
    if an_id is not None and not _keepable(an_id):
        raise _Malformed(_unkept(f"{what} {_shown(an_id)}"))
    return an_id


def _stored_etag(etag: str | None) -> str:
    """``etag`` (``""`` when absent) when a state store can hold it."""
    if etag is not None and not _storable(etag):
        raise _Malformed("its etag holds a NUL or half of a UTF-16 pair, which cannot be stored")
    return etag or ""


def sync_token(page: Any) -> str | None:
    """The ``nextSyncToken`` of a listing's page, when a state store can hold it; else
    ``None`` (none, or one that is no text, is empty, or holds a NUL or half of a UTF-16
    pair): calsync then keeps no token, and the next listing is a full one."""
    token = page.get("nextSyncToken") if isinstance(page, dict) else None
    return token if isinstance(token, str) and token and _storable(token) else None


# -- time ----------------------------------------------------------------------------------


def rfc3339(instant: datetime) -> str:
    """An aware instant as RFC 3339 (what ``timeMin``/``timeMax`` want)."""
    return instant.isoformat()


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp (``updated``), or ``None`` when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _zone(name: str) -> str:
    try:
        return canonical_zone(name)
    except ConfigurationError as exc:
        raise _Malformed(f"unknown time zone {name!r}") from exc


def _instant(value: wire.EventDateTime, zone: str) -> datetime:
    assert value.date_time is not None
    try:
        moment = datetime.fromisoformat(value.date_time)
    except ValueError as exc:
        raise _Malformed(f"unreadable time {value.date_time!r}") from exc
    if moment.tzinfo is None:  # allowed when timeZone says where
        moment = moment.replace(tzinfo=zone_info(zone))
    return moment


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _Malformed(f"unreadable date {value!r}") from exc


def _when(start: wire.EventDateTime | None, end: wire.EventDateTime | None, zone: str) -> When:
    if start is None or end is None:
        raise _Malformed("it has no start or no end")
    if start.date and end.date and not (start.date_time or end.date_time):
        first, last = _day(start.date), _day(end.date)
        if last <= first:
            raise _Malformed(f"its end {last} is not after its start {first}")
        return AllDay(first, last)
    if start.date_time and end.date_time and not (start.date or end.date):
        name = _zone(start.time_zone or zone)
        begins, ends = _instant(start, name), _instant(end, _zone(end.time_zone or name))
        if ends < begins:
            raise _Malformed("it ends before it starts")
        return _timed(begins, ends, name)
    raise _Malformed("its start and end are not both dates or both times")


def _timed(begins: datetime, ends: datetime, zone: str) -> Timed:
    """The span, when both its times have a UTC value and a wall time in ``zone`` (a time
    near year 1 or 9999 may have neither: it could not be compared nor written back)."""
    try:
        when = Timed(begins, ends, zone)
        for moment in when.bounds():
            moment.astimezone(zone_info(zone))
    except (OverflowError, ValueError) as exc:
        raise _Malformed(f"its times are out of range ({exc})") from exc
    return when


def _date_time(when: When, which: str, zone_name: str | None = None) -> dict[str, Any]:
    if isinstance(when, AllDay):
        day = when.start if which == "start" else when.end
        return {"date": day.isoformat(), "dateTime": None, "timeZone": None}
    moment = when.start if which == "start" else when.end
    try:
        local = moment.astimezone(zone_info(when.zone))
    except OverflowError as exc:  # (year 1 or 9999: no wall time there to send)
        raise InvalidRequest(f"its {which} has no wall time in {when.zone}: {exc}") from exc
    return {"date": None, "dateTime": local.isoformat(), "timeZone": zone_name or when.zone}


# -- events --------------------------------------------------------------------------------


def event_from_json(data: Any, *, calendar_zone: str | None = None) -> RemoteEvent | Skipped:
    """One event of a listing or a get, read into a :class:`RemoteEvent`.

    ``calendar_zone`` is the calendar's zone, used for times that carry none.
    Cancelled events become tombstones (``deleted=True``, ``fields=None``).
    """
    event_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not event_id:
        return Skipped("(without an id)", "it has no id")
    if not _keepable(event_id):
        return Skipped(_shown(event_id), _unkept("its id"))
    try:
        event = wire.structure(data, wire.Event)
        return _remote_event(event_id, event, calendar_zone or "UTC")
    except cattrs.BaseValidationError as exc:
        details = "; ".join(str(e) for e in cattrs.transform_error(exc))
        return Skipped(event_id, f"unexpected data ({details})")
    except _Malformed as exc:
        return Skipped(event_id, str(exc))


def _remote_event(event_id: str, event: wire.Event, zone: str) -> RemoteEvent:
    common: dict[str, Any] = {
        "id": event_id,
        "etag": _stored_etag(event.etag),
        "marker": event_marker(event),
        "updated": parse_time(event.updated),
        "series_id": _kept_id(event.recurring_event_id, "the id of its series"),
        "event_type": event.event_type or "default",
    }
    if event.status == "cancelled":
        return RemoteEvent(fields=None, deleted=True, **common)
    fields = EventFields(
        title=event.summary or "",
        description=event.description or "",
        location=event.location or "",
        when=_when(event.start, event.end, zone),
    )
    return RemoteEvent(fields=fields, **common)


def is_series(data: Any) -> bool:
    """True when ``data`` (an event as Google sent it) is a recurring series itself, its
    master: an event with a ``recurrence``, deleted or not. Never true of an instance (they
    carry no ``recurrence``).

    calsync syncs single events and instances only. An event id calsync synced as a single
    event that reads as a series was made recurring in Google ("Repeat weekly" keeps the id
    and makes the event the series' master): the single event calsync synced is gone.
    """
    return isinstance(data, dict) and bool(data.get("recurrence"))


def occurrence_start(value: Any) -> date | datetime | None:
    """An occurrence's start as Google sends it (an instance's ``originalStartTime``, or a
    series master's ``start``, which is its first occurrence's) in a form two of them compare
    by: the date of an all-day occurrence, the UTC instant of a timed one; ``None`` when it
    cannot be read. (Never read from an instance's id: Google's instance ids are opaque.)"""
    if not isinstance(value, dict):
        return None
    try:
        moment = wire.structure(value, wire.EventDateTime)
        if moment.date_time:
            return _instant(moment, _zone(moment.time_zone or "UTC")).astimezone(UTC)
        if moment.date:
            return _day(moment.date)
    except (cattrs.BaseValidationError, _Malformed, OverflowError, ValueError):
        pass  # out of range (near year 1 or 9999) or unreadable
    return None


def event_body(
    fields: EventFields,
    marker: Marker | None,
    *,
    event_id: str | None = None,
    confirm: bool = False,
    zone_name: str | None = None,
) -> dict[str, Any]:
    """The JSON body of an insert (with ``event_id``) or a patch.

    ``marker=None`` leaves the event's marker as it is; ``confirm`` revives a cancelled event.
    ``zone_name`` is the name a timed event's zone is sent under, one of
    :func:`~calsync.timezones.zone_names` (default: its canonical name).

    Raises:
        InvalidRequest: a time has no wall time in the event's zone (in year 1 or 9999).
    """
    if fields.when is None:
        raise ValueError("an event needs a date or time")
    zone = fields.when.zone if isinstance(fields.when, Timed) else None
    if zone_name is not None and zone is not None and zone_name not in zone_names(zone):
        raise ValueError(f"{zone_name!r} is no name of time zone {zone!r}")
    body: dict[str, Any] = {
        "summary": fields.title,
        "description": fields.description,
        "location": fields.location,
        "start": _date_time(fields.when, "start", zone_name),
        "end": _date_time(fields.when, "end", zone_name),
    }
    if event_id is not None:
        body["id"] = event_id
        body["start"] = {k: v for k, v in body["start"].items() if v is not None}
        body["end"] = {k: v for k, v in body["end"].items() if v is not None}
    if marker is not None:
        body["extendedProperties"] = marker_properties(marker)
    if confirm:
        body["status"] = "confirmed"
    return body


# -- contacts ------------------------------------------------------------------------------


def person_groups(person: wire.Person) -> list[str]:
    """The contact groups (resource names) the person belongs to."""
    groups = []
    for membership in person.memberships or ():
        group = membership.contact_group_membership
        if group is not None and group.contact_group_resource_name:
            groups.append(group.contact_group_resource_name)
    return groups


def contact_from_json(data: Any, group: str) -> RemoteContact | Skipped:
    """One person read into a :class:`RemoteContact`; ``group`` is the sync group's resource
    name. Deleted people (sync listings) become tombstones."""
    name = data.get("resourceName") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        return Skipped("(without a resource name)", "it has no resource name")
    if not _keepable(name):
        return Skipped(_shown(name), _unkept("its resource name"))
    try:
        person = wire.structure(data, wire.Person)
        etag = _stored_etag(person.etag)
    except cattrs.BaseValidationError as exc:
        details = "; ".join(str(e) for e in cattrs.transform_error(exc))
        return Skipped(name, f"unexpected data ({details})")
    except _Malformed as exc:
        return Skipped(name, str(exc))
    metadata = person.metadata or wire.PersonMetadata()
    common: dict[str, Any] = {
        "id": name,
        "etag": etag,
        "marker": person_marker(person),
        "updated": _person_updated(metadata),
        # a name no store can hold names no pair calsync keeps: there is nothing to follow
        "previous_ids": [
            n for n in metadata.previous_resource_names or () if n != name and _keepable(n)
        ],
    }
    if metadata.deleted:
        return RemoteContact(fields=None, deleted=True, in_group=False, **common)
    return RemoteContact(
        fields=_contact_fields(person), in_group=group in person_groups(person), **common
    )


def _person_updated(metadata: wire.PersonMetadata) -> datetime | None:
    for source in metadata.sources or ():
        if source.type == "CONTACT":
            return parse_time(source.update_time)
    return None


def _first(values: list[Any] | None) -> Any:
    return values[0] if values else None


def _contact_fields(person: wire.Person) -> ContactFields:
    name = _first(person.names) or wire.Name()
    organization = _first(person.organizations) or wire.Organization()
    biography = _first(person.biographies) or wire.Biography()
    given = name.given_name or ("" if name.family_name else name.unstructured_name or "")
    return ContactFields(
        given_name=given,
        family_name=name.family_name or "",
        organization=organization.name or "",
        phones=[p for p in map(_phone, person.phone_numbers or ()) if p is not None],
        emails=[e for e in map(_email, person.email_addresses or ()) if e is not None],
        addresses=[_address(a) for a in person.addresses or ()],
        notes=biography.value or "",
    )


def _phone(entry: wire.PhoneNumber) -> Phone | None:
    return Phone(entry.value, entry.type or "mobile") if entry.value else None


def _email(entry: wire.EmailAddress) -> Email | None:
    return Email(entry.value, entry.type or "home") if entry.value else None


def _address(entry: wire.Address) -> PostalAddress:
    return PostalAddress(
        entry.street_address or "",
        entry.city or "",
        entry.region or "",
        entry.postal_code or "",
        entry.country or "",
        entry.type or "home",
    )


# -- merging an update into the person as Google holds it ----------------------------------

#: Name keys Google derives from the others: dropped from a name calsync changes.
_DERIVED_NAME_KEYS = ("displayName", "displayNameLastFirst", "unstructuredName")


def merged_person_fields(synced: dict[str, Any], fields: ContactFields) -> dict[str, Any]:
    """The synced person fields of an update to ``fields``, merged into ``synced`` (those
    fields as Google last sent them), as People asks ("merge their updates into the latest
    person"): an update replaces each field it names whole, so what the Google user entered
    there that calsync does not model would otherwise be lost.

    * A field whose value calsync reads as unchanged is sent back as Google sent it (a middle
      name, a job title, a flat number, a second organisation, an unstructured name).
    * A changed name, organisation or note keeps the other parts of its entry (a middle name,
      a prefix, a job title) and the other entries; a name drops what Google derives from it.
    * Changed phones, emails and addresses keep, entry by entry, those calsync reads as
      unchanged (with their display name, formatting, extended address, PO box); a changed
      address is written whole, since its old flat number belongs to the old address.
    """
    person = wire.structure(synced, wire.Person)
    read = _contact_fields(person)
    merged: dict[str, Any] = {}
    names = list(synced.get("names") or ())
    if (read.given_name, read.family_name) == (fields.given_name, fields.family_name):
        merged["names"] = names
    else:
        old = names[0] if names else {}
        first = {key: value for key, value in old.items() if key not in _DERIVED_NAME_KEYS}
        merged["names"] = _with_first(
            first, names[1:], givenName=fields.given_name, familyName=fields.family_name
        )
    for key, changed, values in (
        ("organizations", read.organization != fields.organization, {"name": fields.organization}),
        ("biographies", read.notes != fields.notes, {"value": fields.notes}),
    ):
        entries = list(synced.get(key) or ())
        if not changed:
            merged[key] = entries
            continue
        first = dict(entries[0]) if entries else {}
        if key == "biographies":
            first["contentType"] = "TEXT_PLAIN"
        merged[key] = _with_first(first, entries[1:], **values)
    body = wire.unstructure(
        wire.Person(
            phone_numbers=[wire.PhoneNumber(p.number, p.label) for p in fields.phones],
            email_addresses=[wire.EmailAddress(e.address, e.label) for e in fields.emails],
            addresses=_wire_addresses(fields.addresses),
        )
    )
    for key, reader, wanted in (
        ("phoneNumbers", lambda e: _phone(wire.structure(e, wire.PhoneNumber)), fields.phones),
        ("emailAddresses", lambda e: _email(wire.structure(e, wire.EmailAddress)), fields.emails),
        ("addresses", lambda e: _address(wire.structure(e, wire.Address)), fields.addresses),
    ):
        merged[key] = _kept_entries(synced.get(key) or [], reader, wanted, body.get(key) or [])
    return merged


def _with_first(first: dict[str, Any], rest: list[Any], **values: str) -> list[Any]:
    """``first`` with ``values`` set (an empty one removed), before ``rest``. When nothing
    but its metadata remains of ``first``, it is left out, and so are the entries of
    ``rest`` that would then be read as the value removed."""
    for key, value in values.items():
        if value:
            first[key] = value
        else:
            first.pop(key, None)
    if set(first) - {"metadata", "contentType"}:
        return [first, *rest]
    return [entry for entry in rest if not any(entry.get(key) for key in values)]


def _kept_entries(
    synced: list[Any], reader: Callable[[Any], object], wanted: tuple[Any, ...], fresh: list[Any]
) -> list[Any]:
    """The entries for ``wanted`` (model values, with ``fresh`` their new JSON), each taken
    from ``synced`` as Google sent it when one there reads as that value."""
    read = [reader(entry) for entry in synced]
    if [value for value in read if value is not None] == list(wanted):
        return list(synced)  # unchanged: as Google sent it, entries calsync skips included
    unused = list(zip(read, synced, strict=True))
    kept = []
    for value, entry in zip(wanted, fresh, strict=True):
        match = next((i for i, (known, _) in enumerate(unused) if known == value), None)
        kept.append(entry if match is None else unused.pop(match)[1])
    return kept


def _wire_addresses(addresses: Iterable[PostalAddress]) -> list[wire.Address]:
    return [
        wire.Address(
            a.street or None,
            a.city or None,
            a.region or None,
            a.postal_code or None,
            a.country or None,
            a.label,
        )
        for a in addresses
    ]


def person_body(
    fields: ContactFields,
    *,
    marker: Marker | None = None,
    groups: Iterable[str] | None = None,
    other_client_data: Iterable[wire.ClientData] | None = None,
    resource_name: str | None = None,
    etag: str | None = None,
) -> dict[str, Any]:
    """The JSON of a person to create or update: the synced fields, plus the group
    memberships when ``groups`` is given, plus ``clientData`` when a ``marker`` or
    ``other_client_data`` is given (an update replaces the whole list, so other clients'
    entries must be sent back with the marker)."""
    client_data: list[wire.ClientData] | None = None
    if marker is not None or other_client_data is not None:
        client_data = list(other_client_data or ())
    if marker is not None and client_data is not None:
        client_data += [
            wire.ClientData(MARKER_PROFILE, marker.namespace),
            wire.ClientData(MARKER_ITEM, marker.host_id),
        ]
        if marker.made is not None:
            client_data.append(wire.ClientData(MARKER_MADE, marker.made))
    memberships = (
        None
        if groups is None
        else [wire.Membership(wire.ContactGroupMembership(g)) for g in dict.fromkeys(groups)]
    )
    person = wire.Person(
        resource_name=resource_name,
        etag=etag,
        names=[wire.Name(fields.given_name or None, fields.family_name or None)]
        if fields.given_name or fields.family_name
        else [],
        organizations=[wire.Organization(fields.organization)] if fields.organization else [],
        phone_numbers=[wire.PhoneNumber(p.number, p.label) for p in fields.phones],
        email_addresses=[wire.EmailAddress(e.address, e.label) for e in fields.emails],
        addresses=_wire_addresses(fields.addresses),
        biographies=[wire.Biography(fields.notes, "TEXT_PLAIN")] if fields.notes else [],
        memberships=memberships,
        client_data=client_data,
    )
    body: dict[str, Any] = wire.unstructure(person)
    return body

"""Google's JSON, as attrs classes: Calendar v3 events and calendars, People v1 persons and groups.

These classes speak Google's vocabulary (snake_case here, camelCase on the wire) and nothing
else; :mod:`calsync.google.translate` is the only module that knows both them and
:mod:`calsync.model`. They hold only the fields calsync reads or writes; every other key of
Google's answer is ignored on the way in.

The converter is private to the Google backend: :func:`structure` and :func:`unstructure` are
the only ways in and out. ``unstructure`` leaves out fields that are ``None`` (absent), so a
body carries only what it means to send.
"""

from __future__ import annotations

import re
import typing
from typing import Any, TypeVar

import attrs
import cattrs
from attrs import define
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = [
    "Address",
    "Biography",
    "CalendarEntry",
    "ClientData",
    "ContactGroup",
    "ContactGroupMembership",
    "EmailAddress",
    "Event",
    "EventDateTime",
    "ExtendedProperties",
    "Membership",
    "Name",
    "Organization",
    "Person",
    "PersonMetadata",
    "PhoneNumber",
    "Source",
    "structure",
    "unstructure",
]

T = TypeVar("T")

# -- Calendar v3 ---------------------------------------------------------------------------


@define(weakref_slot=False)
class EventDateTime:
    """``start``/``end``/``originalStartTime``: a ``date`` or a ``dateTime`` (+ ``timeZone``)."""

    date: str | None = None
    date_time: str | None = None
    time_zone: str | None = None


@define(weakref_slot=False)
class ExtendedProperties:
    private: dict[str, str | None] | None = None
    shared: dict[str, str | None] | None = None


@define(weakref_slot=False)
class Event:
    """A Calendar ``Event`` (the fields calsync uses)."""

    id: str | None = None
    etag: str | None = None
    status: str | None = None
    summary: str | None = None
    description: str | None = None
    location: str | None = None
    start: EventDateTime | None = None
    end: EventDateTime | None = None
    original_start_time: EventDateTime | None = None
    recurring_event_id: str | None = None
    recurrence: list[str] | None = None
    extended_properties: ExtendedProperties | None = None
    event_type: str | None = None
    updated: str | None = None
    created: str | None = None


@define(weakref_slot=False)
class CalendarEntry:
    """A ``CalendarListEntry`` or a ``Calendar``."""

    id: str | None = None
    summary: str | None = None
    summary_override: str | None = None
    time_zone: str | None = None
    access_role: str | None = None
    primary: bool | None = None
    deleted: bool | None = None


# -- People v1 -----------------------------------------------------------------------------


@define(weakref_slot=False)
class Source:
    type: str | None = None
    id: str | None = None
    etag: str | None = None
    update_time: str | None = None


@define(weakref_slot=False)
class PersonMetadata:
    sources: list[Source] | None = None
    deleted: bool | None = None
    #: the names the person had before (a resource name changes when Google links the
    #: contact to a profile, e.g. on a verified email or phone number)
    previous_resource_names: list[str] | None = None


@define(weakref_slot=False)
class Name:
    given_name: str | None = None
    family_name: str | None = None
    unstructured_name: str | None = None  # (read only: a name given as one line)


@define(weakref_slot=False)
class Organization:
    name: str | None = None


@define(weakref_slot=False)
class PhoneNumber:
    value: str | None = None
    type: str | None = None


@define(weakref_slot=False)
class EmailAddress:
    value: str | None = None
    type: str | None = None


@define(weakref_slot=False)
class Address:
    street_address: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    type: str | None = None


@define(weakref_slot=False)
class Biography:
    value: str | None = None
    content_type: str | None = None


@define(weakref_slot=False)
class ContactGroupMembership:
    contact_group_resource_name: str | None = None


@define(weakref_slot=False)
class Membership:
    contact_group_membership: ContactGroupMembership | None = None


@define(weakref_slot=False)
class ClientData:
    key: str | None = None
    value: str | None = None


@define(weakref_slot=False)
class Person:
    """A People ``Person`` (the fields calsync uses)."""

    resource_name: str | None = None
    etag: str | None = None
    metadata: PersonMetadata | None = None
    names: list[Name] | None = None
    organizations: list[Organization] | None = None
    phone_numbers: list[PhoneNumber] | None = None
    email_addresses: list[EmailAddress] | None = None
    addresses: list[Address] | None = None
    biographies: list[Biography] | None = None
    memberships: list[Membership] | None = None
    client_data: list[ClientData] | None = None


@define(weakref_slot=False)
class ContactGroup:
    """A People ``ContactGroup``."""

    resource_name: str | None = None
    etag: str | None = None
    name: str | None = None
    formatted_name: str | None = None
    group_type: str | None = None
    member_count: int | None = None
    metadata: PersonMetadata | None = None


# -- the private converter -----------------------------------------------------------------

_CAMEL = re.compile(r"_([a-z])")


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda match: match.group(1).upper(), name)


def _renames(cls: type[Any]) -> dict[str, Any]:
    return {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}


def _strict(kind: type[Any]) -> Any:
    def check(value: Any, _: Any) -> Any:
        # bool is an int: refuse it where a number is expected, and the reverse
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


def _object_hook(converter: cattrs.Converter, cls: type[Any]) -> Any:
    inner = make_dict_structure_fn(cls, converter, **_renames(cls))

    def hook(value: Any, kind: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {cls.__name__}, got {type(value).__name__}")
        return inner(value, kind)

    return hook


def _is_list(kind: Any) -> bool:
    return typing.get_origin(kind) is list


def _list_hook(converter: cattrs.Converter, kind: Any) -> Any:
    (item,) = typing.get_args(kind)

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return [converter.structure(element, item) for element in value]

    return hook


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    # Google's JSON is typed: a list where a string belongs is malformed, not str(list).
    for kind in (str, int, bool):
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_structure_hook_factory(attrs.has, lambda cls: _object_hook(converter, cls))
    converter.register_structure_hook_factory(_is_list, lambda cls: _list_hook(converter, cls))
    converter.register_unstructure_hook_factory(
        attrs.has,
        lambda cls: make_dict_unstructure_fn(
            cls, converter, _cattrs_omit_if_default=True, **_renames(cls)
        ),
    )
    return converter


_converter = _make_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Google's JSON (a decoded dict) as the wire class ``cls``.

    Raises:
        cattrs.BaseValidationError: the data does not have the expected shape.
    """
    return _converter.structure(data, cls)


def unstructure(value: Any) -> Any:
    """A wire value as Google's JSON, without the fields that are ``None``."""
    return _converter.unstructure(value)

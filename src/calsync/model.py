"""calsync's domain values: frozen attrs classes in calsync's own vocabulary.

Nothing here knows a Google field name. The Google backend translates its wire classes to and
from these in one module (``calsync.google.translate``).

Time is exact:

* :class:`AllDay` spans dates, with an **exclusive** end (a one-day item on 1 March ends on
  2 March), exactly as Google and RFC 5545 do.
* :class:`Timed` spans two aware instants and keeps the IANA zone the item was made in, so a
  round trip through Google never moves a session.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeAlias

import attrs
from attrs import field, frozen

from calsync.timezones import canonical_zone, zone_info

__all__ = [
    "AllDay",
    "Channel",
    "ClientInfo",
    "Contact",
    "ContactFields",
    "Email",
    "EventFields",
    "ItemKind",
    "Marker",
    "Phone",
    "PostalAddress",
    "RecordKind",
    "ScheduleItem",
    "TimeRange",
    "Timed",
    "When",
    "normalise_text",
    "whole_characters",
]


def normalise_text(value: str) -> str:
    """Canonical form of free text: ``\\r\\n`` folded to ``\\n``, trailing blanks removed,
    and half of a UTF-16 pair (a lone surrogate, which Windows text can hold) replaced by
    U+FFFD, as any UTF-16 to UTF-8 conversion does.

    Google and hosts disagree on line endings and trailing whitespace; neither is an edit. A
    lone surrogate is not text: it cannot be sent to Google nor stored as UTF-8.
    """
    if not value.isascii():
        value = _whole_characters(value)
    if "\n" not in value and "\r" not in value:  # one line (most titles and places)
        return value.strip()
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join([line.rstrip() for line in lines]).strip()


def whole_characters(value: str) -> bool:
    """True when ``value`` holds no half of a UTF-16 pair (it can be written as UTF-8)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _whole_characters(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD (pairs are joined)."""
    if whole_characters(value):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _aware(instance: Any, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware, got {value!r}")


def _instant(moment: datetime) -> datetime:
    """The UTC instant of an aware datetime. Equality of instants must go through it: Python
    compares two datetimes of different ``tzinfo`` in the repeated hour of a DST change as
    unequal whenever one has ``fold=1`` (PEP 495), even when they name the same instant."""
    return moment.astimezone(UTC)


def _zone(name: str) -> str:
    return canonical_zone(name)


@frozen(weakref_slot=False)
class AllDay:
    """An all-day span: ``start`` inclusive, ``end`` exclusive (``end > start``)."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise ValueError("AllDay takes dates, not datetimes")
        if self.end <= self.start:
            raise ValueError(f"all-day end {self.end} must be after start {self.start}")

    @classmethod
    def single(cls, day: date) -> AllDay:
        """The span of one whole day."""
        return cls(day, day + timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        """The span as UTC instants (midnight to midnight), for window tests."""
        return (
            datetime.combine(self.start, datetime.min.time(), UTC),
            datetime.combine(self.end, datetime.min.time(), UTC),
        )


@frozen(weakref_slot=False)
class Timed:
    """A timed span between two aware instants, made in the IANA zone ``zone``.

    Equality is by instant and zone: 09:00+01:00 and 08:00Z in ``Europe/Paris`` are the same,
    also in the repeated hour of a DST change, whatever ``fold`` says.
    Legacy zone names are canonicalised (``Europe/Kiev`` becomes ``Europe/Kyiv``).
    """

    start: datetime = field(validator=_aware, eq=_instant)
    end: datetime = field(validator=_aware, eq=_instant)
    zone: str = field(default="UTC", converter=_zone)

    def __attrs_post_init__(self) -> None:
        if _instant(self.end) < _instant(self.start):
            raise ValueError(f"end {self.end} is before start {self.start}")

    def bounds(self) -> tuple[datetime, datetime]:
        """The span as UTC instants."""
        return self.start.astimezone(UTC), self.end.astimezone(UTC)

    def has_wall_times(self) -> bool:
        """Whether both times have a wall time in :attr:`zone` (Google takes local times with
        their offset). Only a time in year 1 or 9999 may not: no zone is a day off UTC."""
        start, end = self.start, self.end
        if 1 < start.year < 9999 and 1 < end.year < 9999:
            return True
        zone = zone_info(self.zone)
        try:
            start.astimezone(zone)
            end.astimezone(zone)
        except (OverflowError, ValueError):
            return False
        return True


When: TypeAlias = AllDay | Timed


@frozen(weakref_slot=False)
class TimeRange:
    """A half-open range of instants ``[start, end)`` — the sync window."""

    start: datetime = field(validator=_aware)
    end: datetime = field(validator=_aware)

    def __attrs_post_init__(self) -> None:
        # by instants: two times of one tzinfo compare by wall time, fold ignored (PEP 495)
        if _instant(self.end) <= _instant(self.start):
            raise ValueError("a time range must end after it starts")

    def overlaps(self, when: When) -> bool:
        """True when ``when`` touches the range (Google's timeMin/timeMax semantics)."""
        if type(when) is Timed:
            start_zone, end_zone = when.start.tzinfo, when.end.tzinfo
            if (start_zone is not self.end.tzinfo or type(start_zone) is timezone) and (
                end_zone is not self.start.tzinfo or type(end_zone) is timezone
            ):
                # aware datetimes compare as instants unless they share a tzinfo object,
                # which compares wall times, fold ignored (exact for a fixed offset): the
                # answer bounds() gives, without converting both ends of every listed item
                if not when.start < self.end:
                    return False
                if when.end > self.start:
                    return True
        start, end = when.bounds()
        return start < self.end and (end > self.start or (start == end and start >= self.start))

    def ends_before(self, when: When) -> bool:
        """True when ``when`` lies wholly before the range (it left the window)."""
        return when.bounds()[1] <= self.start


class Channel(enum.Enum):
    """The two things a profile syncs."""

    CALENDAR = "calendar"
    CONTACTS = "contacts"

    #: members are singletons, equal only to themselves: hashed by identity, in C (Enum's own
    #: hash is Python code, and a channel keys every lookup of the state store)
    __hash__ = object.__hash__


class ItemKind(enum.Enum):
    """The three kinds of schedule item a studio host has."""

    #: A booked shoot, linked to a client.
    SESSION = "session"
    #: Anything else made in the host.
    APPOINTMENT = "appointment"
    #: An item made in Google that came back to the host, not yet linked to a client.
    UNLINKED = "unlinked"

    __hash__ = object.__hash__  # (see Channel)


class RecordKind(enum.Enum):
    """What a synced pair is about: a schedule item's kind, or a client (contacts channel)."""

    SESSION = "session"
    APPOINTMENT = "appointment"
    UNLINKED = "unlinked"
    CONTACT = "contact"

    __hash__ = object.__hash__  # (see Channel)

    @classmethod
    def of(cls, kind: ItemKind) -> RecordKind:
        """The record kind of a schedule item kind."""
        return _RECORD_KINDS[kind]


_RECORD_KINDS = {kind: RecordKind(kind.value) for kind in ItemKind}


@frozen(weakref_slot=False)
class ClientInfo:
    """The client a session is linked to, as much of it as templates may show."""

    id: str
    name: str
    phone: str = ""
    email: str = ""


@frozen(weakref_slot=False)
class ScheduleItem:
    """One item of a user's host schedule.

    Attributes:
        id: the host's id for the item, stable for its life.
        kind: session, appointment or unlinked appointment.
        when: all-day or timed span.
        title, description, location: the host's own text (templates decide what Google shows).
        client: the linked client; required for sessions.
        session_type: e.g. "Wedding", "Portrait" (a template field).
        status: the host's booking status text (a template field).
        revision: an opaque value the host changes whenever anything a template can see changes
            (including the linked client's name and phone). ``None`` means "unknown": calsync
            then compares the item's content with the stored base every run.
        remote_id: for unlinked appointments, the remote event they were made from; for a
            session converted from one, that same event, kept for good (calsync pairs the
            session with it when it holds no pair of the appointment to take over).
        replaces: set on an item made by *converting* another item (an unlinked appointment
            turned into a session): the host id of the item it replaces. calsync moves the
            mapping to the new id and updates the same remote event in place.
        updated: when the host last changed the item (used by ``newest_wins``), if known.
    """

    id: str
    kind: ItemKind
    when: When
    title: str = ""
    description: str = ""
    location: str = ""
    client: ClientInfo | None = None
    session_type: str = ""
    status: str = ""
    revision: str | None = None
    remote_id: str | None = None
    replaces: str | None = None
    updated: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not self.id:
            raise ValueError("a schedule item needs an id")
        if self.kind is ItemKind.SESSION and self.client is None:
            raise ValueError(f"session {self.id!r} is not linked to a client")


@frozen(weakref_slot=False)
class EventFields:
    """The synced content of a calendar event, in calsync's vocabulary.

    This is what the stored base holds and what three-way merges compare, field by field.
    Text is normalised on construction so that formatting noise is never an edit.
    """

    title: str = field(default="", converter=normalise_text)
    description: str = field(default="", converter=normalise_text)
    location: str = field(default="", converter=normalise_text)
    when: When | None = None


#: The names of the synced event fields, in a fixed order.
EVENT_FIELDS: tuple[str, ...] = ("title", "description", "location", "when")


def _mobile(label: str) -> str:
    return normalise_text(label) or "mobile"


def _home(label: str) -> str:
    return normalise_text(label) or "home"


@frozen(weakref_slot=False)
class Phone:
    """A phone number with its label (``mobile``, ``home``, ``work``, …). No label is
    ``mobile``, as Google reads a number without a type. Text is normalised as
    :func:`normalise_text` does."""

    number: str = field(converter=normalise_text)
    label: str = field(default="mobile", converter=_mobile)


@frozen(weakref_slot=False)
class Email:
    """An email address with its label (no label is ``home``, as Google reads it). Text is
    normalised as :func:`normalise_text` does."""

    address: str = field(converter=normalise_text)
    label: str = field(default="home", converter=_home)


@frozen(weakref_slot=False)
class PostalAddress:
    """A postal address with its label (no label is ``home``, as Google reads it). Text is
    normalised as :func:`normalise_text` does (a street may span lines)."""

    street: str = field(default="", converter=normalise_text)
    city: str = field(default="", converter=normalise_text)
    region: str = field(default="", converter=normalise_text)
    postal_code: str = field(default="", converter=normalise_text)
    country: str = field(default="", converter=normalise_text)
    label: str = field(default="home", converter=_home)


def _phones(values: Iterable[Phone]) -> tuple[Phone, ...]:
    return tuple(values)


def _emails(values: Iterable[Email]) -> tuple[Email, ...]:
    return tuple(values)


def _addresses(values: Iterable[PostalAddress]) -> tuple[PostalAddress, ...]:
    return tuple(values)


@frozen(weakref_slot=False)
class ContactFields:
    """The synced content of a contact."""

    given_name: str = field(default="", converter=normalise_text)
    family_name: str = field(default="", converter=normalise_text)
    organization: str = field(default="", converter=normalise_text)
    phones: tuple[Phone, ...] = field(default=(), converter=_phones)
    emails: tuple[Email, ...] = field(default=(), converter=_emails)
    addresses: tuple[PostalAddress, ...] = field(default=(), converter=_addresses)
    notes: str = field(default="", converter=normalise_text)


#: The names of the synced contact fields, in a fixed order.
CONTACT_FIELDS: tuple[str, ...] = (
    "given_name",
    "family_name",
    "organization",
    "phones",
    "emails",
    "addresses",
    "notes",
)


@frozen(weakref_slot=False)
class Contact:
    """A host client as synced to Google Contacts.

    Attributes:
        id: the host's client id.
        fields: the synced content.
        revision: opaque, changes whenever the content changes (``None``: unknown).
        remote_id: for clients made from a Google contact, the contact they were made from.
        updated: when the host last changed the client, if known.
    """

    id: str
    fields: ContactFields
    revision: str | None = None
    remote_id: str | None = None
    updated: datetime | None = None


@frozen(weakref_slot=False)
class Marker:
    """The ownership marker calsync stamps on everything it creates remotely.

    ``namespace`` is the profile id; ``host_id`` the host item it mirrors. ``made`` is set on a
    contact calsync creates: a token of the create's journaled intent
    (:func:`calsync.ids.creation_token`), which tells the contact that create made from a copy
    of another (Google chooses contact ids, so the id cannot tell). Markers are equal when
    they name the same item, whatever ``made`` says.
    """

    namespace: str
    host_id: str
    made: str | None = field(default=None, eq=False)

    def is_well_formed(self) -> bool:
        """True for a marker calsync could have written: a namespace and a host id (and a
        ``made`` token, if any) of at most :data:`MAX_MARKER_ID` printable characters.
        Anything else (a marker another tool mangled, or an oversize one) is no marker: the
        item is the user's own."""
        parts = [self.namespace, self.host_id]
        if self.made is not None:
            parts.append(self.made)
        return all(0 < len(part) <= MAX_MARKER_ID and part.isprintable() for part in parts)


#: The longest namespace or host id a well-formed marker holds.
MAX_MARKER_ID = 256


def evolve_fields(value: Any, changes: Mapping[str, Any]) -> Any:
    """``attrs.evolve`` for the field records, typed loosely for the generic planner."""
    return attrs.evolve(value, **changes)

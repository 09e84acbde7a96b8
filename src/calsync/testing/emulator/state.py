"""The emulator's in-memory Google: accounts, calendars, events, contacts and groups.

Every modification takes the next value of one global change sequence; it orders changes for
incremental sync (a resource changed after a token's sequence is in the incremental result)
and derives etags, so an etag changes on every modification.  Resources are kept as Google's
JSON dicts; timed event times are stored in UTC and rendered per request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

import attrs
from attrs import define

from calsync.testing.emulator.recurrence import InstanceIds, InstanceIdStyle
from calsync.testing.emulator.times import UTC, format_timestamp, zone

if TYPE_CHECKING:
    from calsync.testing.emulator.push import PushHub

logger = logging.getLogger(__name__)

ETAG_BASE = 3_181_161_784_712_000
_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SYSTEM_GROUPS = {"myContacts": "My Contacts", "starred": "Starred"}
#: Whether ``people.connections.list`` hands out etags that updates accept (``"accepted"``) or
#: etags of its own that they refuse (``"refused"``, as Google's do: google-api-python-client
#: issue #1169).
PeopleListingEtags = Literal["accepted", "refused"]


def new_id(length: int = 26) -> str:
    """A random base32hex id (``a-v0-9``), like the ids Google generates."""
    raw = base64.b32hexencode(os.urandom(20)).decode("ascii").lower()
    return raw[:length]


def email_for_token(token: str) -> str:
    """The account email an unknown bearer token auto-creates (named after the token)."""
    if "@" in token and _SIMPLE_NAME.match(token.replace("@", "")):
        return token.lower()
    if _SIMPLE_NAME.match(token):
        return f"{token.lower()}@example.com"
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]
    return f"user-{digest}@example.com"


@define
class StoredEvent:
    """One event resource (Google JSON, canonical times) and the sequence of its last change."""

    resource: dict[str, Any]
    seq: int

    @property
    def cancelled(self) -> bool:
        """Whether the event is a cancelled tombstone."""
        return bool(self.resource.get("status") == "cancelled")


@define
class CalendarData:
    """A calendar owned by one account, with its events (cancelled ones included)."""

    id: str
    summary: str
    time_zone: str
    primary: bool
    seq: int
    description: str | None = None
    location: str | None = None
    deleted: bool = False
    events: dict[str, StoredEvent] = attrs.field(factory=dict)
    #: Whether the calendar is in its owner's calendar list (``calendarList.delete`` clears it).
    listed: bool = True
    #: The owner's calendar-list settings (colour, ``hidden``, ``summaryOverride``, …).
    entry: dict[str, Any] = attrs.field(factory=dict)
    #: The change sequence of the last calendar-list change of this calendar.
    entry_seq: int = 0
    #: Made through ``calendars.insert``: a calendar the app created, which a token with only
    #: the ``calendar.app.created`` scope may use.
    app_created: bool = False

    @property
    def tzinfo(self) -> dt.tzinfo:
        """The calendar's zone (all-day windows and default rendering)."""
        return zone(self.time_zone) or UTC

    def exceptions_of(self, master_id: str) -> dict[str, StoredEvent]:
        """Stored exceptions (modified or cancelled instances) of a recurring master, by id."""
        return {
            event_id: stored
            for event_id, stored in self.events.items()
            if stored.resource.get("recurringEventId") == master_id
        }


@define
class StoredPerson:
    """A contact: its Person JSON, last change sequence and sync visibility time."""

    resource: dict[str, Any]
    seq: int
    visible_at: float
    deleted: bool = False


@define
class StoredGroup:
    """A contact group: its ContactGroup JSON (without computed member fields)."""

    resource: dict[str, Any]
    seq: int
    deleted: bool = False

    @property
    def system(self) -> bool:
        """Whether this is a system group (``myContacts``, ``starred``)."""
        return bool(self.resource.get("groupType") == "SYSTEM_CONTACT_GROUP")


@define
class Account:
    """One Google account: its calendars and its address book."""

    email: str
    calendars: dict[str, CalendarData] = attrs.field(factory=dict)
    people: dict[str, StoredPerson] = attrs.field(factory=dict)
    groups: dict[str, StoredGroup] = attrs.field(factory=dict)

    @property
    def primary(self) -> CalendarData:
        """The primary calendar (its id is the account email)."""
        return self.calendars[self.email]


class EmulatorState:
    """All accounts plus the change sequence, sync-token epoch and clock, behind one lock;
    ``instance_ids`` is the style of the ids of recurring events' instances,
    ``people_listing_etags`` whether updates accept the etags of contact listings and
    ``refused_zones`` the zone names event writes are refused for."""

    def __init__(
        self,
        people_propagation_delay: float = 0.0,
        instance_ids: InstanceIdStyle = "dated",
        people_listing_etags: PeopleListingEtags = "accepted",
        refused_zones: Iterable[str] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.people_propagation_delay = people_propagation_delay
        self.people_listing_etags: PeopleListingEtags = people_listing_etags
        #: Zone names Google's database does not take (as ``Europe/Kyiv`` in August 2022): an
        #: event write whose ``start`` or ``end`` carries one answers 400 ``invalid``.
        self.refused_zones: frozenset[str] = frozenset(refused_zones)
        #: Seconds the emulator's clock runs ahead of the wall clock (:meth:`clock`).
        self.clock_offset = 0.0
        #: How instances of recurring events are named (:class:`InstanceIds`).
        self.instance_ids = InstanceIds(instance_ids)
        self.accounts: dict[str, Account] = {}
        self.seq = 0
        self.epoch = 0
        #: The push notification hub (:mod:`calsync.testing.emulator.push`).
        self.push: PushHub | None = None
        #: Called on every change (under the lock); wakes the push hub.
        self.on_change: Callable[[], None] | None = None

    def reset(self) -> None:
        """Forget every account; the sequence keeps growing so old tokens stay invalid."""
        with self.lock:
            self.accounts.clear()
            self.instance_ids.forget()
            self.epoch += 1
            self.clock_offset = 0.0

    def next_seq(self) -> int:
        """The next change sequence number."""
        self.seq += 1
        if self.on_change is not None:
            self.on_change()
        return self.seq

    @staticmethod
    def calendar_etag(seq: int) -> str:
        """A quoted Calendar etag derived from a change sequence."""
        return f'"{ETAG_BASE + seq}"'

    @staticmethod
    def people_etag(seq: int) -> str:
        """An opaque People etag (starts with ``%``) derived from a change sequence."""
        raw = base64.urlsafe_b64encode(b"\x12\x05" + seq.to_bytes(8, "big")).decode("ascii")
        return "%" + raw.rstrip("=")

    @staticmethod
    def people_listing_etag(seq: int) -> str:
        """The etag a contact listing gives for a change sequence when listing etags are
        ``"refused"``: as opaque as :meth:`people_etag`, and different from it."""
        raw = base64.urlsafe_b64encode(b"\x12\x0c" + seq.to_bytes(8, "big")).decode("ascii")
        return "%" + raw.rstrip("=")

    @staticmethod
    def now() -> dt.datetime:
        """Wall-clock now (UTC) for ``updated``/``created`` stamps."""
        return dt.datetime.now(UTC)

    def clock(self) -> float:
        """The emulator's clock in epoch seconds: the wall clock plus :attr:`clock_offset`
        (sync tokens age by it)."""
        return time.time() + self.clock_offset

    def timestamp(self) -> str:
        """``now`` as Google's RFC 3339 timestamp with milliseconds."""
        return format_timestamp(self.now())

    @staticmethod
    def monotonic() -> float:
        """Monotonic seconds, for quota windows and propagation delay."""
        return time.monotonic()

    def account(self, email: str) -> Account:
        """The account ``email``, created on first use with a primary calendar."""
        email = email.lower()
        found = self.accounts.get(email)
        if found is None:
            found = self._create_account(email)
            self.accounts[email] = found
            logger.debug("created emulated account %s", email)
        return found

    def _create_account(self, email: str) -> Account:
        account = Account(email)
        account.calendars[email] = CalendarData(
            id=email, summary=email, time_zone="UTC", primary=True, seq=self.next_seq()
        )
        for group_id, formatted in SYSTEM_GROUPS.items():
            seq = self.next_seq()
            account.groups[f"contactGroups/{group_id}"] = StoredGroup(
                {
                    "resourceName": f"contactGroups/{group_id}",
                    "etag": self.people_etag(seq),
                    "groupType": "SYSTEM_CONTACT_GROUP",
                    "name": group_id,
                    "formattedName": formatted,
                    "metadata": {"updateTime": self.timestamp()},
                },
                seq,
            )
        return account

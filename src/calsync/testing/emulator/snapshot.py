"""Read-only copies of an account's state for tests to inspect."""

from __future__ import annotations

import copy
import logging
from typing import Any

from attrs import frozen

from calsync.testing.emulator.contact_groups import members_of
from calsync.testing.emulator.event_model import render
from calsync.testing.emulator.state import Account, CalendarData

logger = logging.getLogger(__name__)


@frozen
class CalendarSnapshot:
    """A calendar and every stored event (cancelled tombstones and exceptions included).

    Event dicts are Google's JSON with times rendered in the calendar's zone; instances of
    recurring events that were never modified are not stored and so not listed here.
    """

    id: str
    summary: str
    time_zone: str
    primary: bool
    deleted: bool
    events: dict[str, dict[str, Any]]

    def live_events(self) -> list[dict[str, Any]]:
        """Events that are not cancelled."""
        return [e for e in self.events.values() if e.get("status") != "cancelled"]


@frozen
class AccountSnapshot:
    """An account's calendars, contacts and contact groups at one moment."""

    email: str
    calendars: dict[str, CalendarSnapshot]
    contacts: dict[str, dict[str, Any]]
    deleted_contacts: dict[str, dict[str, Any]]
    contact_groups: dict[str, dict[str, Any]]

    @property
    def primary(self) -> CalendarSnapshot:
        """The primary calendar."""
        return self.calendars[self.email]

    def calendar(self, calendar_id: str = "primary") -> CalendarSnapshot:
        """A calendar by id (``primary`` aliases the primary); ``KeyError`` if unknown."""
        return self.primary if calendar_id == "primary" else self.calendars[calendar_id]


def _calendar(calendar: CalendarData) -> CalendarSnapshot:
    tz = calendar.tzinfo
    events = {k: copy.deepcopy(render(s.resource, tz)) for k, s in calendar.events.items()}
    return CalendarSnapshot(
        calendar.id,
        calendar.summary,
        calendar.time_zone,
        calendar.primary,
        calendar.deleted,
        events,
    )


def snapshot(account: Account) -> AccountSnapshot:
    """Deep-copy ``account`` (call with the state lock held)."""
    groups = {}
    for name, group in account.groups.items():
        if not group.deleted:
            data = copy.deepcopy(group.resource)
            data["memberCount"] = len(members_of(account, name))
            groups[name] = data
    people = account.people.items()
    return AccountSnapshot(
        email=account.email,
        calendars={k: _calendar(c) for k, c in account.calendars.items()},
        contacts={k: copy.deepcopy(p.resource) for k, p in people if not p.deleted},
        deleted_contacts={k: copy.deepcopy(p.resource) for k, p in people if p.deleted},
        contact_groups=groups,
    )

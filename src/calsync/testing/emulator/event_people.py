"""Who an event involves, filled in as Google fills it: creator, organizer and attendees.

Google marks with ``self: true`` the creator, organizer or attendee that *is* the calendar on
which the copy of the event appears (their email is the calendar id), marks the attendee who
is the organizer with ``organizer: true``, and answers ``responseStatus: "needsAction"`` for
an attendee added without one.  Those flags are read-only: what a client sends is replaced.
"""

from __future__ import annotations

import logging
from typing import Any

from calsync.testing.emulator.errors import invalid, required
from calsync.testing.emulator.state import CalendarData

logger = logging.getLogger(__name__)

RESPONSE_STATUSES = frozenset({"needsAction", "declined", "tentative", "accepted"})
#: Attendee flags Google computes; values sent by a client are dropped.
COMPUTED_ATTENDEE_FLAGS = ("self", "organizer")


def organizer_for(calendar: CalendarData) -> dict[str, Any]:
    """The organizer of an event created on (or moved to) ``calendar``: the calendar itself."""
    person: dict[str, Any] = {"email": calendar.id}
    if not calendar.primary:
        person["displayName"] = calendar.summary
    return person


def creator_for(email: str) -> dict[str, Any]:
    """The creator of an event: the account that made the call."""
    return {"email": email}


def fill_people(resource: dict[str, Any], calendar: CalendarData) -> None:
    """Set Google's computed people fields of ``resource`` as seen on ``calendar``."""
    mine = calendar.id.lower()
    for name in ("creator", "organizer"):
        person = resource.get(name)
        if isinstance(person, dict):
            resource[name] = _with_self(person, mine)
    attendees = resource.get("attendees")
    if attendees:
        organizer = str((resource.get("organizer") or {}).get("email", "")).lower()
        resource["attendees"] = [
            _attendee(entry, index, mine, organizer) for index, entry in enumerate(attendees)
        ]


def _with_self(person: dict[str, Any], mine: str) -> dict[str, Any]:
    out = {k: v for k, v in person.items() if k != "self"}
    if str(out.get("email", "")).lower() == mine:
        out["self"] = True
    return out


def _attendee(entry: dict[str, Any], index: int, mine: str, organizer: str) -> dict[str, Any]:
    email = entry.get("email")
    if not email:
        raise required("Missing attendee email.", location=f"attendees[{index}].email")
    out = {k: v for k, v in entry.items() if k not in COMPUTED_ATTENDEE_FLAGS}
    status = out.setdefault("responseStatus", "needsAction")
    if status not in RESPONSE_STATUSES:
        raise invalid(f"Invalid attendee response status: {status}")
    if str(email).lower() == organizer:
        out["organizer"] = True
    if str(email).lower() == mine:
        out["self"] = True
    return out


def declined_by_owner(resource: dict[str, Any], calendar: CalendarData) -> bool:
    """Whether the calendar's own attendee entry declined the event (it is then free time)."""
    mine = calendar.id.lower()
    return any(
        str(entry.get("email", "")).lower() == mine and entry.get("responseStatus") == "declined"
        for entry in resource.get("attendees") or []
    )

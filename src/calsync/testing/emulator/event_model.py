"""Event resources: validation of request bodies, server fields, patches and rendering."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import logging
import re
from collections.abc import Collection
from typing import Any

from calsync.testing.emulator.errors import RefusedZone, condition_not_met, invalid, required
from calsync.testing.emulator.event_people import creator_for, fill_people, organizer_for
from calsync.testing.emulator.recurrence import InstanceIds, Occurrence, validate_series
from calsync.testing.emulator.state import CalendarData, EmulatorState, StoredEvent
from calsync.testing.emulator.times import When, check_range, parse_when, render_when

logger = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
#: Fields Google sets itself; values sent by a client are ignored.
READ_ONLY = frozenset(
    {
        "kind",
        "etag",
        "created",
        "updated",
        "htmlLink",
        "creator",
        "organizer",
        "hangoutLink",
        "recurringEventId",
        "originalStartTime",
    }
)
STATUSES = frozenset({"confirmed", "tentative", "cancelled"})
EXT_KEY_MAX = 44
EXT_VALUE_MAX = 1024
EXT_COUNT_MAX = 300
EXT_BYTES_MAX = 32 * 1024
TIME_FIELDS = ("start", "end", "originalStartTime")


def check_client_id(event_id: Any) -> str:
    """A client-supplied event id must be base32hex, 5 to 1024 characters."""
    if not isinstance(event_id, str) or not CLIENT_ID.match(event_id):
        raise invalid("Invalid resource id value.")
    return event_id


def normalise(
    body: dict[str, Any], *, instance: bool = False, refused_zones: Collection[str] = ()
) -> dict[str, Any]:
    """Validate a full event body and return its client-settable fields, times canonical.

    A ``start`` or ``end`` whose ``timeZone`` is one of ``refused_zones`` (names Google's
    database does not take) is refused with 400 ``invalid`` (:class:`RefusedZone`)."""
    fields = {k: v for k, v in body.items() if k not in READ_ONLY and v is not None}
    start = parse_when(body.get("start"), "start")
    end = parse_when(body.get("end"), "end")
    refused = [
        name for name, when in (("start", start), ("end", end)) if when.zone_name in refused_zones
    ]
    if refused:
        raise RefusedZone(refused)
    check_range(start, end)
    fields["start"], fields["end"] = start.canonical(), end.canonical()
    status = fields.get("status", "confirmed")
    if status not in STATUSES:
        raise invalid(f"Invalid value for status: {status}", location="status")
    if instance:
        fields.pop("recurrence", None)
    elif fields.get("recurrence"):
        _check_recurring(start, end, fields)
    else:
        fields.pop("recurrence", None)
    if "extendedProperties" in fields:
        fields["extendedProperties"] = limit_extended_properties(fields["extendedProperties"])
    return fields


def _check_recurring(start: When, end: When, fields: dict[str, Any]) -> None:
    if not start.all_day:
        for name, when in (("start", start), ("end", end)):
            if not when.zone_name:
                raise required(f"Missing time zone definition for {name} time.")
    validate_series(fields)


def limit_extended_properties(value: dict[str, Any]) -> dict[str, Any]:
    """Google's limits: long keys dropped, long values truncated, 300 / 32 kB in total."""
    out: dict[str, Any] = {}
    count = size = 0
    for kind in ("private", "shared"):
        props = value.get(kind)
        if props is None:
            continue
        kept = {
            key: text[:EXT_VALUE_MAX]
            for key, text in props.items()
            if len(key) <= EXT_KEY_MAX and text is not None
        }
        count += len(kept)
        size += sum(len(k.encode()) + len(v.encode()) for k, v in kept.items())
        out[kind] = kept
    if count > EXT_COUNT_MAX or size > EXT_BYTES_MAX:
        raise invalid("The extended properties exceed the allowed size.")
    return out


def merge_patch(base: Any, patch: Any) -> Any:
    """Patch semantics: objects merge recursively, ``null`` deletes, arrays replace."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(base.get(key), value)
    return merged


def new_resource(
    state: EmulatorState,
    calendar: CalendarData,
    event_id: str,
    fields: dict[str, Any],
    *,
    creator: str,
) -> dict[str, Any]:
    """A new event: the client fields plus the ones Google sets on insert.

    ``creator`` is the email of the calling account; the calendar is the organizer.
    """
    now = state.timestamp()
    resource: dict[str, Any] = {
        "kind": "calendar#event",
        "id": event_id,
        "status": "confirmed",
        "htmlLink": html_link(event_id, calendar.id),
        "created": now,
        "updated": now,
        "creator": creator_for(creator),
        "organizer": organizer_for(calendar),
        "iCalUID": f"{event_id}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }
    resource.update(fields)
    fill_people(resource, calendar)
    return resource


def html_link(event_id: str, calendar_id: str) -> str:
    """The ``htmlLink`` Google gives an event."""
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"https://www.google.com/calendar/event?eid={eid}"


def replace_fields(resource: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """An update: server fields of ``resource`` kept, every client field replaced."""
    kept = {k: v for k, v in resource.items() if k in READ_ONLY or k in ("id", "iCalUID")}
    kept.setdefault("reminders", {"useDefault": True})
    kept["eventType"] = resource.get("eventType", "default")
    significant = ("start", "end", "recurrence")
    moved = any(resource.get(k) != fields.get(k) for k in significant)
    sequence = int(resource.get("sequence", 0)) + (1 if moved else 0)
    kept.update(fields)
    kept["sequence"] = max(sequence, int(fields.get("sequence", 0)))
    return kept


def stamp(state: EmulatorState, stored: StoredEvent) -> None:
    """Record a modification: new sequence, etag and ``updated``."""
    stored.seq = state.next_seq()
    stored.resource["etag"] = EmulatorState.calendar_etag(stored.seq)
    stored.resource["updated"] = state.timestamp()


def cancel(state: EmulatorState, stored: StoredEvent) -> None:
    """Turn an event into a cancelled tombstone (it keeps its id and details)."""
    stored.resource["status"] = "cancelled"
    stamp(state, stored)


def tombstone(resource: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """What listings show of a cancelled event: id and etag (plus instance identity)."""
    out = {
        "kind": "calendar#event",
        "etag": resource["etag"],
        "id": resource["id"],
        "status": "cancelled",
    }
    if "recurringEventId" in resource:
        out["recurringEventId"] = resource["recurringEventId"]
        out["originalStartTime"] = render_when(resource["originalStartTime"], tz)
    return out


def render(resource: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """The event as returned to clients, times rendered in ``tz``."""
    out = dict(resource)
    for name in TIME_FIELDS:
        if isinstance(out.get(name), dict):
            out[name] = render_when(out[name], tz)
    return out


def render_listed(resource: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """An event as it appears in a listing (cancelled ones as tombstones)."""
    if resource.get("status") == "cancelled":
        return tombstone(resource, tz)
    return render(resource, tz)


def span(resource: dict[str, Any], tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Start and end instants; all-day dates are midnights in the calendar zone ``tz``."""
    start = parse_when(resource["start"], "start").start_instant(tz)
    end = parse_when(resource["end"], "end").start_instant(tz)
    return start, end


def instance_resource(
    master: dict[str, Any], occurrence: Occurrence, ids: InstanceIds
) -> dict[str, Any]:
    """A generated instance of a recurring master (not stored until modified), named by
    ``ids``."""
    out = {k: v for k, v in master.items() if k != "recurrence"}
    out["id"] = ids.name(master["id"], occurrence.original)
    out["recurringEventId"] = master["id"]
    out["originalStartTime"] = occurrence.original.canonical()
    out["start"] = occurrence.start.canonical()
    out["end"] = occurrence.end.canonical()
    return out


def check_if_match(resource: dict[str, Any], if_match: str | None) -> None:
    """412 ``conditionNotMet`` when ``If-Match`` names another etag."""
    if if_match is None or if_match.strip() == "*":
        return
    if if_match.strip() != resource.get("etag"):
        raise condition_not_met()

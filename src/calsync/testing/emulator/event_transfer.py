"""Calendar v3 ``events.import`` and ``events.move``: events that come from elsewhere.

An import is keyed by ``iCalUID``: a calendar holding an event with that UID has it replaced
(and revived when cancelled) instead of gaining a copy.  A move takes the event out of the
source calendar (which keeps a cancelled tombstone, so incremental listings there report it
gone) and stores it, same id, in the destination, whose calendar becomes the organizer.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from calsync.testing.emulator.calendars import calendar_of, find_calendar
from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import ApiError, duplicate, invalid, not_found, required
from calsync.testing.emulator.event_model import (
    cancel,
    check_client_id,
    html_link,
    new_resource,
    normalise,
    render,
    replace_fields,
    stamp,
)
from calsync.testing.emulator.event_people import fill_people, organizer_for
from calsync.testing.emulator.events import (
    find_by_ical_uid,
    id_taken,
    lookup,
    render_zone,
    store,
)
from calsync.testing.emulator.recurrence import InstanceIds
from calsync.testing.emulator.state import CalendarData, StoredEvent, new_id

logger = logging.getLogger(__name__)

#: Properties only events of another type have; an import of such an event drops them.
TYPE_PROPERTIES = (
    "birthdayProperties",
    "focusTimeProperties",
    "outOfOfficeProperties",
    "workingLocationProperties",
)


@handler("calendar.events.import")
def import_event(ctx: CallContext) -> Result:
    """Add a private copy of an event, or replace the event that has its ``iCalUID``."""
    calendar = calendar_of(ctx)
    body: dict[str, Any] = dict(ctx.body or {})
    ical_uid = body.get("iCalUID")
    if not ical_uid:
        raise required("Missing iCalUID.", location="iCalUID")
    fields = normalise(_as_default_type(body), refused_zones=ctx.state.refused_zones)
    existing = find_by_ical_uid(calendar, str(ical_uid))
    client_id = fields.pop("id", None)
    if existing is None:
        resource = _new_import(ctx, calendar, client_id, fields)
    else:
        if client_id is not None and client_id != existing.resource["id"]:
            raise duplicate()
        fields.setdefault("status", "confirmed")
        resource = replace_fields(existing.resource, fields)
    if isinstance(body.get("organizer"), dict) and body["organizer"].get("email"):
        resource["organizer"] = _organizer(body["organizer"])
    fill_people(resource, calendar)
    stored = store(calendar, existing, resource)
    stamp(ctx.state, stored)
    logger.debug("imported %s as event %s in %s", ical_uid, resource["id"], calendar.id)
    return render(stored.resource, render_zone(ctx, calendar))


def _as_default_type(body: dict[str, Any]) -> dict[str, Any]:
    """Google's documented (deprecated) import behaviour: any event becomes a default one."""
    if body.get("eventType", "default") == "default":
        return body
    out = {k: v for k, v in body.items() if k not in TYPE_PROPERTIES}
    out["eventType"] = "default"
    return out


def _new_import(
    ctx: CallContext, calendar: CalendarData, client_id: Any, fields: dict[str, Any]
) -> dict[str, Any]:
    if client_id is None:
        event_id = new_id()
    else:
        event_id = check_client_id(client_id)
        if id_taken(calendar, ctx.state.instance_ids, event_id):
            raise duplicate()
    return new_resource(ctx.state, calendar, event_id, fields, creator=ctx.account.email)


def _organizer(sent: dict[str, Any]) -> dict[str, Any]:
    return {k: sent[k] for k in ("email", "displayName") if sent.get(k) is not None}


@handler("calendar.events.move")
def move_event(ctx: CallContext) -> Result:
    """Move an event (a series with its exceptions) to another calendar of the account."""
    source = calendar_of(ctx)
    destination_id = ctx.param("destination")
    if not destination_id:
        raise required("Missing destination calendar.", location="destination")
    destination = find_calendar(ctx.account, str(destination_id))
    stored = _movable(source, ctx.state.instance_ids, ctx.path["eventId"])
    if destination is source:
        return render(stored.resource, render_zone(ctx, source))
    series = [stored, *source.exceptions_of(stored.resource["id"]).values()]
    for item in series:
        clash = destination.events.get(item.resource["id"])
        if clash is not None and not clash.cancelled:
            raise duplicate()
    moved = [_move_one(ctx, item, source, destination) for item in series]
    logger.debug("moved event %s from %s to %s", moved[0].resource["id"], source.id, destination.id)
    return render(moved[0].resource, render_zone(ctx, destination))


def _movable(source: CalendarData, ids: InstanceIds, event_id: str) -> StoredEvent:
    stored, resource = lookup(source, ids, event_id)
    if "recurringEventId" in resource:
        raise ApiError(
            400,
            "cannotChangeOrganizerOfInstance",
            "Cannot change the organizer of an instance.",
        )
    if stored is None or stored.cancelled:
        raise not_found()
    if resource.get("eventType", "default") != "default":
        raise invalid(f"Events of type {resource['eventType']} cannot be moved.")
    return stored


def _move_one(
    ctx: CallContext, stored: StoredEvent, source: CalendarData, destination: CalendarData
) -> StoredEvent:
    resource = copy.deepcopy(stored.resource)
    resource["organizer"] = organizer_for(destination)
    resource["htmlLink"] = html_link(resource["id"], destination.id)
    fill_people(resource, destination)
    moved = store(destination, destination.events.get(resource["id"]), resource)
    stamp(ctx.state, moved)
    if not stored.cancelled:
        cancel(ctx.state, stored)
    logger.debug("moved %s out of %s", resource["id"], source.id)
    return moved

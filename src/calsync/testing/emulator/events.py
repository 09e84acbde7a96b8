"""Calendar v3 ``events``: get, insert, update, patch and delete (listing lives elsewhere)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from calsync.testing.emulator.calendars import calendar_of
from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import deleted, duplicate, invalid, not_found, required
from calsync.testing.emulator.event_model import (
    cancel,
    check_client_id,
    check_if_match,
    instance_resource,
    merge_patch,
    new_resource,
    normalise,
    render,
    replace_fields,
    stamp,
)
from calsync.testing.emulator.event_people import fill_people
from calsync.testing.emulator.recurrence import InstanceIds, Occurrence, Series
from calsync.testing.emulator.state import CalendarData, StoredEvent, new_id
from calsync.testing.emulator.times import parse_when, zone
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)


def render_zone(ctx: CallContext, calendar: CalendarData) -> dt.tzinfo:
    """The zone results are rendered in: the ``timeZone`` parameter, else the calendar's."""
    name = ctx.param("timeZone")
    if not name:
        return calendar.tzinfo
    found = zone(name)
    if found is None:
        raise invalid(f"Invalid time zone: {name}", location="timeZone")
    return found


def lookup(
    calendar: CalendarData, ids: InstanceIds, event_id: str
) -> tuple[StoredEvent | None, dict[str, Any]]:
    """A stored event, or a generated instance of a stored recurring master (named by
    ``ids``); 404 otherwise.

    Returns the stored record (None for a generated instance) and the current resource. An
    exception whose original start its series no longer produces (the rule was shortened, or
    the series moved) is gone with its occurrence: 404, as it is left out of listings.
    """
    stored = calendar.events.get(event_id)
    if stored is not None:
        if not_produced(calendar, stored.resource):
            raise not_found()
        return stored, stored.resource
    master, occurrence = _named_instance(calendar, ids, event_id)
    if master is None or occurrence is None:
        raise not_found()
    return None, instance_resource(master, occurrence, ids)


def _named_instance(
    calendar: CalendarData, ids: InstanceIds, event_id: str
) -> tuple[dict[str, Any] | None, Occurrence | None]:
    """The live-or-not recurring master of ``calendar`` and its occurrence that ``event_id``
    names as an instance, or ``None`` for either when there is no such one."""
    named = ids.occurrence(event_id)
    stored = calendar.events.get(named[0]) if named else None
    if named is None or stored is None or not stored.resource.get("recurrence"):
        return None, None
    return stored.resource, Series(stored.resource).occurrence_at(named[1])


def id_taken(calendar: CalendarData, ids: InstanceIds, event_id: str) -> bool:
    """Whether ``event_id`` is no longer free for an insert: an event has it (deleted ones
    too), or it names an instance of a series of the calendar (only an opaque id can: a
    dated one holds a ``_``, which no client id may)."""
    return event_id in calendar.events or _named_instance(calendar, ids, event_id)[0] is not None


def not_produced(calendar: CalendarData, resource: dict[str, Any]) -> bool:
    """True for an exception (a stored instance) whose live recurring master no longer
    produces its original start."""
    master = calendar.events.get(resource.get("recurringEventId") or "")
    original = resource.get("originalStartTime")
    if master is None or not master.resource.get("recurrence") or not original:
        return False
    return Series(master.resource).occurrence_at(parse_when(original, "originalStartTime")) is None


def find_by_ical_uid(calendar: CalendarData, ical_uid: str) -> StoredEvent | None:
    """The stored event (cancelled ones too, instances never) with ``ical_uid``, if any."""
    for stored in calendar.events.values():
        resource = stored.resource
        if resource.get("iCalUID") == ical_uid and "recurringEventId" not in resource:
            return stored
    return None


def store(
    calendar: CalendarData, stored: StoredEvent | None, resource: dict[str, Any]
) -> StoredEvent:
    """Keep ``resource`` as ``stored`` (a new record in ``calendar`` when None)."""
    if stored is None:
        stored = StoredEvent(resource, 0)
        calendar.events[resource["id"]] = stored
    else:
        stored.resource = resource
    return stored


@handler("calendar.events.get")
def get_event(ctx: CallContext) -> Result:
    """One event (cancelled ones too); ``If-None-Match`` with the current etag gives 304."""
    calendar = calendar_of(ctx)
    _, resource = lookup(calendar, ctx.state.instance_ids, ctx.path["eventId"])
    if_none_match = ctx.header("If-None-Match")
    if if_none_match is not None and if_none_match.strip() == resource.get("etag"):
        return ApiResponse(304, b"", {"ETag": resource["etag"]})
    return render(resource, render_zone(ctx, calendar))


@handler("calendar.events.insert")
def insert_event(ctx: CallContext) -> Result:
    """Create an event; a client id or ``iCalUID`` already used (even deleted) gives 409."""
    calendar = calendar_of(ctx)
    body: dict[str, Any] = ctx.body or {}
    if "id" in body and body["id"] is not None:
        event_id = check_client_id(body["id"])
        if id_taken(calendar, ctx.state.instance_ids, event_id):
            raise duplicate()
    else:
        event_id = new_id()
    fields = normalise(body, refused_zones=ctx.state.refused_zones)
    fields.pop("id", None)
    if fields.get("iCalUID") and find_by_ical_uid(calendar, fields["iCalUID"]) is not None:
        raise duplicate()
    resource = new_resource(ctx.state, calendar, event_id, fields, creator=ctx.account.email)
    stored = store(calendar, None, resource)
    stamp(ctx.state, stored)
    logger.debug("inserted event %s in %s", event_id, calendar.id)
    return render(stored.resource, render_zone(ctx, calendar))


@handler("calendar.events.update")
def update_event(ctx: CallContext) -> Result:
    """Replace an event's client fields (instances become stored exceptions)."""
    if ctx.body is None:
        raise required("Missing start time.", location="start")
    return _modify(ctx, lambda resource: ctx.body)


@handler("calendar.events.patch")
def patch_event(ctx: CallContext) -> Result:
    """Merge the body into the event: objects merge, ``null`` deletes, arrays replace."""
    return _modify(ctx, lambda resource: merge_patch(resource, ctx.body or {}))


def _modify(ctx: CallContext, new_body: Any) -> Result:
    calendar = calendar_of(ctx)
    stored, resource = lookup(calendar, ctx.state.instance_ids, ctx.path["eventId"])
    check_if_match(resource, ctx.header("If-Match"))
    is_instance = "recurringEventId" in resource
    fields = normalise(
        new_body(resource), instance=is_instance, refused_zones=ctx.state.refused_zones
    )
    fields.pop("id", None)
    fields.setdefault("status", "confirmed")
    replaced = replace_fields(resource, fields)
    fill_people(replaced, calendar)
    stored = store(calendar, stored, replaced)
    stamp(ctx.state, stored)
    return render(stored.resource, render_zone(ctx, calendar))


@handler("calendar.events.delete")
def delete_event(ctx: CallContext) -> Result:
    """Cancel an event (a master cancels its exceptions); 410 when already deleted."""
    calendar = calendar_of(ctx)
    stored, resource = lookup(calendar, ctx.state.instance_ids, ctx.path["eventId"])
    check_if_match(resource, ctx.header("If-Match"))
    if resource.get("status") == "cancelled":
        raise deleted()
    stored = store(calendar, stored, resource)
    cancel(ctx.state, stored)
    if resource.get("recurrence"):
        for exception in calendar.exceptions_of(resource["id"]).values():
            if not exception.cancelled:
                cancel(ctx.state, exception)
    logger.debug("deleted event %s in %s", resource["id"], calendar.id)
    return ApiResponse.empty()

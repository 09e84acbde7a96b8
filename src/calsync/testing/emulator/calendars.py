"""Calendar v3 ``calendars``: secondary calendars and the metadata of every calendar."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import ApiError, invalid, not_found, required
from calsync.testing.emulator.state import Account, CalendarData, EmulatorState, StoredEvent, new_id
from calsync.testing.emulator.times import zone
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)

_CONFERENCE = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}


def find_calendar(account: Account, calendar_id: str) -> CalendarData:
    """The live calendar ``calendar_id`` (``primary`` aliases the primary); 404 otherwise."""
    if calendar_id == "primary":
        return account.primary
    found = account.calendars.get(calendar_id) or account.calendars.get(calendar_id.lower())
    if found is None or found.deleted:
        raise not_found()
    return found


def calendar_of(ctx: CallContext) -> CalendarData:
    """The calendar named by the call's ``calendarId`` path parameter."""
    return find_calendar(ctx.account, ctx.path["calendarId"])


def delete_calendar(state: EmulatorState, account: Account, calendar_id: str) -> None:
    """Delete a secondary calendar: every later call on it answers 404 ``notFound``."""
    calendar = find_calendar(account, calendar_id)
    if calendar.primary:
        raise ApiError(400, "cannotDeletePrimaryCalendar", "Cannot delete primary calendar.")
    calendar.deleted = True
    calendar.seq = state.next_seq()
    logger.debug("deleted calendar %s of %s", calendar.id, account.email)


def calendar_resource(calendar: CalendarData) -> dict[str, Any]:
    """The ``Calendar`` JSON."""
    out: dict[str, Any] = {
        "kind": "calendar#calendar",
        "etag": EmulatorState.calendar_etag(calendar.seq),
        "id": calendar.id,
        "summary": calendar.summary,
        "timeZone": calendar.time_zone,
        "conferenceProperties": _CONFERENCE,
    }
    if calendar.description is not None:
        out["description"] = calendar.description
    if calendar.location is not None:
        out["location"] = calendar.location
    return out


def _apply_fields(
    calendar: CalendarData,
    body: dict[str, Any],
    *,
    replace: bool,
    refused_zones: Collection[str] = (),
) -> None:
    """Set the calendar's fields from ``body``; a ``timeZone`` unknown, or one of
    ``refused_zones`` (names Google's database does not take, see
    ``EmulatorCore.set_refused_zones``), is refused with 400 ``invalid``."""
    if replace or "summary" in body:
        summary = body.get("summary")
        if not summary:
            raise required("Missing title.", location="summary")
        calendar.summary = str(summary)
    if body.get("timeZone") is not None:
        if zone(body["timeZone"]) is None or body["timeZone"] in refused_zones:
            raise invalid("Invalid time zone definition.", location="timeZone")
        calendar.time_zone = body["timeZone"]
    for name in ("description", "location"):
        if replace or name in body:
            setattr(calendar, name, body.get(name))


@handler("calendar.calendars.insert")
def insert_calendar(ctx: CallContext) -> Result:
    """Create a secondary calendar."""
    calendar = CalendarData(
        id=f"{new_id()}@group.calendar.google.com",
        summary="",
        time_zone="UTC",
        primary=False,
        seq=ctx.state.next_seq(),
        app_created=True,
    )
    _apply_fields(calendar, ctx.body or {}, replace=True, refused_zones=ctx.state.refused_zones)
    ctx.account.calendars[calendar.id] = calendar
    return calendar_resource(calendar)


@handler("calendar.calendars.get")
def get_calendar(ctx: CallContext) -> Result:
    """Read a calendar's metadata."""
    return calendar_resource(calendar_of(ctx))


@handler("calendar.calendars.update")
@handler("calendar.calendars.patch")
def update_calendar(ctx: CallContext) -> Result:
    """Change a calendar's summary, description, location or zone."""
    calendar = calendar_of(ctx)
    replace = ctx.method_id.endswith("update")
    _apply_fields(calendar, ctx.body or {}, replace=replace, refused_zones=ctx.state.refused_zones)
    calendar.seq = ctx.state.next_seq()
    return calendar_resource(calendar)


@handler("calendar.calendars.delete")
def delete_calendar_call(ctx: CallContext) -> Result:
    """Delete a secondary calendar."""
    delete_calendar(ctx.state, ctx.account, ctx.path["calendarId"])
    return ApiResponse.empty()


@handler("calendar.calendars.clear")
def clear_calendar(ctx: CallContext) -> Result:
    """Cancel every event of a calendar (Google allows it on the primary only)."""
    calendar = calendar_of(ctx)
    if not calendar.primary:
        raise ApiError(400, "badRequest", "Only the primary calendar can be cleared.")
    for stored in calendar.events.values():
        if not stored.cancelled:
            _cancel(ctx.state, stored)
    return ApiResponse.empty()


def _cancel(state: EmulatorState, stored: StoredEvent) -> None:
    stored.seq = state.next_seq()
    stored.resource.update(
        status="cancelled", etag=EmulatorState.calendar_etag(stored.seq), updated=state.timestamp()
    )

"""Calendar v3 ``calendars`` and ``calendarList`` resources."""

from __future__ import annotations

import logging
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import ApiError, invalid, not_found, required
from calsync.testing.emulator.listing import finish, next_sync_token, open_cursor, page_through
from calsync.testing.emulator.state import Account, CalendarData, EmulatorState, StoredEvent, new_id
from calsync.testing.emulator.times import zone
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)

CALENDAR_LIST_MAX = 250
CALENDAR_LIST_DEFAULT = 100
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


def list_entry(calendar: CalendarData) -> dict[str, Any]:
    """The ``CalendarListEntry`` JSON (``deleted: true`` for a deleted calendar)."""
    out = calendar_resource(calendar)
    out.update(
        kind="calendar#calendarListEntry",
        colorId="14",
        backgroundColor="#9fe1e7",
        foregroundColor="#000000",
        selected=True,
        accessRole="owner",
        defaultReminders=[],
    )
    if calendar.primary:
        out["primary"] = True
    if calendar.deleted:
        out["deleted"] = True
    return out


def _apply_fields(calendar: CalendarData, body: dict[str, Any], *, replace: bool) -> None:
    if replace or "summary" in body:
        summary = body.get("summary")
        if not summary:
            raise required("Missing title.", location="summary")
        calendar.summary = str(summary)
    if body.get("timeZone") is not None:
        if zone(body["timeZone"]) is None:
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
    )
    _apply_fields(calendar, ctx.body or {}, replace=True)
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
    _apply_fields(calendar, ctx.body or {}, replace=ctx.method_id.endswith("update"))
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


@handler("calendar.calendarList.get")
def get_list_entry(ctx: CallContext) -> Result:
    """One calendar list entry."""
    return list_entry(calendar_of(ctx))


@handler("calendar.calendarList.list")
def list_calendar_list(ctx: CallContext) -> Result:
    """The user's calendar list, paged, with incremental sync over entries."""
    scope = f"calendarList|{ctx.account.email}"
    if ctx.param("syncToken"):
        for name in ("minAccessRole", "showOwnOrganizationOnly"):
            if name in ctx.params:
                raise invalid(f"{name} cannot be used with syncToken.", location=name)
        if ctx.param("showDeleted") is False:
            raise invalid("showDeleted cannot be false with syncToken.", location="showDeleted")
    cursor = open_cursor(ctx, scope)
    calendars = list(ctx.account.calendars.values())
    if cursor.sync is not None:
        since = cursor.sync.seq
        chosen = [c for c in calendars if since < c.seq <= cursor.high_water]
    else:
        show_deleted = bool(ctx.param("showDeleted", False))
        chosen = [c for c in calendars if show_deleted or not c.deleted]
    size = min(int(ctx.param("maxResults", CALENDAR_LIST_DEFAULT)), CALENDAR_LIST_MAX)
    items, page_token = page_through(cursor, chosen, lambda c: (c.id,), size)
    body: dict[str, Any] = {
        "kind": "calendar#calendarList",
        "etag": EmulatorState.calendar_etag(cursor.high_water),
        "items": [list_entry(c) for c in items],
    }
    return finish(body, page_token, lambda: next_sync_token(ctx, cursor, scope))

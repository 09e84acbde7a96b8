"""Calendar v3 ``freebusy.query``: busy intervals computed from the stored events.

An event makes its calendar busy unless it is cancelled, ``transparency: "transparent"`` or
declined by the calendar's own attendee entry; recurring events count per instance (with
their exceptions).  Intervals are clipped to ``timeMin``/``timeMax``, merged per calendar when
they overlap or touch, and rendered in the request's ``timeZone`` (UTC by default).

There is no sharing in the emulator: every emulated calendar's free/busy is visible to every
account, as inside one Google Workspace domain.  An id no account has answers, for that
calendar only, ``errors: [{"domain": "global", "reason": "notFound"}]``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import invalid, required
from calsync.testing.emulator.event_listing import expand
from calsync.testing.emulator.event_model import span
from calsync.testing.emulator.event_people import declined_by_owner
from calsync.testing.emulator.recurrence import InstanceIds
from calsync.testing.emulator.state import CalendarData
from calsync.testing.emulator.times import (
    format_datetime,
    format_timestamp,
    parse_query_time,
    time_range_empty,
    zone,
)

logger = logging.getLogger(__name__)

CALENDAR_EXPANSION_MAX = 50
Interval = tuple[dt.datetime, dt.datetime]


@handler("calendar.freebusy.query")
def query_free_busy(ctx: CallContext) -> Result:
    """Busy intervals of each requested calendar within the window."""
    body: dict[str, Any] = ctx.body or {}
    low, high = _time(body, "timeMin"), _time(body, "timeMax")
    if high <= low:
        raise time_range_empty("timeMax")
    zone_name = body.get("timeZone") or "UTC"
    tz = zone(zone_name)
    if tz is None:
        raise invalid(f"Invalid time zone: {zone_name}", location="timeZone")
    limit = min(int(body.get("calendarExpansionMax") or CALENDAR_EXPANSION_MAX), 50)
    calendars: dict[str, Any] = {}
    for index, item in enumerate(body.get("items") or []):
        calendar_id = str(item.get("id", ""))
        calendars[calendar_id] = _calendar_answer(ctx, calendar_id, index < limit, low, high, tz)
    return {
        "kind": "calendar#freeBusy",
        "timeMin": format_timestamp(low),
        "timeMax": format_timestamp(high),
        "calendars": calendars,
    }


def _time(body: dict[str, Any], name: str) -> dt.datetime:
    text = body.get(name)
    if not text:
        raise required(f"Missing {name}.", location=name)
    return parse_query_time(name, str(text))


def _calendar_answer(
    ctx: CallContext,
    calendar_id: str,
    within_limit: bool,
    low: dt.datetime,
    high: dt.datetime,
    tz: dt.tzinfo,
) -> dict[str, Any]:
    if not within_limit:
        return {"errors": [_error("tooManyCalendarsRequested")], "busy": []}
    calendar = _visible_calendar(ctx, calendar_id)
    if calendar is None:
        return {"errors": [_error("notFound")], "busy": []}
    periods = merge(sorted(busy_intervals(calendar, ctx.state.instance_ids, low, high)))
    return {
        "busy": [
            {"start": format_datetime(a, tz), "end": format_datetime(b, tz)} for a, b in periods
        ]
    }


def _error(reason: str) -> dict[str, str]:
    return {"domain": "global", "reason": reason}


def _visible_calendar(ctx: CallContext, calendar_id: str) -> CalendarData | None:
    if calendar_id == "primary":
        return ctx.account.primary
    wanted = calendar_id.lower()
    accounts = [ctx.account, *ctx.state.accounts.values()]
    for account in accounts:
        for calendar in account.calendars.values():
            if calendar.id.lower() == wanted and not calendar.deleted:
                return calendar
    return None


def busy_intervals(
    calendar: CalendarData, ids: InstanceIds, low: dt.datetime, high: dt.datetime
) -> Iterator[Interval]:
    """Every busy interval of ``calendar`` overlapping the window, clipped to it."""
    tz = calendar.tzinfo
    for stored in calendar.events.values():
        resource = stored.resource
        if "recurringEventId" in resource or stored.cancelled:
            continue  # exceptions come with their (live) master
        recurring = resource.get("recurrence")
        rows = expand(calendar, ids, resource, low, high) if recurring else [resource]
        for row in rows:
            if _blocks_time(row, calendar):
                start, end = span(row, tz)
                start, end = max(start, low), min(end, high)
                if start < end:
                    yield start, end


def _blocks_time(resource: dict[str, Any], calendar: CalendarData) -> bool:
    return (
        resource.get("status") != "cancelled"
        and resource.get("transparency", "opaque") != "transparent"
        and not declined_by_owner(resource, calendar)
    )


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted intervals with the overlapping or touching ones joined."""
    out: list[Interval] = []
    for start, end in intervals:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out

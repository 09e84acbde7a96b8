"""Calendar v3 ``calendarList``: the account's list of calendars and its settings for each.

The emulator has no sharing, so an account's list holds only its own calendars: an entry
removed with ``delete`` can be put back with ``insert``, and inserting any other calendar
answers 404 ``notFound``.  Colour, ``hidden``, ``selected``, ``summaryOverride``,
``defaultReminders`` and ``notificationSettings`` are the account's own settings; the
calendar's metadata (summary, zone, …) is read-only here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from calsync.testing.emulator.calendars import calendar_of, calendar_resource, find_calendar
from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import ApiError, invalid, not_found, required
from calsync.testing.emulator.listing import finish, next_sync_token, open_cursor, page_through
from calsync.testing.emulator.state import Account, CalendarData, EmulatorState
from calsync.testing.emulator.user_settings import CALENDAR_COLORS, nearest_calendar_color
from calsync.testing.emulator.wire import ApiResponse

logger = logging.getLogger(__name__)

CALENDAR_LIST_MAX = 250
CALENDAR_LIST_DEFAULT = 100
DEFAULT_COLOR_ID = "14"
DEFAULT_FOREGROUND = "#000000"
#: Entry settings a client may write (colours are handled apart).
USER_SETTINGS = (
    "hidden",
    "selected",
    "summaryOverride",
    "defaultReminders",
    "notificationSettings",
)
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def entry_seq(calendar: CalendarData) -> int:
    """The last change of the calendar or of its list entry."""
    return max(calendar.seq, calendar.entry_seq)


def list_entry(account: Account, calendar: CalendarData) -> dict[str, Any]:
    """The ``CalendarListEntry`` JSON (``deleted: true`` when deleted or removed)."""
    settings = calendar.entry
    color_id = settings.get("colorId", DEFAULT_COLOR_ID)
    out = calendar_resource(calendar)
    out.update(
        kind="calendar#calendarListEntry",
        etag=EmulatorState.calendar_etag(entry_seq(calendar)),
        colorId=color_id,
        backgroundColor=settings.get("backgroundColor", CALENDAR_COLORS[color_id]["background"]),
        foregroundColor=settings.get("foregroundColor", DEFAULT_FOREGROUND),
        selected=settings.get("selected", True),
        accessRole="owner",
        defaultReminders=settings.get("defaultReminders", []),
    )
    if settings.get("hidden"):
        out["hidden"] = True
    for name in ("summaryOverride", "notificationSettings"):
        if settings.get(name) is not None:
            out[name] = settings[name]
    if calendar.primary:
        out["primary"] = True
    else:
        out["dataOwner"] = account.email
    if calendar.deleted or not calendar.listed:
        out["deleted"] = True
    return out


def _listed(ctx: CallContext) -> CalendarData:
    calendar = calendar_of(ctx)
    if not calendar.listed:
        raise not_found()
    return calendar


@handler("calendar.calendarList.get")
def get_list_entry(ctx: CallContext) -> Result:
    """One calendar list entry; 404 for a calendar removed from the list."""
    return list_entry(ctx.account, _listed(ctx))


@handler("calendar.calendarList.list")
def list_calendar_list(ctx: CallContext) -> Result:
    """The user's calendar list, paged, with incremental sync over entries."""
    scope = f"calendarList|{ctx.account.email}"
    if ctx.param("syncToken"):
        for name in ("minAccessRole", "showOwnOrganizationOnly"):
            if name in ctx.params:
                raise invalid(f"{name} cannot be used with syncToken.", location=name)
        for name in ("showDeleted", "showHidden"):
            if ctx.param(name) is False:
                raise invalid(f"{name} cannot be false with syncToken.", location=name)
    cursor = open_cursor(ctx, scope)
    calendars = list(ctx.account.calendars.values())
    if cursor.sync is not None:
        since = cursor.sync.seq
        chosen = [c for c in calendars if since < entry_seq(c) <= cursor.high_water]
    else:
        show_deleted = bool(ctx.param("showDeleted", False))
        show_hidden = bool(ctx.param("showHidden", False))
        chosen = [
            c
            for c in calendars
            if (show_deleted or (c.listed and not c.deleted))
            and (show_hidden or not c.entry.get("hidden"))
        ]
    size = min(int(ctx.param("maxResults", CALENDAR_LIST_DEFAULT)), CALENDAR_LIST_MAX)
    items, page_token = page_through(cursor, chosen, lambda c: (c.id,), size)
    body: dict[str, Any] = {
        "kind": "calendar#calendarList",
        "etag": EmulatorState.calendar_etag(cursor.high_water),
        "items": [list_entry(ctx.account, c) for c in items],
    }
    return finish(body, page_token, lambda: next_sync_token(ctx, cursor, scope))


@handler("calendar.calendarList.insert")
def insert_list_entry(ctx: CallContext) -> Result:
    """Put one of the account's calendars (back) into its list, with the given settings."""
    body: dict[str, Any] = ctx.body or {}
    calendar_id = body.get("id")
    if not calendar_id:
        raise required("Missing calendar id.", location="id")
    calendar = find_calendar(ctx.account, str(calendar_id))
    calendar.listed = True
    _write_settings(ctx, calendar, body, replace=True)
    logger.debug("listed calendar %s for %s", calendar.id, ctx.account.email)
    return list_entry(ctx.account, calendar)


@handler("calendar.calendarList.update")
@handler("calendar.calendarList.patch")
def update_list_entry(ctx: CallContext) -> Result:
    """Replace (update) or merge (patch) the account's settings for a listed calendar."""
    calendar = _listed(ctx)
    replace = ctx.method_id.endswith("update")
    _write_settings(ctx, calendar, ctx.body or {}, replace=replace)
    return list_entry(ctx.account, calendar)


@handler("calendar.calendarList.delete")
def delete_list_entry(ctx: CallContext) -> Result:
    """Remove a calendar from the list (the calendar and its events stay)."""
    calendar = _listed(ctx)
    if calendar.primary:
        raise ApiError(400, "badRequest", "The primary calendar cannot be removed from the list.")
    calendar.listed = False
    calendar.entry = {}
    calendar.entry_seq = ctx.state.next_seq()
    logger.debug("unlisted calendar %s for %s", calendar.id, ctx.account.email)
    return ApiResponse.empty()


def _write_settings(
    ctx: CallContext, calendar: CalendarData, body: dict[str, Any], *, replace: bool
) -> None:
    settings: dict[str, Any] = {} if replace else dict(calendar.entry)
    for name in USER_SETTINGS:
        if name in body:
            settings[name] = body[name]
    if ctx.param("colorRgbFormat"):
        _write_rgb(settings, body)
    elif body.get("colorId") is not None:
        color_id = str(body["colorId"])
        if color_id not in CALENDAR_COLORS:
            raise invalid(f"Invalid color id: {color_id}", location="colorId")
        settings["colorId"] = color_id
        settings.pop("backgroundColor", None)
        settings.pop("foregroundColor", None)
    calendar.entry = {k: v for k, v in settings.items() if v is not None}
    calendar.entry_seq = ctx.state.next_seq()


def _write_rgb(settings: dict[str, Any], body: dict[str, Any]) -> None:
    for name in ("backgroundColor", "foregroundColor"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _HEX_COLOR.match(value):
            raise invalid(f"Invalid {name} value: {value}", location=name)
        settings[name] = value.lower()
    if body.get("backgroundColor"):
        settings["colorId"] = nearest_calendar_color(settings["backgroundColor"])

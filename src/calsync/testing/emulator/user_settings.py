"""Calendar v3 ``colors`` and ``settings``: the colour palette and the user's settings.

The palette is Google's "classic" one, the same for every account (the API never returns
the "modern" colours the web UI may show).  Settings are Google's documented defaults except
``timezone``, which is the primary calendar's zone.
"""

from __future__ import annotations

import logging
from typing import Any

from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import not_found
from calsync.testing.emulator.listing import finish, next_sync_token, open_cursor, page_through
from calsync.testing.emulator.state import Account, EmulatorState

logger = logging.getLogger(__name__)

#: When Google last changed its palette (what ``colors.get`` answers as ``updated``).
PALETTE_UPDATED = "2012-02-14T00:00:00.000Z"
FOREGROUND = "#1d1d1d"
CALENDAR_BACKGROUNDS = (
    "#ac725e",
    "#d06b64",
    "#f83a22",
    "#fa573c",
    "#ff7537",
    "#ffad46",
    "#42d692",
    "#16a765",
    "#7bd148",
    "#b3dc6c",
    "#fbe983",
    "#fad165",
    "#92e1c0",
    "#9fe1e7",
    "#9fc6e7",
    "#4986e7",
    "#9a9cff",
    "#b99aff",
    "#c2c2c2",
    "#cabdbf",
    "#cca6ac",
    "#f691b2",
    "#cd74e6",
    "#a47ae2",
)
EVENT_BACKGROUNDS = (
    "#a4bdfc",
    "#7ae7bf",
    "#dbadff",
    "#ff887c",
    "#fbd75b",
    "#ffb878",
    "#46d6db",
    "#e1e1e1",
    "#5484ed",
    "#51b749",
    "#dc2127",
)
CALENDAR_COLORS = {
    str(index): {"background": color, "foreground": FOREGROUND}
    for index, color in enumerate(CALENDAR_BACKGROUNDS, start=1)
}
EVENT_COLORS = {
    str(index): {"background": color, "foreground": FOREGROUND}
    for index, color in enumerate(EVENT_BACKGROUNDS, start=1)
}

#: Google's documented defaults for a new consumer account (``timezone`` is computed).
DEFAULT_SETTINGS = {
    "autoAddHangouts": "false",
    "dateFieldOrder": "MDY",
    "defaultEventLength": "60",
    "format24HourTime": "false",
    "hideInvitations": "false",
    "hideWeekends": "false",
    "locale": "en",
    "remindOnRespondedEventsOnly": "false",
    "showDeclinedEvents": "true",
    "useKeyboardShortcuts": "true",
    "weekStart": "0",
}
SETTINGS_DEFAULT_PAGE = 100
SETTINGS_MAX_PAGE = 250


def nearest_calendar_color(background: str) -> str:
    """The palette id whose background is closest (in RGB) to ``background``."""
    wanted = _rgb(background)

    def distance(color_id: str) -> int:
        have = _rgb(CALENDAR_COLORS[color_id]["background"])
        return sum((a - b) ** 2 for a, b in zip(wanted, have, strict=True))

    return min(CALENDAR_COLORS, key=distance)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@handler("calendar.colors.get")
def get_colors(ctx: CallContext) -> Result:
    """The static palette of calendar and event colours."""
    return {
        "kind": "calendar#colors",
        "updated": PALETTE_UPDATED,
        "calendar": {k: dict(v) for k, v in CALENDAR_COLORS.items()},
        "event": {k: dict(v) for k, v in EVENT_COLORS.items()},
    }


def _settings(account: Account) -> list[tuple[dict[str, Any], int]]:
    """Every setting resource with the change sequence it was last modified at."""
    values = dict(DEFAULT_SETTINGS, timezone=account.primary.time_zone)
    out = []
    for name in sorted(values):
        seq = account.primary.seq if name == "timezone" else 0
        resource = {
            "kind": "calendar#setting",
            "etag": EmulatorState.calendar_etag(seq),
            "id": name,
            "value": values[name],
        }
        out.append((resource, seq))
    return out


@handler("calendar.settings.get")
def get_setting(ctx: CallContext) -> Result:
    """One user setting by id; 404 for an id Google does not have."""
    for resource, _ in _settings(ctx.account):
        if resource["id"] == ctx.path["setting"]:
            return resource
    raise not_found()


@handler("calendar.settings.list")
def list_settings(ctx: CallContext) -> Result:
    """Every user setting, paged, with incremental sync (only ``timezone`` ever changes)."""
    scope = f"settings|{ctx.account.email}"
    cursor = open_cursor(ctx, scope)
    rows = _settings(ctx.account)
    if cursor.sync is not None:
        since = cursor.sync.seq
        rows = [(r, seq) for r, seq in rows if since < seq <= cursor.high_water]
    size = min(int(ctx.param("maxResults", SETTINGS_DEFAULT_PAGE)), SETTINGS_MAX_PAGE)
    items, page_token = page_through(cursor, [r for r, _ in rows], lambda r: (r["id"],), size)
    body: dict[str, Any] = {
        "kind": "calendar#settings",
        "etag": EmulatorState.calendar_etag(cursor.high_water),
        "items": items,
    }
    return finish(body, page_token, lambda: next_sync_token(ctx, cursor, scope))

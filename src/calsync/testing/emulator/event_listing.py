"""Calendar v3 ``events.list`` (full and incremental) and ``events.instances``.

With ``singleEvents=true`` an incremental listing expands each changed recurring master over
the time window of the full listing that issued the token (encoded in the token), or from the
series start up to the expansion horizon when that listing had no window.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from attrs import define

from calsync.testing.emulator.calendars import calendar_of
from calsync.testing.emulator.context import CallContext, Result, handler
from calsync.testing.emulator.errors import bad_request, invalid, not_found
from calsync.testing.emulator.event_model import instance_resource, render_listed, span
from calsync.testing.emulator.events import not_produced, render_zone
from calsync.testing.emulator.listing import (
    Cursor,
    finish,
    next_sync_token,
    open_cursor,
    page_through,
)
from calsync.testing.emulator.recurrence import InstanceIds, Series, instance_suffix
from calsync.testing.emulator.state import CalendarData, EmulatorState
from calsync.testing.emulator.times import (
    format_datetime,
    parse_datetime,
    parse_query_time,
    parse_when,
    time_range_empty,
)
from calsync.testing.emulator.tokens import Key

logger = logging.getLogger(__name__)

EVENTS_DEFAULT = 250
EVENTS_MAX = 2500
FORBIDDEN_WITH_SYNC = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
#: Listings filtered by these never return a ``nextSyncToken``.
NO_SYNC_TOKEN_WITH = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "updatedMin",
)

Resource = dict[str, Any]


@define
class Filters:
    """The filters of a full listing, parsed and validated."""

    time_min: dt.datetime | None = None
    time_max: dt.datetime | None = None
    updated_min: dt.datetime | None = None
    show_deleted: bool = False
    single: bool = False
    ical_uid: str | None = None
    text: str | None = None
    event_types: list[str] | None = None
    private: list[tuple[str, str]] = attrs.field(factory=list)
    shared: list[tuple[str, str]] = attrs.field(factory=list)

    @classmethod
    def from_call(cls, ctx: CallContext) -> Filters:
        """Parse the listing parameters of ``ctx``."""
        out = cls(
            time_min=_time_param(ctx, "timeMin"),
            time_max=_time_param(ctx, "timeMax"),
            updated_min=_time_param(ctx, "updatedMin"),
            show_deleted=bool(ctx.param("showDeleted", False)),
            single=bool(ctx.param("singleEvents", False)),
            ical_uid=ctx.param("iCalUID"),
            text=ctx.param("q"),
            event_types=ctx.param("eventTypes"),
            private=_pairs(ctx.param("privateExtendedProperty") or [], "private"),
            shared=_pairs(ctx.param("sharedExtendedProperty") or [], "shared"),
        )
        if out.time_min and out.time_max and out.time_max <= out.time_min:
            raise time_range_empty("timeMax")
        return out

    def window(self) -> tuple[str | None, str | None]:
        """The time window as token-encodable strings."""
        low = format_datetime(self.time_min) if self.time_min else None
        return low, format_datetime(self.time_max) if self.time_max else None


def _time_param(ctx: CallContext, name: str) -> dt.datetime | None:
    text = ctx.param(name)
    return parse_query_time(name, text) if text else None


def _pairs(values: list[str], kind: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise invalid(f"Invalid {kind} extended property filter: {value}")
        pairs.append((name, text))
    return pairs


def _matches(resource: Resource, filters: Filters, tz: dt.tzinfo) -> bool:
    if filters.time_min or filters.time_max:
        start, end = span(resource, tz)
        if (filters.time_min and end <= filters.time_min) or (
            filters.time_max and start >= filters.time_max
        ):
            return False
    if filters.updated_min and parse_datetime(resource["updated"]) < filters.updated_min:
        return False
    if filters.ical_uid is not None and resource.get("iCalUID") != filters.ical_uid:
        return False
    if filters.event_types and resource.get("eventType", "default") not in filters.event_types:
        return False
    return _props_match(resource, filters) and _text_match(resource, filters.text)


def _props_match(resource: Resource, filters: Filters) -> bool:
    props = resource.get("extendedProperties") or {}
    for kind, wanted in (("private", filters.private), ("shared", filters.shared)):
        have = props.get(kind) or {}
        if wanted and not any(have.get(name) == value for name, value in wanted):
            return False
    return True


def _text_match(resource: Resource, text: str | None) -> bool:
    if not text:
        return True
    words = [resource.get(k) or "" for k in ("summary", "description", "location")]
    words += [a.get("email", "") + a.get("displayName", "") for a in resource.get("attendees", [])]
    return text.lower() in " ".join(words).lower()


def _visible(resource: Resource, filters: Filters, masters: dict[str, Resource]) -> bool:
    if resource.get("status") != "cancelled" or filters.show_deleted or filters.updated_min:
        return True
    master = masters.get(resource.get("recurringEventId") or "")
    return not filters.single and master is not None and master.get("status") != "cancelled"


def expand(
    calendar: CalendarData,
    ids: InstanceIds,
    master: Resource,
    low: dt.datetime | None,
    high: dt.datetime | None,
) -> list[Resource]:
    """The instances of ``master`` overlapping the window (named by ``ids``), exceptions in
    place of instances.

    Only exceptions whose original start the series still produces are listed, as Google
    does: one the rule no longer makes (a shorter ``COUNT``, an ``UNTIL``, "this and
    following", the series moved to another time or zone) is gone with its occurrence."""
    series = Series(master)
    exceptions: dict[str, Resource] = {}
    for stored in calendar.exceptions_of(master["id"]).values():
        original = parse_when(stored.resource["originalStartTime"], "originalStartTime")
        if series.occurrence_at(original) is not None:
            exceptions[instance_suffix(original)] = stored.resource
    rows = [
        instance_resource(master, occurrence, ids)
        for occurrence in series.occurrences(low, high, calendar.tzinfo)
        if occurrence.suffix not in exceptions
    ]
    return rows + list(exceptions.values())


def full_rows(calendar: CalendarData, ids: InstanceIds, filters: Filters) -> list[Resource]:
    """Every event a full listing with ``filters`` returns."""
    tz = calendar.tzinfo
    masters = {k: e.resource for k, e in calendar.events.items() if e.resource.get("recurrence")}
    rows: list[Resource] = []
    for stored in calendar.events.values():
        resource = stored.resource
        if "recurringEventId" in resource and (filters.single or not_produced(calendar, resource)):
            continue
        if not resource.get("recurrence"):
            rows.extend([resource] if _matches(resource, filters, tz) else [])
        elif filters.single:
            expanded = expand(calendar, ids, resource, filters.time_min, filters.time_max)
            rows.extend(row for row in expanded if _matches(row, filters, tz))
        elif _series_overlaps(calendar, resource, filters):
            untimed = attrs.evolve(filters, time_min=None, time_max=None)
            rows.extend([resource] if _matches(resource, untimed, tz) else [])
    return [row for row in rows if _visible(row, filters, masters)]


def _series_overlaps(calendar: CalendarData, master: Resource, filters: Filters) -> bool:
    if not (filters.time_min or filters.time_max):
        return True
    occurrences = Series(master).occurrences(filters.time_min, filters.time_max, calendar.tzinfo)
    return next(iter(occurrences), None) is not None


def incremental_rows(
    calendar: CalendarData, ids: InstanceIds, cursor: Cursor, single: bool
) -> list[Resource]:
    """Events changed after the token (tombstones included), expanded when ``single``."""
    assert cursor.sync is not None
    since, high = cursor.sync.seq, cursor.high_water
    changed = [s.resource for s in calendar.events.values() if since < s.seq <= high]
    if not single:
        return changed
    low_text, high_text = cursor.sync.window
    low = parse_datetime(low_text) if low_text else None
    top = parse_datetime(high_text) if high_text else None
    rows: dict[str, Resource] = {}
    for resource in changed:
        expanded = (
            expand(calendar, ids, resource, low, top) if resource.get("recurrence") else [resource]
        )
        rows.update((row["id"], row) for row in expanded)
    return list(rows.values())


def _sort_key(order: str | None, tz: dt.tzinfo) -> Callable[[Resource], Key]:
    if order == "startTime":
        return lambda r: (format_datetime(span(r, tz)[0]), r["id"])
    if order == "updated":
        return lambda r: (r.get("updated", ""), r["id"])
    return lambda r: (r["id"],)


def _check_sync_params(ctx: CallContext) -> None:
    for name in FORBIDDEN_WITH_SYNC:
        if name in ctx.params:
            raise invalid(f"The parameter {name} cannot be used with syncToken.", location=name)
    if ctx.param("showDeleted") is False:
        raise invalid("showDeleted cannot be false with syncToken.", location="showDeleted")


def _events_body(
    ctx: CallContext, calendar: CalendarData, rows: Iterable[Resource], tz: dt.tzinfo
) -> Resource:
    body: Resource = {
        "kind": "calendar#events",
        "etag": EmulatorState.calendar_etag(calendar.seq),
        "summary": calendar.summary,
        "updated": ctx.state.timestamp(),
        "timeZone": calendar.time_zone,
        "accessRole": "owner",
        "defaultReminders": [],
        "items": [render_listed(r, tz) for r in rows],
    }
    if calendar.description is not None:
        body["description"] = calendar.description
    return body


@handler("calendar.events.list")
def list_events(ctx: CallContext) -> Result:
    """Full or incremental listing of a calendar's events, paged."""
    calendar = calendar_of(ctx)
    tz = render_zone(ctx, calendar)
    if ctx.param("syncToken"):
        _check_sync_params(ctx)
    filters = Filters.from_call(ctx)
    if ctx.param("orderBy") == "startTime" and not filters.single:
        raise bad_request("The requested ordering is not available for the particular query.")
    scope = f"events|{ctx.account.email}|{calendar.id}"
    cursor = open_cursor(ctx, scope)
    if cursor.sync is not None:
        rows = incremental_rows(calendar, ctx.state.instance_ids, cursor, filters.single)
    else:
        rows = full_rows(calendar, ctx.state.instance_ids, filters)
    size = min(int(ctx.param("maxResults", EVENTS_DEFAULT)), EVENTS_MAX)
    items, page_token = page_through(cursor, rows, _sort_key(ctx.param("orderBy"), tz), size)
    body = _events_body(ctx, calendar, items, tz)
    keeps_token = not any(name in ctx.params for name in NO_SYNC_TOKEN_WITH)
    window = filters.window()
    token = (lambda: next_sync_token(ctx, cursor, scope, window)) if keeps_token else None
    return finish(body, page_token, token)


@handler("calendar.events.instances")
def list_instances(ctx: CallContext) -> Result:
    """The instances of a recurring event, exceptions in place, paged by start."""
    calendar = calendar_of(ctx)
    tz = render_zone(ctx, calendar)
    stored = calendar.events.get(ctx.path["eventId"])
    if stored is None:
        raise not_found()
    master = stored.resource
    filters = Filters.from_call(ctx)
    if master.get("recurrence"):
        rows = expand(calendar, ctx.state.instance_ids, master, filters.time_min, filters.time_max)
    else:
        rows = [master]
    rows = [r for r in rows if filters.show_deleted or r.get("status") != "cancelled"]
    rows = [r for r in rows if _matches(r, filters, calendar.tzinfo)]
    if ctx.param("originalStart"):
        wanted = parse_query_time("originalStart", ctx.param("originalStart"))
        rows = [r for r in rows if _original_start(r, calendar.tzinfo) == wanted]
    scope = f"instances|{calendar.id}|{master['id']}"
    cursor = open_cursor(ctx, scope)
    size = min(int(ctx.param("maxResults", EVENTS_DEFAULT)), EVENTS_MAX)
    items, page_token = page_through(cursor, rows, _sort_key("startTime", tz), size)
    return finish(_events_body(ctx, calendar, items, tz), page_token, None)


def _original_start(resource: Resource, tz: dt.tzinfo) -> dt.datetime | None:
    original = resource.get("originalStartTime")
    return parse_when(original, "originalStartTime").start_instant(tz) if original else None

"""RFC 3339 instants, ``EventDateTime`` values and IANA zones, as Calendar v3 uses them.

Timed event times are stored canonically as UTC (``...Z``) plus the event's ``timeZone`` and
rendered, like Google does, in the ``timeZone`` query parameter or else the calendar's zone.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from functools import cache
from typing import Any

from attrs import frozen

from calsync.testing.emulator.errors import ApiError, bad_request, invalid, required

logger = logging.getLogger(__name__)

UTC = dt.UTC
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
#: Files of the system's zoneinfo tree that ``ZoneInfo`` opens but that are no names of the tz
#: database (``posix/…`` and ``right/…`` are its copies of every zone, the latter counting leap
#: seconds): Google answers them as an invalid time zone.
_NOT_ZONE_NAMES = re.compile(r"^(posix|right)/|^(posixrules|localtime)$")


@cache
def zone(name: str) -> dt.tzinfo | None:
    """The IANA zone called ``name``, or None when Google would not know it."""
    if not _ZONE_NAME.match(name) or _NOT_ZONE_NAMES.match(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def parse_datetime(text: str, *, default_zone: dt.tzinfo | None = None) -> dt.datetime:
    """Parse RFC 3339; without an offset, ``default_zone`` applies (else ``ValueError``)."""
    found = _RFC3339.match(text)
    if not found:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = found.group(7) or ""
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = found.group(8)
    if offset:
        tzinfo: dt.tzinfo = UTC if offset in "Zz" else _offset_zone(offset)
    elif default_zone is not None:
        tzinfo = default_zone
    else:
        raise ValueError(text)
    naive = dt.datetime(year, month, day, hour, minute, second, micro)
    return naive.replace(tzinfo=tzinfo)


def _offset_zone(offset: str) -> dt.tzinfo:
    digits = offset[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.timezone(-delta if offset[0] == "-" else delta)


def parse_query_time(name: str, text: str) -> dt.datetime:
    """A ``timeMin``/``timeMax``/``updatedMin`` value: RFC 3339 with a mandatory offset."""
    try:
        return parse_datetime(text)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {text}", location=name) from None


def parse_date(text: str) -> dt.date:
    """A ``yyyy-mm-dd`` date (``ValueError`` otherwise)."""
    if not _DATE.match(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def format_datetime(value: dt.datetime, tz: dt.tzinfo = UTC) -> str:
    """RFC 3339 in ``tz``, seconds precision, ``Z`` for a zero offset."""
    local = value.astimezone(tz)
    text = _wall_time(local)
    offset = local.utcoffset() or dt.timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_timestamp(value: dt.datetime) -> str:
    """``updated``/``created`` style: UTC with milliseconds."""
    utc = value.astimezone(UTC)
    return f"{_wall_time(utc)}.{utc.microsecond // 1000:03d}Z"


def _wall_time(value: dt.datetime) -> str:
    """``yyyy-mm-ddThh:mm:ss``, the year in four digits (``strftime("%Y")`` gives ``1`` for the
    year 1 on Linux)."""
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}"


@frozen
class When:
    """A validated ``EventDateTime``: a date (all-day) or an aware instant, plus its zone."""

    date: dt.date | None
    instant: dt.datetime | None
    zone_name: str | None

    @property
    def all_day(self) -> bool:
        """True for an all-day (``date``) value."""
        return self.date is not None

    def canonical(self) -> dict[str, Any]:
        """The stored form: ``date`` or a UTC ``dateTime``, with ``timeZone`` kept."""
        out: dict[str, Any] = {}
        if self.date is not None:
            out["date"] = self.date.isoformat()
        elif self.instant is not None:
            out["dateTime"] = format_datetime(self.instant)
        if self.zone_name:
            out["timeZone"] = self.zone_name
        return out

    def start_instant(self, calendar_zone: dt.tzinfo) -> dt.datetime:
        """The instant this value denotes; all-day dates start at midnight calendar time."""
        if self.instant is not None:
            return self.instant
        assert self.date is not None
        return dt.datetime.combine(self.date, dt.time(), calendar_zone)


def parse_when(value: Any, field: str) -> When:
    """Validate one ``EventDateTime`` (``field`` is ``start``, ``end`` or the like)."""
    if not isinstance(value, dict):
        raise required(f"Missing {field} time.", location=field)
    date_text, time_text = value.get("date"), value.get("dateTime")
    zone_name = value.get("timeZone") or None
    if zone_name is not None and zone(zone_name) is None:
        raise invalid(f"Invalid time zone definition for {field} time.")
    if (date_text is None) == (time_text is None):
        if date_text is None:
            raise required(f"Missing {field} time.", location=field)
        raise bad_request(f"Only one of date and dateTime may be set for the {field} time.")
    if date_text is not None:
        return When(_parse_event_date(date_text, field), None, zone_name)
    return When(None, _parse_event_datetime(time_text, zone_name, field), zone_name)


def _parse_event_date(text: Any, field: str) -> dt.date:
    try:
        return parse_date(str(text))
    except ValueError:
        raise invalid(f"Invalid {field} time.") from None


def _parse_event_datetime(text: Any, zone_name: str | None, field: str) -> dt.datetime:
    default = zone(zone_name) if zone_name else None
    try:
        return parse_datetime(str(text), default_zone=default).astimezone(UTC)
    except ValueError:
        if _RFC3339.match(str(text)):
            raise required(f"Missing time zone definition for {field} time.") from None
        raise invalid(f"Invalid {field} time.") from None


def render_when(stored: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """A stored ``EventDateTime`` rendered for output in zone ``tz``."""
    out = dict(stored)
    if "dateTime" in out:
        out["dateTime"] = format_datetime(parse_datetime(out["dateTime"]), tz)
    return out


def check_range(start: When, end: When) -> None:
    """Both date or both dateTime, and the end not before the start (Google's rules)."""
    if start.all_day != end.all_day:
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    if start.date is not None and end.date is not None and end.date <= start.date:
        raise time_range_empty()
    if start.instant is not None and end.instant is not None and end.instant < start.instant:
        raise time_range_empty()


def time_range_empty(location: str | None = None) -> ApiError:
    """400 ``timeRangeEmpty``."""
    return ApiError(
        400,
        "timeRangeEmpty",
        "The specified time range is empty.",
        domain="calendar",
        location=location,
    )

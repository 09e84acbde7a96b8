"""Recurring events: RRULE/EXRULE/RDATE/EXDATE expanded with ``dateutil.rrule``, and the ids
of their instances (:class:`InstanceIds`).

Expansion without an upper bound stops at a horizon of :data:`HORIZON` after the later of now
and the series start, and never yields more than :data:`MAX_INSTANCES` instances per series.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterator
from typing import Any, Literal, get_args

from attrs import frozen
from dateutil.rrule import rrule, rruleset, rrulestr

from calsync.testing.emulator.errors import ApiError, invalid
from calsync.testing.emulator.times import UTC, When, parse_when, zone

logger = logging.getLogger(__name__)

HORIZON = dt.timedelta(days=730)
MAX_INSTANCES = 5000
_SUFFIX = re.compile(r"^(\d{8})(T\d{6}Z)?$")
_UNTIL = re.compile(r"UNTIL=([0-9TZtz]+)")

#: How instances are named: ``dated`` as Google did until Q3 2026, ``opaque`` as it does since.
InstanceIdStyle = Literal["dated", "opaque"]
#: The length of an opaque instance id (that of the ids Google makes for events).
OPAQUE_ID_LENGTH = 26


@frozen
class Occurrence:
    """One generated instance: its original start (its identity), start and end."""

    original: When
    start: When
    end: When

    @property
    def suffix(self) -> str:
        """The instance-id suffix: ``YYYYMMDD`` or ``YYYYMMDDTHHMMSSZ`` (UTC)."""
        return instance_suffix(self.original)


def instance_suffix(original: When) -> str:
    """The id suffix Google derives from an instance's original start (the year always in four
    digits: ``strftime("%Y")`` gives ``33`` for the year 33 on Linux)."""
    if original.date is not None:
        return _day_stamp(original.date)
    assert original.instant is not None
    return _moment_stamp(original.instant.astimezone(UTC)) + "Z"


def _day_stamp(day: dt.date) -> str:
    """``YYYYMMDD``, zero-padded."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _moment_stamp(moment: dt.datetime) -> str:
    """``YYYYMMDDTHHMMSS`` of the wall time of ``moment``, zero-padded."""
    return f"{_day_stamp(moment)}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"


def split_instance_id(event_id: str) -> tuple[str, When] | None:
    """``master_20240102T090000Z`` -> (master id, original start), or None."""
    master, sep, suffix = event_id.rpartition("_")
    found = _SUFFIX.match(suffix)
    if not sep or not master or not found:
        return None
    day = dt.datetime.strptime(found.group(1), "%Y%m%d")
    if found.group(2) is None:
        return master, When(day.date(), None, None)
    clock = dt.datetime.strptime(found.group(2), "T%H%M%SZ").time()
    return master, When(None, dt.datetime.combine(day.date(), clock, UTC), None)


class InstanceIds:
    """The ids the emulator gives the instances of recurring events, in one ``style``.

    ``dated`` (the default) is the format Google used until Q3 2026: the series' id, ``_``,
    and the original start (``YYYYMMDD``, or ``YYYYMMDDTHHMMSSZ`` in UTC). ``opaque`` is how
    Google names them since (it announced the change and that ids are to be treated as
    opaque): base32hex without ``_``, the same for one occurrence in every answer, derivable
    neither from the series' id nor from the start (a keyed hash, with a key of this
    emulator's own), so that a client can only learn what an instance is from its
    ``recurringEventId`` and ``originalStartTime``. An opaque id is remembered as it is given
    out, to find its occurrence again: call with the state lock held.
    """

    def __init__(self, style: InstanceIdStyle = "dated") -> None:
        if style not in get_args(InstanceIdStyle):
            raise ValueError(f"instance ids are 'dated' or 'opaque', not {style!r}")
        self.style = style
        self._key = os.urandom(16)
        self._given: dict[str, tuple[str, When]] = {}

    def name(self, master_id: str, original: When) -> str:
        """The id of the instance of series ``master_id`` whose original start is
        ``original``."""
        suffix = instance_suffix(original)
        if self.style == "dated":
            return f"{master_id}_{suffix}"
        message = f"{master_id}\0{suffix}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        event_id = base64.b32hexencode(digest).decode("ascii").lower()[:OPAQUE_ID_LENGTH]
        self._given[event_id] = (master_id, original)
        return event_id

    def occurrence(self, event_id: str) -> tuple[str, When] | None:
        """The series' id and the original start of the instance ``event_id`` names, or
        ``None`` when it names none (an opaque id never given out)."""
        if self.style == "dated":
            return split_instance_id(event_id)
        return self._given.get(event_id)

    def forget(self) -> None:
        """Forget the opaque ids given out (the emulator was reset: no series is left)."""
        self._given.clear()


class Series:
    """The expansion of one recurring master event."""

    def __init__(self, master: dict[str, Any]) -> None:
        self.start = parse_when(master["start"], "start")
        self.end = parse_when(master["end"], "end")
        self._tz = zone(self.start.zone_name) if self.start.zone_name else None
        if self.start.all_day:
            assert self.start.date is not None
            assert self.end.date is not None
            self._dtstart = dt.datetime.combine(self.start.date, dt.time())
            self._span = self.end.date - self.start.date
        else:
            assert self.start.instant is not None
            assert self.end.instant is not None
            if self._tz is None:
                raise invalid("Missing time zone definition for start time.")
            self._dtstart = self.start.instant.astimezone(self._tz)
            self._span = self.end.instant - self.start.instant
        self._set = self._build(master.get("recurrence") or [])

    def _build(self, lines: list[str]) -> rruleset:
        rules = rruleset()
        for line in lines:
            try:
                self._add_line(rules, str(line))
            except (ValueError, TypeError, KeyError) as exc:
                logger.debug("rejected recurrence line %r: %s", line, exc)
                raise invalid("Invalid recurrence rule.") from None
        return rules

    def _add_line(self, rules: rruleset, line: str) -> None:
        head, _, value = line.partition(":")
        name, *params = head.upper().split(";")
        if name in ("RRULE", "EXRULE"):
            rule = rrulestr(self._fix_until(value), dtstart=self._dtstart)
            if not isinstance(rule, rrule):
                raise ValueError(line)
            (rules.rrule if name == "RRULE" else rules.exrule)(rule)
        elif name in ("RDATE", "EXDATE"):
            for stamp in value.split(","):
                moment = self._moment(stamp.strip(), params)
                (rules.rdate if name == "RDATE" else rules.exdate)(moment)
        else:
            raise ValueError(f"unsupported recurrence line {name}")

    def _fix_until(self, rule: str) -> str:
        """Make UNTIL comparable with DTSTART (UTC for timed series, floating for all-day)."""
        found = _UNTIL.search(rule.upper())
        if not found:
            return rule
        until = self._moment(found.group(1), [])
        if self._tz is None:
            whole_day = len(found.group(1)) == 8
            text = f"{_day_stamp(until)}T235959" if whole_day else _moment_stamp(until)
        else:
            if len(found.group(1)) == 8:
                until = until.replace(hour=23, minute=59, second=59)
            text = _moment_stamp(until.astimezone(UTC)) + "Z"
        return rule[: found.start(1)] + text + rule[found.end(1) :]

    def _moment(self, stamp: str, params: list[str]) -> dt.datetime:
        zone_param = next((p[5:] for p in params if p.startswith("TZID=")), None)
        day = dt.datetime.strptime(stamp[:8], "%Y%m%d")
        if len(stamp) == 8:
            clock = self._dtstart.time() if self._tz is not None else dt.time()
            moment = dt.datetime.combine(day.date(), clock)
        else:
            moment = dt.datetime.strptime(stamp.upper().rstrip("Z"), "%Y%m%dT%H%M%S")
        if self._tz is None:
            return moment if len(stamp) == 8 else dt.datetime.combine(moment.date(), dt.time())
        if stamp.upper().endswith("Z"):
            return moment.replace(tzinfo=UTC).astimezone(self._tz)
        tz = (zone(zone_param) if zone_param else None) or self._tz
        return moment.replace(tzinfo=tz)

    def occurrences(
        self,
        window_start: dt.datetime | None,
        window_end: dt.datetime | None,
        calendar_zone: dt.tzinfo,
    ) -> Iterator[Occurrence]:
        """Instances overlapping ``[window_start, window_end)`` (aware instants)."""
        now = dt.datetime.now(UTC)
        horizon = max(now, self.start.start_instant(calendar_zone)) + HORIZON
        end = window_end or horizon
        low = window_start - self._span if window_start else None
        for count, moment in enumerate(self._iterate(low, end, calendar_zone)):
            if count >= MAX_INSTANCES:
                return
            occurrence = self._occurrence(moment)
            if window_start is None or self._ends_after(occurrence, window_start, calendar_zone):
                yield occurrence

    def _iterate(
        self, low: dt.datetime | None, high: dt.datetime, calendar_zone: dt.tzinfo
    ) -> Iterator[dt.datetime]:
        if self._tz is None:
            high = high.astimezone(calendar_zone).replace(tzinfo=None)
            low = low.astimezone(calendar_zone).replace(tzinfo=None) if low else None
        for moment in self._set:
            if moment >= high:
                return
            if low is None or moment >= low:
                yield moment

    def _ends_after(self, item: Occurrence, start: dt.datetime, calendar_zone: dt.tzinfo) -> bool:
        if item.end.date is not None:
            return dt.datetime.combine(item.end.date, dt.time(), calendar_zone) > start
        assert item.end.instant is not None
        return item.end.instant > start

    def _occurrence(self, moment: dt.datetime) -> Occurrence:
        if self._tz is None:
            day = moment.date()
            first = When(day, None, self.start.zone_name)
            return Occurrence(first, first, When(day + self._span, None, self.end.zone_name))
        begin = moment.astimezone(UTC)
        first = When(None, begin, self.start.zone_name)
        return Occurrence(first, first, When(None, begin + self._span, self.end.zone_name))

    def first(self) -> dt.datetime | None:
        """The first generated start (``ValueError``/``TypeError`` for unusable rules)."""
        return next(iter(self._set), None)

    def occurrence_at(self, original: When) -> Occurrence | None:
        """The instance whose original start is ``original``, if the series has one."""
        if original.date is not None:
            if self._tz is not None:
                return None
            moment = dt.datetime.combine(original.date, dt.time())
        elif self._tz is None or original.instant is None:
            return None
        else:
            moment = original.instant.astimezone(self._tz)
        if any(m == moment for m in self._set.between(moment, moment, inc=True)):
            return self._occurrence(moment)
        return None


def validate_series(master: dict[str, Any]) -> None:
    """Raise ``ApiError`` if the master's recurrence cannot be expanded."""
    try:
        Series(master).first()
    except ApiError:
        raise
    except (ValueError, TypeError) as exc:
        logger.debug("rejected recurrence: %s", exc)
        raise invalid("Invalid recurrence rule.") from None

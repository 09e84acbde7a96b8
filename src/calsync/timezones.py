"""IANA zone names: validation and canonicalisation of legacy aliases.

calsync keeps and sends a zone under its canonical name, and reads every name of the table below
as its canonical one, so that a zone coming back from Google under another of its names is no
edit. Google's own time-zone database lags the IANA one, so it is a *new* name that Google may
refuse: in August 2022, after tz 2022b renamed Kiev to Kyiv, Google answered
``events.insert``/``update``/``patch`` carrying ``Europe/Kyiv`` with 400 "Invalid time zone
definition for start time.", its database still naming the zone ``Europe/Kiev``
(OutlookGoogleCalendarSync issues #1525, #1528, #1530). Whether Google takes a name cannot be
known in advance, and the next rename will come, so the Google backend sends a zone Google
refuses under its other names (:func:`zone_names`), which come back as the legacy name and are
read as the canonical one.

The table is the tz database's ``backward`` links that hosts are known to emit; anything else
must be a name of the tz database itself. What else python-dateutil resolves is no zone Google
knows: a POSIX TZ string (``EST5``, ``UTC+05:30``, and ``GMT+5``, which dateutil reads as UTC+5
where the database's ``Etc/GMT+5`` is UTC-5) or a file path (``/etc/localtime``).
"""

from __future__ import annotations

import tarfile
import zoneinfo
from datetime import tzinfo
from functools import cache, lru_cache

from dateutil import tz
from dateutil.zoneinfo import METADATA_FN, getzoneinfofile_stream

from calsync.errors import ConfigurationError

__all__ = ["canonical_zone", "zone_info", "zone_names"]

#: Legacy name → canonical name (tzdata ``backward`` file).
LEGACY_ZONES: dict[str, str] = {
    "Europe/Kiev": "Europe/Kyiv",
    "Europe/Uzhgorod": "Europe/Kyiv",
    "Europe/Zaporozhye": "Europe/Kyiv",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Asia/Chongqing": "Asia/Shanghai",
    "Asia/Chungking": "Asia/Shanghai",
    "Asia/Harbin": "Asia/Shanghai",
    "Asia/Istanbul": "Europe/Istanbul",
    "Asia/Tel_Aviv": "Asia/Jerusalem",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "America/Godthab": "America/Nuuk",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Louisville": "America/Kentucky/Louisville",
    "Australia/ACT": "Australia/Sydney",
    "Australia/NSW": "Australia/Sydney",
    "Australia/Canberra": "Australia/Sydney",
    "Australia/Victoria": "Australia/Melbourne",
    "Australia/Queensland": "Australia/Brisbane",
    "Australia/West": "Australia/Perth",
    "Australia/South": "Australia/Adelaide",
    "Australia/North": "Australia/Darwin",
    "Australia/Tasmania": "Australia/Hobart",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Samoa": "Pacific/Pago_Pago",
    "US/Eastern": "America/New_York",
    "US/Central": "America/Chicago",
    "US/Mountain": "America/Denver",
    "US/Pacific": "America/Los_Angeles",
    "US/Alaska": "America/Anchorage",
    "US/Hawaii": "Pacific/Honolulu",
    "US/Arizona": "America/Phoenix",
    "US/Michigan": "America/Detroit",
    "Canada/Eastern": "America/Toronto",
    "Canada/Central": "America/Winnipeg",
    "Canada/Mountain": "America/Edmonton",
    "Canada/Pacific": "America/Vancouver",
    "Canada/Atlantic": "America/Halifax",
    "Canada/Newfoundland": "America/St_Johns",
    "GB": "Europe/London",
    "GB-Eire": "Europe/London",
    "Eire": "Europe/Dublin",
    "NZ": "Pacific/Auckland",
    "Japan": "Asia/Tokyo",
    "Singapore": "Asia/Singapore",
    "Hongkong": "Asia/Hong_Kong",
    "Israel": "Asia/Jerusalem",
    "Turkey": "Europe/Istanbul",
    "Poland": "Europe/Warsaw",
    "Portugal": "Europe/Lisbon",
    "Egypt": "Africa/Cairo",
    "Etc/UTC": "UTC",
    "Etc/UCT": "UTC",
    "Etc/GMT": "UTC",
    "Etc/Universal": "UTC",
    "Etc/Zulu": "UTC",
    "UCT": "UTC",
    "GMT": "UTC",
    "Universal": "UTC",
    "Zulu": "UTC",
}


#: Legacy names of :data:`LEGACY_ZONES` that are no other name of their canonical zone: zones
#: of their own that the tz database merged into it, their clocks agreeing since 1970
#: (``Asia/Chongqing`` and ``Asia/Harbin`` in 2014f, with ``Asia/Chungking``, Chongqing's old
#: name; ``Europe/Uzhgorod`` and ``Europe/Zaporozhye`` in 2022g), or that it still keeps apart
#: (``Etc/GMT``: UTC abbreviated GMT). calsync reads them as the canonical zone, but never
#: sends them in its stead (:func:`zone_names`): a database older than the merge knows them as
#: another city's zone.
MERGED_ZONES = frozenset(
    {
        "Europe/Uzhgorod",
        "Europe/Zaporozhye",
        "Asia/Chongqing",
        "Asia/Chungking",
        "Asia/Harbin",
        "Etc/GMT",
        "GMT",
    }
)


#: Files of a zoneinfo directory that are no zone of the database (``Factory`` is the zone of a
#: machine whose zone was never set).
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _bundled_zones() -> frozenset[str]:
    """The zone names of python-dateutil's own copy of the tz database (on every platform):
    the names in its archive, not the zones (reading them all costs 0.1 s and 3 MB)."""
    stream = getzoneinfofile_stream()
    if stream is None:
        return frozenset()
    with tarfile.open(fileobj=stream) as archive:
        names = frozenset(member.name for member in archive.getmembers() if not member.isdir())
    return names - _NOT_ZONES - {METADATA_FN}


@cache
def _system_zones() -> frozenset[str]:
    """The zone names of the system's tz database, which may be newer (none on Windows, unless
    the tzdata package is installed)."""
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def _is_database_zone(name: str) -> bool:
    return name in _system_zones() or name in _bundled_zones()


@lru_cache(maxsize=512)
def canonical_zone(name: str) -> str:
    """Return the canonical IANA name for ``name``.

    Raises:
        ConfigurationError: ``name`` is no zone name of the tz database (nor a legacy alias).
    """
    canonical = LEGACY_ZONES.get(name.strip(), name.strip())
    if not _is_database_zone(canonical) or tz.gettz(canonical) is None:
        raise ConfigurationError(f"unknown time zone {name!r}")
    return canonical


@lru_cache(maxsize=512)
def zone_info(name: str) -> tzinfo:
    """Return the tzinfo for a (possibly legacy) zone name.

    Raises:
        ConfigurationError: the zone is unknown.
    """
    zone = tz.gettz(canonical_zone(name))
    if zone is None:  # pragma: no cover - canonical_zone already checked
        raise ConfigurationError(f"unknown time zone {name!r}")
    return zone


@lru_cache(maxsize=512)
def zone_names(name: str) -> tuple[str, ...]:
    """Every name of the zone ``name`` (itself possibly a legacy one), canonical name first,
    then its legacy names of :data:`LEGACY_ZONES` that name the same zone (a rename, such as
    ``Europe/Kiev`` for ``Europe/Kyiv``, or a link such as ``US/Eastern``; never a zone merged
    into it, :data:`MERGED_ZONES`), in the table's order: the names a zone may be sent under
    when a database older or newer than calsync's refuses one.

    Raises:
        ConfigurationError: the zone is unknown.
    """
    canonical = canonical_zone(name)
    aliases = (
        legacy
        for legacy, target in LEGACY_ZONES.items()
        if target == canonical and legacy not in MERGED_ZONES
    )
    return (canonical, *aliases)

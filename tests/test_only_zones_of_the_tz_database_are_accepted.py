"""A timed item's zone is a name of the IANA tz database (or a legacy alias of one), the names
Google knows. What else python-dateutil would resolve (POSIX TZ strings, offsets, file paths)
is refused where the item is built, rather than sent to Google and refused on every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync.errors import ConfigurationError
from calsync.model import Timed
from calsync.timezones import LEGACY_ZONES, canonical_zone

START = datetime(2031, 3, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone",
    [
        "UTC+05:30",
        "GMT+5",  # dateutil reads UTC+5; the database's Etc/GMT+5 is UTC-5
        "EST5",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "/etc/localtime",
        "/etc/passwd",
        "../../../../etc/hostname",
        "localtime",
        "posix/Europe/London",
        "Factory",
        "Mars/Olympus",
        "",
    ],
)
def test_a_zone_outside_the_tz_database_is_refused_where_the_item_is_built(zone: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        Timed(START, START + timedelta(hours=1), zone)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", "Europe/London"),
        (" Europe/Paris ", "Europe/Paris"),
        ("Etc/GMT-14", "Etc/GMT-14"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("UTC", "UTC"),
        ("EST", "EST"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("GMT", "UTC"),
    ],
)
def test_a_zone_of_the_tz_database_is_kept_and_a_legacy_one_canonicalised(
    zone: str, expected: str
) -> None:
    assert Timed(START, START + timedelta(hours=1), zone).zone == expected


def test_every_legacy_alias_names_a_zone_that_is_accepted() -> None:
    for legacy, canonical in LEGACY_ZONES.items():
        assert (canonical_zone(legacy), canonical_zone(canonical)) == (canonical, canonical)

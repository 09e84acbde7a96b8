"""``TimeRange.overlaps`` (the in-memory fakes' window filter) answers by instants, whatever
the zones, folds and tzinfo objects of the item and the range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync.model import AllDay, Timed, TimeRange

LONDON = ZoneInfo("Europe/London")
ZONES = [UTC, LONDON, ZoneInfo("America/New_York"), timezone(timedelta(hours=5, minutes=30))]
#: around London's autumn change (the repeated hour) and a quiet day
BASES = [datetime(2031, 10, 26, 0, 30), datetime(2031, 3, 4, 9)]


def by_instants(window: TimeRange, when: Timed) -> bool:
    start, end = when.start.astimezone(UTC), when.end.astimezone(UTC)
    low, high = window.start.astimezone(UTC), window.end.astimezone(UTC)
    return start < high and (end > low or (start == end and start >= low))


@st.composite
def aware(draw: st.DrawFn) -> datetime:
    base = draw(st.sampled_from(BASES))
    minutes = draw(st.integers(0, 8) | st.integers(0, 180))
    zone = draw(st.sampled_from(ZONES))
    return (base + timedelta(minutes=15 * minutes)).replace(
        tzinfo=zone, fold=draw(st.integers(0, 1))
    )


@given(aware(), aware(), aware(), st.integers(0, 40))
def test_overlaps_answers_by_instants_in_any_zones(
    low: datetime, start: datetime, high_or_end: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=15 * minutes)  # same tzinfo object as start
    if end.astimezone(UTC) < start.astimezone(UTC):  # the gap or fold made it end before
        return
    when = Timed(start, end, "UTC")
    high = high_or_end if high_or_end.astimezone(UTC) > low.astimezone(UTC) else None
    if high is None:
        return
    window = TimeRange(low, high)

    assert window.overlaps(when) == by_instants(window, when)


def test_an_item_in_the_repeated_hour_is_placed_by_its_instant_not_its_wall_time() -> None:
    # London repeats 01:00-02:00 on 26 October 2031: fold 0 is BST (UTC+1), fold 1 is GMT
    window = TimeRange(
        datetime(2031, 10, 26, 1, 0, tzinfo=LONDON), datetime(2031, 10, 26, 1, 20, tzinfo=LONDON)
    )  # 00:00-00:20 UTC
    later = datetime(2031, 10, 26, 1, 10, tzinfo=LONDON, fold=1)  # 01:10 UTC, same wall time

    end = (later + timedelta(minutes=30)).replace(fold=1)  # adding a timedelta drops the fold
    assert not window.overlaps(Timed(later, end, "Europe/London"))
    assert window.overlaps(Timed(later.replace(fold=0), later, "Europe/London"))


def test_all_day_spans_still_overlap_by_their_bounds() -> None:
    window = TimeRange(datetime(2031, 3, 4, tzinfo=UTC), datetime(2031, 3, 5, tzinfo=UTC))

    assert window.overlaps(AllDay(datetime(2031, 3, 4).date(), datetime(2031, 3, 5).date()))
    assert not window.overlaps(AllDay(datetime(2031, 3, 5).date(), datetime(2031, 3, 6).date()))


def test_a_range_over_the_repeated_hour_is_an_hour_long_though_its_wall_times_are_equal() -> None:
    # 01:00 BST (00:00 UTC) to 01:00 GMT (01:00 UTC): one tzinfo compares wall times only
    start = datetime(2031, 10, 26, 1, 0, tzinfo=LONDON)
    end = datetime(2031, 10, 26, 1, 0, tzinfo=LONDON, fold=1)

    window = TimeRange(start, end)

    inside = datetime(2031, 10, 26, 0, 30, tzinfo=UTC)
    assert window.overlaps(Timed(inside, inside + timedelta(minutes=15), "UTC"))
    with pytest.raises(ValueError, match="must end after it starts"):
        TimeRange(end, start)

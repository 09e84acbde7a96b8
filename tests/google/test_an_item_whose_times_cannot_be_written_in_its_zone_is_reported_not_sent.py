"""A studio item whose span reaches the very end of the calendar (year 9999), in a zone ahead
of UTC, has no wall time there to send Google (``dateTime`` is local time with its offset, and
there is no 10000-01-01): the run reports it as not sent, syncs the rest, and sends it once
the studio fixes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs
import pytest

from calsync import Side, Timed

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator

END_OF_TIME = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)  # 12:45 on 1 January 10000 in Chatham


def test_it_is_reported_the_rest_syncs_and_it_is_sent_once_fixed(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1", day=2))
    start = studio.timed(3).start
    endless = studio.session("s2", when=Timed(start, END_OF_TIME, "Pacific/Chatham"))
    w.schedule.add(studio.user, endless)

    report = w.sync()

    assert report.count(Side.REMOTE, "created") == 1, report.summary()
    assert report.errors == []
    [warning] = report.warnings
    assert warning == (
        "item s2 was skipped: it was not sent: its times cannot be written in its time zone "
        "Pacific/Chatham: there they fall before year 1 or after year 9999"
    )
    assert len(w.events()) == 1

    w.schedule.edit(studio.user, "s2", when=attrs.evolve(endless.when, end=studio.timed(3).end))
    report = w.sync()

    assert report.count(Side.REMOTE, "created") == 1, report.summary()
    assert (report.errors, report.warnings) == ([], [])
    assert len(w.events()) == 2

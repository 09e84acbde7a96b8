"""A batch whose answer is lost after Google applied its parts (the connection reset on a
later part, a timeout) is sent again: its updates then meet 412 and its deletions 410, since
they were done already. The re-read finds Google as each write asked, and the report counts
them as what they were (updates, deletions), not as links or forgotten pairs: the report and
the user's email say what this run did to the calendar (emulator, real client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import Side

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def test_writes_applied_before_a_lost_batch_answer_are_reported_as_done(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    for number in range(10):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
    assert w.sync().ok
    w.schedule.edit(studio.user, "s0", when=studio.timed(20))  # two moves, two deletions
    w.schedule.edit(studio.user, "s1", when=studio.timed(21))
    w.schedule.delete_item(studio.user, "s8")
    w.schedule.delete_item(studio.user, "s9")
    [last] = [e["id"] for e in w.events() if e["start"]["dateTime"].startswith("2031-03-12")]
    # the batch's last part drops the connection: the parts before it were applied, and
    # their answers are lost with it
    w.google.inject_fault(reset=True, api_method="calendar.events.delete", path=f"{last}$")

    report = w.sync()

    assert report.ok, report.summary()
    assert len(w.events()) == 8
    done = (report.count(Side.REMOTE, "updated"), report.count(Side.REMOTE, "deleted"))
    assert done == (2, 2), dict(report.counts)
    assert report.counts["linked"] == report.counts["forgotten"] == 0
    assert w.sync().writes == 0

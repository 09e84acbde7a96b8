"""An event made in Google with a title or description longer than calsync holds studio items
to (:data:`~calsync.engine.calendar.MAX_TITLE`, ``MAX_DESCRIPTION``) comes back as an unlinked
appointment, and the studio's edits of it still reach Google: its text is the Google user's,
which Google took, and goes back as it is. Before, every run skipped it ("its description is
longer than 8192 characters"), so a studio move of it never reached Google.

Sessions and appointments, whose text the studio makes, are still held to the limits
(``tests/engine/test_never_lose_an_item.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import EventFields, ItemKind
from calsync.engine.calendar import MAX_DESCRIPTION, MAX_TITLE

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def test_a_studio_move_of_a_google_event_with_long_text_reaches_google(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    title, description = "t" * (MAX_TITLE + 1), "d" * (MAX_DESCRIPTION + 808)
    made = EventFields(title, description, when=studio.timed(4, hour=9))
    event = w.calendar_user.external_create(w.calendar_id, made)
    w.sync()
    [item] = [i for i in w.items().values() if i.kind is ItemKind.UNLINKED]
    assert (item.title, item.description) == (title, description)

    w.schedule.edit(studio.user, item.id, when=studio.timed(4, hour=15))
    report = w.sync()

    assert report.ok, report.summary()
    assert not report.warnings
    [stored] = w.events()
    assert stored["id"] == event.id
    assert stored["start"]["dateTime"].startswith("2031-03-06T15:00")
    assert (stored["summary"], stored["description"]) == (title, description)
    assert w.sync().writes == 0

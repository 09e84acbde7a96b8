"""``DeletionRules(session=UNLINK)`` on the emulator with the real client: the Google user's
deletion stands (the session is not written to Google again), and restoring the event from
Google's trash links the session to it again, without a second event."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import DeletionRules, RemoteDeletion

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def unlinked(world: MakeWorld, studio: StudioBuilders) -> tuple[GoogleWorld, str]:
    w = world(contacts=False, deletion_rules=DeletionRules(session=RemoteDeletion.UNLINK))
    w.schedule.add(studio.user, studio.session("s1"))
    assert w.sync().ok
    ((event),) = w.events()
    w.calendar_user.external_delete(w.calendar_id, event["id"])
    assert w.sync().counts == {"forgotten": 1}
    return w, str(event["id"])


def test_an_unlinked_session_is_not_written_to_google_again(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w, _ = unlinked(world, studio)

    later = [w.sync(), w.sync()]

    assert [report.writes for report in later] == [0, 0]
    assert w.events() == []
    assert "s1" in w.items()


def test_an_unlinked_session_whose_event_is_restored_is_linked_to_it_again(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w, event_id = unlinked(world, studio)
    w.sync()
    w.calendar_user.patch(w.calendar_id, event_id, {"status": "confirmed"})  # from the trash

    report = w.sync()

    assert report.ok, report.summary()
    assert [event["id"] for event in w.events()] == [event_id]
    assert w.sync().writes == 0

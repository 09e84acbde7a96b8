"""Google keeps a deleted event's id, and calsync restores a session's deleted event by
confirming it again; for events the user deleted in Google's own UI that revive has been
refused with a 403. The session is then restored under an id Google chooses, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync.google.translate import MARKER_ITEM, MARKER_PROFILE

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def test_a_session_whose_deleted_event_google_refuses_to_revive_is_restored_under_a_new_id(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, studio.session("s1", day=2))
    assert w.sync().ok
    [deleted] = w.events()
    w.calendar_user.external_delete(w.calendar_id, deleted["id"])
    # only a patch bringing an event back ("status": "confirmed") is refused, every time
    w.google.inject_fault(
        403, "forbidden", api_method="calendar.events.patch", body='"status": "confirmed"',
        count=None,
    )  # fmt: skip

    first = w.sync()
    second = w.sync()

    assert (first.errors, second.errors) == ([], [])
    [restored] = w.events()
    assert restored["id"] != deleted["id"]
    private = restored["extendedProperties"]["private"]
    assert (private[MARKER_PROFILE], private[MARKER_ITEM]) == ("studio.u7", "s1")
    assert second.writes == 0

"""A studio restored from a backup, synced through the real client and the emulator: Google's
tombstones carry what the engine needs to tell the studio's loss from the user's deletion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from calsync import EventFields, ItemKind
from calsync.testing import MemoryScheduleSource

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


def test_a_google_deletion_the_studio_lost_with_its_backup_stands(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    # (the studio's clock is the emulator's: Google stamps its items with the time of day)
    w.schedule = MemoryScheduleSource(now=lambda: datetime.now(UTC), change_feed=True)
    w.schedule.add(studio.user, studio.session("s1", day=2))
    dentist = w.calendar_user.external_create(
        w.calendar_id, EventFields("Dentist", when=studio.timed(4))
    )
    w.sync()
    backup = w.schedule.backup(studio.user)
    w.clock.advance(days=1)
    w.calendar_user.external_delete(w.calendar_id, dentist.id)
    w.sync()
    w.clock.advance(days=1)
    w.schedule.restore(backup)

    report = w.sync()

    assert report.ok, report.summary()
    assert sorted(e["summary"] for e in w.events()) == ["Wedding - Ann Smith"]
    assert not [i for i in w.items().values() if i.kind is ItemKind.UNLINKED]
    assert any("deleted from the studio again" in warning for warning in report.warnings)
    assert w.sync().writes == 0

"""A host that goes back in time (its database restored from a backup) loses nothing in Google.

The host tells by its change feed (:class:`calsync.HostRewound`): what the host lost since the
backup is not the studio's edit nor its deletion. Each test failed before the host could tell.
"""

from __future__ import annotations

import pytest
from studio_world import ANN, CAL, USER, World, session, timed

from calsync import EventFields, HostRewound, ItemKind
from calsync.ids import event_id_for
from calsync.testing import MemoryScheduleSource, SimulatedCrash

NS = "studio.u7"


@pytest.fixture
def restored(world: World) -> World:
    """Synced sessions s1, s2 and a Google-made appointment; a backup; a week of changes on
    both sides, synced; then the studio's database restored from the backup."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, session("s2", day=4))
    world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    world.sync()
    backup = world.schedule.backup(USER)

    world.clock.advance(days=2)
    world.schedule.add(USER, session("s3", day=6))  # booked during the week
    world.schedule.edit(USER, "s1", location="Town hall")
    (unlinked,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    event = world.events()[unlinked.remote_id or ""]
    world.calendar.external_update(CAL, event.id, title="Dentist (moved)")
    world.sync()
    assert world.events()[event_id_for(NS, "s3")].fields is not None

    world.clock.advance(days=5)
    world.schedule.restore(backup)
    return world


def test_an_item_booked_after_the_backup_keeps_its_google_event_until_the_user_confirms(
    restored: World,
) -> None:
    world = restored
    s3 = event_id_for(NS, "s3")

    report = world.sync()

    assert not world.events()[s3].deleted
    assert [held.item for held in report.held] == ["s3"]
    assert any("went back in time" in warning for warning in report.warnings)
    again = world.sync()  # the host is still behind its cursor: held again, nothing written
    assert [held.item for held in again.held] == ["s3"]
    assert again.writes == 0
    assert not world.events()[s3].deleted

    world.sync(confirm_deletions=True)

    assert s3 not in world.events()  # (only live events are listed)


def test_an_edit_the_backup_predates_is_not_undone_in_google(restored: World) -> None:
    world = restored
    s1 = event_id_for(NS, "s1")

    report = world.sync()

    assert location(world, s1) == "Town hall"
    assert any("older than its last sync" in warning for warning in report.warnings)
    world.sync()
    assert location(world, s1) == "Town hall"  # and not at the next run either
    world.schedule.edit(USER, "s1", status="Confirmed")  # the studio edits it again:
    world.sync()  # its version goes out, as any edit's
    assert location(world, s1) == ""


def location(world: World, event_id: str) -> str:
    fields = world.events()[event_id].fields
    assert fields is not None
    return fields.location


def test_a_google_edit_the_studio_lost_with_its_backup_comes_back_to_the_studio(
    restored: World,
) -> None:
    world = restored

    world.sync()

    (unlinked,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    assert unlinked.title == "Dentist (moved)"
    fields = world.events()[unlinked.remote_id or ""].fields
    assert fields is not None
    assert fields.title == "Dentist (moved)"


def test_a_cursor_handed_out_after_the_backup_is_host_rewound_for_ever() -> None:
    schedule = MemoryScheduleSource(change_feed=True)
    schedule.add(USER, session("s1"))
    early = schedule.change_cursor(USER)
    backup = schedule.backup(USER)
    schedule.add(USER, session("s2"))
    late = schedule.change_cursor(USER)
    assert early is not None
    assert late is not None

    schedule.restore(backup)
    for number in range(3, 6):  # the log grows past the late cursor's position again
        schedule.add(USER, session(f"s{number}"))

    with pytest.raises(HostRewound):
        schedule.changes_since(USER, late)
    changed = schedule.changes_since(USER, early).changed
    assert sorted(item.id for item in changed) == ["s3", "s4", "s5"]


def test_an_unlinked_appointment_lost_with_the_backup_is_made_again_from_its_google_event(
    restored: World,
) -> None:
    world = restored
    lunch = world.calendar.external_create(CAL, EventFields("Lunch", when=timed(6, 12)))
    world.sync()  # (the studio's restore below loses the unlinked appointment made here)
    backup_after_lunch = world.schedule.backup(USER)
    world.clock.advance(days=1)
    world.calendar.external_create(CAL, EventFields("Gym", when=timed(7, 7)))
    world.sync()
    gym = next(e.id for e in world.events().values() if e.fields and e.fields.title == "Gym")
    world.clock.advance(days=1)
    world.schedule.restore(backup_after_lunch)

    report = world.sync()

    titles = sorted(i.title for i in world.items().values() if i.kind is ItemKind.UNLINKED)
    assert titles == ["Dentist (moved)", "Gym", "Lunch"]
    assert [held.item for held in report.held] == ["s3"]  # (a session: the studio's own)
    assert {gym, lunch.id} <= set(world.events())
    assert world.sync().writes == 0


def test_a_host_that_lost_only_calsyncs_own_writes_is_seen_to_have_gone_back(
    world: World,
) -> None:
    # the feed cursor is taken before a run writes to the host: only where those writes took
    # the feed tells that a restore lost them
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    dentist = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    world.sync()
    backup = world.schedule.backup(USER)
    world.clock.advance(days=1)
    world.calendar.external_update(CAL, dentist.id, title="Dentist (moved)")
    world.calendar.external_create(CAL, EventFields("Gym", when=timed(7, 7)))
    world.sync()  # both come to the studio: its only changes since the backup
    world.schedule.restore(backup)

    world.sync()

    live = {e.fields.title for e in world.events().values() if e.fields is not None}
    assert {"Dentist (moved)", "Gym"} <= live
    titles = sorted(i.title for i in world.items().values() if i.kind is ItemKind.UNLINKED)
    assert titles == ["Dentist (moved)", "Gym"]


@pytest.mark.parametrize("gone_at", ["change_cursor", "after writing"])
def test_a_run_killed_after_writing_to_the_host_and_then_a_restore_loses_nothing_in_google(
    world: World, gone_at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run brings a Google event to the studio and dies before its end, where it used to
    note how far its writes took the studio's feed; the studio is then restored from the
    backup taken before that run. The pair recorded for the lost appointment must not read as
    the studio deleting it (a full listing, the next day, deleted the Google user's event)."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    world.sync()
    world.sync()
    backup = world.schedule.backup(USER)
    world.clock.advance(hours=1)
    gym = world.calendar.external_create(CAL, EventFields("Gym", when=timed(7, 7)))
    if gone_at == "change_cursor":  # killed at the first look at the feed after the writes
        world.schedule.fail_next("change_cursor", SimulatedCrash("SIGKILL"))
    else:  # killed once everything of the plan is written, before the cursors are kept
        monkeypatch.setattr(world.store, "set_sync_cursor", killed)
    with pytest.raises(SimulatedCrash):
        world.sync()
    monkeypatch.undo()  # (the process is started again)
    world.clock.advance(hours=1)
    world.schedule.restore(backup)

    for _ in range(3):
        world.sync()
        world.clock.advance(days=1)  # the window moves: the next run lists in full

    assert gym.id in world.events()  # (only live events are listed)
    titles = [i.title for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    assert titles == ["Gym"]
    assert world.sync().writes == 0


def killed(*args: object, **kwargs: object) -> None:
    raise SimulatedCrash("SIGKILL")


def test_a_google_deletion_the_studio_lost_with_its_backup_stands(world: World) -> None:
    """The Google user deleted an event after the backup, and the studio its unlinked
    appointment; the restore brings the appointment back, unpaired. Google's deletion is the
    newer version: the appointment goes again, and the event is not made again in Google."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    dentist = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    world.sync()
    backup = world.schedule.backup(USER)
    world.clock.advance(days=1)
    world.calendar.external_delete(CAL, dentist.id)
    world.sync()
    assert not [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    world.clock.advance(days=1)
    world.schedule.restore(backup)

    report = world.sync()

    assert [e.fields.title for e in world.events().values() if e.fields] == ["Wedding - Ann Smith"]
    assert not [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    assert any("deleted from the studio again" in warning for warning in report.warnings)
    assert world.sync().writes == 0


def test_an_appointment_back_with_the_backup_takes_back_the_event_its_lost_session_holds(
    world: World,
) -> None:
    """An unlinked appointment converted into a session after the backup: the restore brings
    the appointment back and loses the session. The appointment takes the event's pair back
    (Google's version, the session's, is kept): no second event, no deletion held."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    dentist = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    world.sync()
    backup = world.schedule.backup(USER)
    world.clock.advance(days=1)
    (unlinked,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    world.schedule.convert(USER, unlinked.id, client=ANN, session_type="Portrait", new_id="s9")
    world.clock.advance(hours=1)
    world.sync()
    converted = world.events()[dentist.id].fields
    world.clock.advance(days=1)
    world.schedule.restore(backup)

    report = world.sync()

    assert sorted(world.events()) == sorted([dentist.id, event_id_for(NS, "s1")])
    assert world.events()[dentist.id].fields == converted  # (Google's newer version)
    assert not report.held
    assert any("paired with that item again" in warning for warning in report.warnings)
    (back,) = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    assert (back.id, back.remote_id) == (unlinked.id, dentist.id)
    assert world.sync().writes == 0


def test_the_right_backup_restored_after_the_wrong_one_duplicates_nothing(world: World) -> None:
    """Last week's backup restored by mistake and synced (the appointment it lacks is made
    again from its event), then last night's: its appointment takes the event back from the
    one made again, which the second restore lost."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    world.sync()
    last_week = world.schedule.backup(USER)
    world.clock.advance(days=1)
    dentist = world.calendar.external_create(CAL, EventFields("Dentist", when=timed(5, 15)))
    world.sync()
    last_night = world.schedule.backup(USER)
    world.clock.advance(hours=8)
    world.schedule.restore(last_week)
    world.sync()
    world.clock.advance(hours=1)
    world.schedule.restore(last_night)

    for _ in range(2):
        report = world.sync()
        world.clock.advance(days=1)

    titles = sorted(e.fields.title for e in world.events().values() if e.fields is not None)
    assert titles.count("Dentist") == 1
    assert dentist.id in world.events()
    assert [i.remote_id for i in world.items().values() if i.kind is ItemKind.UNLINKED] == [
        dentist.id
    ]
    assert not [w for w in report.warnings if "left" in w and "in place" in w]
    assert world.sync().writes == 0

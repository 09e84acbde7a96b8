"""The studio's database restored from a backup (HostRewound) lost an unlinked appointment (a
Google user's event that came into the studio): the run makes it again from its Google event.
When the studio refuses that create (an ordinary item error), the pair and the evidence that
the studio went back in time stay, so the next run tries again; a run killed anywhere makes
neither a duplicate appointment nor a lost one; and a run that made it leaves nothing more to
write. The refused-create tests failed before the lost pair was dropped only as its
appointment is made (the plan forgot it first, and the evidence went with the run)."""

from __future__ import annotations

import pytest
from studio_world import CAL, NOW, USER, World, session, timed

from calsync import EventFields, ItemKind, SyncReport
from calsync.engine import CreateHost, Forget, HostRecord, PlanRules, RemoteRecord, Snapshot, plan
from calsync.engine.fields import encode_base
from calsync.engine.planner import LOST_BY_THE_HOST
from calsync.model import Channel, RecordKind
from calsync.policies import DeletionRules, FieldRules, host_wins
from calsync.state.base import MappingRow
from calsync.testing import MemoryScheduleSource, SimulatedCrash

NS = "studio.u7"
GYM = EventFields("Gym", when=timed(7, 7))
YOGA = EventFields("Yoga", when=timed(8, 18))


def lost_with_the_restore(world: World, *titles: str, studio_edits: bool) -> dict[str, str]:
    """The Google user makes the events ``titles`` after a backup of the studio; a run brings
    them in as unlinked appointments; the studio is then restored from the backup, which
    lost them. ``studio_edits``: the studio also changed since the backup, and a run read
    that (its change cursor is past the restore, not only calsync's own writes). Returns
    the events' ids by title."""
    world.schedule = MemoryScheduleSource(now=world.clock, change_feed=True)
    world.schedule.add(USER, session("s1"))
    assert world.sync().ok
    assert world.sync().writes == 0
    backup = world.schedule.backup(USER)
    world.clock.advance(hours=1)
    fields = {"Gym": GYM, "Yoga": YOGA}
    made = {t: world.calendar.external_create(CAL, fields[t]).id for t in titles}
    if studio_edits:
        world.schedule.edit(USER, "s1", location="Town hall")
    assert world.sync().ok
    if studio_edits:
        world.clock.advance(hours=1)
        assert world.sync().writes == 0  # (the studio's cursor is past the backup now)
    assert sorted(unlinked_titles(world)) == sorted(titles)
    world.clock.advance(hours=1)
    world.schedule.restore(backup)
    assert not unlinked_titles(world)
    return made


def unlinked_titles(world: World) -> list[str]:
    return [i.title for i in world.items().values() if i.kind is ItemKind.UNLINKED]


def came_back(world: World, made: dict[str, str]) -> None:
    """Each lost appointment is in the studio once, from its event, which is in Google once."""
    unlinked = {i.title: i for i in world.items().values() if i.kind is ItemKind.UNLINKED}
    assert sorted(unlinked_titles(world)) == sorted(made)
    for title, event_id in made.items():
        assert unlinked[title].remote_id == event_id
    live = [e.fields.title for e in world.events().values() if e.fields is not None]
    assert sorted(t for t in live if t in made) == sorted(made)


def quiet(world: World) -> SyncReport:
    again = world.sync()
    assert again.ok, again.summary()
    assert again.writes == 0, again.summary()
    assert not again.held
    return again


@pytest.fixture(params=[False, True], ids=["lost-only-calsyncs-writes", "studio-edited-too"])
def studio_edits(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_a_lost_appointment_the_studio_refuses_to_make_again_is_made_by_the_next_run(
    world: World, studio_edits: bool
) -> None:
    made = lost_with_the_restore(world, "Gym", studio_edits=studio_edits)
    world.schedule.fail_next("create_unlinked", OSError("the studio's database is locked"))

    failed = world.sync()

    assert not failed.ok
    assert not unlinked_titles(world)
    assert made["Gym"] in world.events()  # (only live events are listed)
    report = world.sync()
    assert report.ok, report.summary()
    assert any("made again from its Google event" in w for w in report.warnings)
    came_back(world, made)
    quiet(world)
    came_back(world, made)


def test_an_appointment_refused_while_another_is_made_again_is_made_by_the_next_run(
    world: World, studio_edits: bool
) -> None:
    """One of two lost appointments is refused: the other is made, and its pair recorded;
    the evidence stays for the refused one, which the next run makes."""
    made = lost_with_the_restore(world, "Gym", "Yoga", studio_edits=studio_edits)
    world.schedule.fail_next("create_unlinked", OSError("the studio's database is locked"))

    failed = world.sync()

    assert not failed.ok
    assert len(unlinked_titles(world)) == 1
    report = world.sync()
    assert report.ok, report.summary()
    came_back(world, made)
    quiet(world)
    came_back(world, made)


def test_a_run_killed_as_it_makes_the_appointment_again_makes_it_once(
    world: World, studio_edits: bool
) -> None:
    """Killed right after the studio made the appointment again, before calsync recorded
    it: the next run pairs the appointment made with its event; no second one is made."""
    made = lost_with_the_restore(world, "Gym", studio_edits=studio_edits)
    world.schedule.crash_after_next("create_unlinked")

    with pytest.raises(SimulatedCrash):
        world.sync()

    [gym] = [i for i in world.items().values() if i.kind is ItemKind.UNLINKED]
    report = world.sync()
    assert report.ok, report.summary()
    came_back(world, made)
    assert [i.id for i in world.items().values() if i.kind is ItemKind.UNLINKED] == [gym.id]
    quiet(world)


def test_a_run_killed_after_recording_the_appointment_made_again_loses_nothing(
    world: World, studio_edits: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once the appointment is made and recorded, before the cursors are kept: the
    next runs (full listings as days pass too) neither make it again nor lose it."""
    made = lost_with_the_restore(world, "Gym", studio_edits=studio_edits)
    monkeypatch.setattr(world.store, "set_sync_cursor", killed)

    with pytest.raises(SimulatedCrash):
        world.sync()

    monkeypatch.undo()  # (the process is started again)
    came_back(world, made)
    for _ in range(3):
        report = world.sync()
        assert report.ok, report.summary()
        came_back(world, made)
        world.clock.advance(days=1)  # the window moves: the next run lists in full
    quiet(world)
    came_back(world, made)


def killed(*args: object, **kwargs: object) -> None:
    raise SimulatedCrash("SIGKILL")


def test_the_plan_makes_a_lost_appointment_again_and_forgets_no_pair_before_it() -> None:
    """The calendar channel forgets the lost pair with LOST_BY_THE_HOST, as the contacts
    channel does: the plan makes the appointment again and has no Forget (the channel drops
    the pair in the commit that records the appointment made)."""
    rules = PlanRules(
        channel=Channel.CALENDAR,
        fields_cls=EventFields,
        namespace=NS,
        inbound=True,
        field_rules=FieldRules(),
        conflict_policy=host_wins,
        deletion_rules=DeletionRules(),
        remote_id_for=lambda host_id: None,
    )
    dentist = EventFields("Dentist", when=timed(5, 15))
    moved = EventFields("Dentist (moved)", when=timed(5, 16))
    snapshot = Snapshot(
        host={"u1": HostRecord("u1", RecordKind.UNLINKED, dentist, "r1", origin="ev-dentist")},
        remote={"ev-dentist": RemoteRecord("ev-dentist", "e9", moved)},
        forgotten={"u2": LOST_BY_THE_HOST},
        host_rewound=True,
    )
    mapping = {
        "u1": row("u1", "ev-dentist", dentist),
        "u2": row("u2", "ev-gym", GYM),
    }

    actions = plan(snapshot, mapping, rules).actions

    assert actions[0] == CreateHost(Channel.CALENDAR, "ev-gym", GYM, "e1")
    assert not [a for a in actions if isinstance(a, Forget)]
    assert len(actions) == 2  # (and the Google edit of the dentist's appointment)


def row(host_id: str, remote_id: str, fields: EventFields) -> MappingRow:
    return MappingRow(
        NS,
        Channel.CALENDAR,
        host_id,
        remote_id,
        RecordKind.UNLINKED,
        encode_base(fields),
        "r1",
        "e1",
        NOW,
    )

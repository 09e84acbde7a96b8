"""On PostgreSQL, the run right after an initial sync over change feeds (Google's feed names
every event just made, so the run reads every pair's head rather than the rows of each id)
still takes what changed meanwhile on either side, and keeps every other pair."""

from __future__ import annotations

from studio_world import CAL, USER, make_world, session, timed

from calsync import Side
from calsync.engine.channel import LONG_FEED
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.server.database import Database
from calsync.state.postgres import PostgresStateStore


def test_the_changes_made_meanwhile_on_both_sides_are_taken_and_every_pair_kept(
    database: Database,
) -> None:
    store = PostgresStateStore(database, tenant="echo", migrate=True)
    world = make_world(store, inbound_calendar=True)  # (Google's edits come back)
    world.schedule.change_feed = True
    for i in range(LONG_FEED):
        world.schedule.add(USER, session(f"s{i}", day=2 + i % 200))
    assert world.sync().count(Side.REMOTE, "created") == LONG_FEED
    moved = timed(30, 15)  # (a session's time syncs both ways, its text goes out only)
    world.calendar.external_update(CAL, event_id_for(world.profile.id, "s5"), when=moved)
    world.schedule.remove(USER, "s9")
    world.schedule.edit(USER, "s11", location="Town hall")

    report = world.sync()

    # (and nothing else: no pair lost, to be found again by its marker and adopted)
    assert dict(report.counts) == {"host.updated": 1, "remote.deleted": 1, "remote.updated": 1}
    assert world.items()["s5"].when == moved
    events = world.calendar.events(CAL)
    assert event_id_for(world.profile.id, "s9") not in events
    edited = events[event_id_for(world.profile.id, "s11")].fields
    assert edited is not None
    assert edited.location == "Town hall"
    assert store.count_mappings(world.profile.id, Channel.CALENDAR) == LONG_FEED - 1

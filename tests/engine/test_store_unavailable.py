"""A state store that stops taking writes mid-run (its disk full, its file locked, its
database gone) stops the run at once with the store's own error, keeps what was done, and
the next run finishes the work: nothing duplicated, nothing lost, no item blamed for it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_world import GROUP, USER, World, client, make_world, session

from calsync import SqliteStateStore
from calsync.model import Channel

FULL = "database or disk is full"


def fill_up_after(store: SqliteStateStore, pages: int) -> None:
    """Let the store's file grow by ``pages`` pages at most: past them every write fails as
    on a full disk (SQLite's ``SQLITE_FULL``)."""
    conn = store._conn  # (the file's own limit: no disk needs to fill up)
    (count,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {count + pages}")


def free_space(store: SqliteStateStore) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    with SqliteStateStore(tmp_path / "state.sqlite3") as store:
        yield make_world(store)


def test_a_state_file_that_fills_up_mid_run_stops_it_with_the_cause_and_the_next_run_finishes(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    assert isinstance(world.store, SqliteStateStore)
    for number in range(400):
        world.schedule.add(USER, session(f"s{number}", day=1 + number % 200))
    fill_up_after(world.store, 25)

    stopped = world.sync()

    assert FULL in (stopped.fatal or "")
    assert stopped.errors == []  # the store failed, not an item: none is blamed
    sent = len(world.events())
    assert 0 < sent < 400  # it stopped part-way

    free_space(world.store)
    finished = world.sync()

    assert finished.ok, finished.summary()
    markers = Counter(e.marker.host_id for e in world.events().values() if e.marker)
    assert sorted(markers.values()) == [1] * 400  # each item once
    assert world.store.count_mappings(world.profile.id, Channel.CALENDAR) == 400
    assert world.sync().writes == 0


def test_a_state_file_that_fills_up_mid_contact_sync_duplicates_no_contact(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    assert isinstance(world.store, SqliteStateStore)
    world.options(contacts=True, client_group=GROUP)
    for number in range(300):
        world.clients.add(USER, client(f"c{number}", f"Given{number}"), groups=[GROUP])
    fill_up_after(world.store, 25)

    stopped = world.sync()

    assert FULL in (stopped.fatal or "")
    assert stopped.errors == []
    assert 0 < len(world.contacts.contacts()) < 300

    free_space(world.store)
    finished = world.sync()

    assert finished.ok, finished.summary()
    contacts = world.contacts.contacts().values()
    markers = Counter(c.marker.host_id for c in contacts if c.marker)
    assert sorted(markers.values()) == [1] * 300
    assert len(contacts) == 300
    assert world.sync().writes == 0

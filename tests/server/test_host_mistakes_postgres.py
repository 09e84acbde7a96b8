"""A host item whose revision PostgreSQL cannot hold (text refuses NUL) is the host's mistake:
reported by its id and never sent, with the server's state store as with the desktop's.
(Before, its event was made in Google and then its pair refused by the store, so every later
run failed to adopt it and the event was never recorded.)"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from services import POSTGRES_URL
from studio_world import GROUP, USER, World, appointment, client, make_world, session

from calsync import Contact, ScheduleItem, TimeRange
from calsync.ids import event_id_for
from calsync.model import Channel
from calsync.server.database import Database
from calsync.sources import Unreadable
from calsync.state.postgres import PostgresStateStore
from calsync.testing import MemoryContactSource, MemoryScheduleSource

NS = "studio.u7"
NUL_REVISION = "r\x00 1"


class NulRevisions(MemoryScheduleSource):
    """A schedule whose item ``a1`` comes with a NUL in its revision."""

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        return [
            attrs.evolve(item, revision=NUL_REVISION)
            if isinstance(item, ScheduleItem) and item.id == "a1"
            else item
            for item in super().list_items(user_id, window)
        ]


class NulClientRevisions(MemoryContactSource):
    """Clients of whom ``c1`` comes with a NUL in its revision."""

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        return [
            attrs.evolve(contact, revision=NUL_REVISION)
            if isinstance(contact, Contact) and contact.id == "c1"
            else contact
            for contact in super().list_group(user_id, group)
        ]


def given_names(world: World) -> list[str]:
    """The given names of the contacts in Google."""
    return [c.fields.given_name for c in world.contacts.contacts().values() if c.fields]


@pytest.fixture
def store(pg_schema: str) -> Iterator[PostgresStateStore]:
    database = Database(POSTGRES_URL, schema=pg_schema, max_size=4)
    with PostgresStateStore(database, migrate=True) as store:
        yield store
    database.close()


def test_an_item_with_a_nul_in_its_revision_is_reported_and_never_sent(
    store: PostgresStateStore,
) -> None:
    world = make_world(store, contacts=True, client_group=GROUP)
    world.schedule = NulRevisions(now=world.clock)
    world.clients = NulClientRevisions(now=world.clock)
    world.schedule.add(USER, session("s1"))
    world.schedule.add(USER, appointment("a1", title="Dentist"))
    world.clients.add(USER, client("c0", "Good"), groups=[GROUP])
    world.clients.add(USER, client("c1", "Bad"), groups=[GROUP])

    for _ in range(2):
        report = world.sync()

        assert (report.fatal, report.errors) == (None, [])
        assert set(world.events()) == {event_id_for(NS, "s1")}
        assert given_names(world) == ["Good"]
        nul = "its revision holds a NUL character, which cannot be stored"
        assert f"item a1 was skipped: it was not sent: {nul}" in report.warnings
        assert f"client c1 was skipped: it was not sent: {nul}" in report.warnings
    assert report.writes == 0
    assert set(store.mappings(NS, Channel.CALENDAR)) == {"s1"}
    assert set(store.mappings(NS, Channel.CONTACTS)) == {"c0"}

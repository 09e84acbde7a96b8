"""On PostgreSQL a first sync that makes clients of the contacts in the Google group (inbound
contacts) records their origins with their pairs, one statement a chunk: it costs the same
statements for 3 contacts as for 60, not one round trip per client."""

from __future__ import annotations

from studio_world import USER, make_world

from calsync import ContactFields, Email, Side
from calsync.model import Channel
from calsync.server.database import Database
from calsync.state.postgres import PostgresStateStore

GROUP = "Weddings 2027"


def import_statements(database: Database, tenant: str, contacts: int) -> int:
    """The statements of a first sync importing ``contacts`` contacts the Google user made."""
    store = PostgresStateStore(database, tenant=tenant, migrate=True)
    world = make_world(store, contacts=True, client_group=GROUP, inbound_contacts=True)
    for n in range(contacts):
        fields = ContactFields(given_name=f"Guest {n}", emails=(Email(f"guest{n}@example.com"),))
        world.contacts.external_create(fields, groups=[GROUP])
    before = store.queries

    report = world.sync()

    assert report.count(Side.HOST, "created") == contacts, report.summary()
    made = [c.id for c in world.clients.contacts(USER).values()]
    assert len(store.get_origins(world.profile.id, Channel.CONTACTS, made)) == contacts
    return store.queries - before


def test_importing_clients_costs_the_same_statements_for_3_contacts_as_for_60(
    database: Database,
) -> None:
    assert import_statements(database, "few", 3) == import_statements(database, "many", 60)

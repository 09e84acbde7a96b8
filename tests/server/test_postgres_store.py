"""The PostgreSQL state store: the StateStore contract, plus what only a server store needs."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from services import POSTGRES_URL

from calsync.errors import SchemaVersionError, StateError, StateUnavailable
from calsync.model import Channel
from calsync.server.database import Database
from calsync.state import PendingCreate, StateStore
from calsync.state.postgres import PostgresStateStore, migrate_schema
from calsync.testing.contracts.state import T0, TTL, StateStoreContract, make_mapping_row


@pytest.fixture
def database(pg_schema: str) -> Iterator[Database]:
    db = Database(POSTGRES_URL, schema=pg_schema, max_size=10)
    yield db
    db.close()


class TestPostgresStateStore(StateStoreContract):
    @pytest.fixture
    def store(self, database: Database) -> Iterator[StateStore]:
        with PostgresStateStore(database, clock="caller", migrate=True) as store:
            yield store


def test_tenants_never_see_each_others_state(database: Database) -> None:
    a = PostgresStateStore(database, tenant="studio-a", migrate=True)
    b = PostgresStateStore(database, tenant="studio-b")
    a.put_mapping(make_mapping_row("h1"))
    a.set_cursor("alice", "c", "1")
    assert a.acquire_lease("alice", "r1", TTL, T0) is not None
    assert b.mappings("alice", Channel.CALENDAR) == {}
    assert b.get_cursor("alice", "c") is None
    assert b.profile_ids() == []
    assert b.acquire_lease("alice", "r2", TTL, T0) is not None  # the same id, another tenant
    b.put_mapping(make_mapping_row("h1"))  # the same remote id, another tenant
    assert a.profile_ids() == ["alice"]


def test_lease_expiry_is_reckoned_by_the_database_clock(database: Database) -> None:
    store = PostgresStateStore(database, migrate=True)
    skewed = datetime(1999, 1, 1, tzinfo=UTC)  # a worker whose clock is far behind
    lease = store.acquire_lease("alice", "r1", timedelta(seconds=30), skewed)
    assert lease is not None
    assert abs(lease.expires_at - (datetime.now(UTC) + timedelta(seconds=30))) < timedelta(
        seconds=5
    )
    # a worker whose clock is far ahead cannot take it over early
    ahead = datetime(2100, 1, 1, tzinfo=UTC)
    assert store.acquire_lease("alice", "r2", timedelta(seconds=30), ahead) is None
    short = store.acquire_lease("bob", "r1", timedelta(milliseconds=10), skewed)
    assert short is not None
    time.sleep(0.05)
    assert store.acquire_lease("bob", "r2", TTL, skewed) is not None  # expired by the database


def test_a_store_refuses_a_schema_it_was_not_migrated_to(database: Database) -> None:
    with pytest.raises(SchemaVersionError, match="calsync migrate"):
        PostgresStateStore(database)
    PostgresStateStore(database, migrate=True)
    with database.transaction() as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaVersionError, match="newer"):
        PostgresStateStore(database)


def test_migrating_twice_and_concurrently_is_harmless(database: Database) -> None:
    import threading

    stores = []

    def migrate() -> None:
        stores.append(PostgresStateStore(database, migrate=True))

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stores) == 3
    assert stores[0].schema_version() == PostgresStateStore.SCHEMA_VERSION


def test_a_transaction_is_one_database_transaction_per_batch(database: Database) -> None:
    store = PostgresStateStore(database, migrate=True)
    before = store.queries
    with store.transaction():
        for n in range(50):
            store.put_mapping(make_mapping_row(f"h{n}"))
    assert store.queries - before == 50  # one statement per row, no savepoints
    assert len(store.mappings("alice", Channel.CALENDAR)) == 50


# -- a database that fails under the run ---------------------------------------------------


@pytest.fixture
def named(pg_schema: str) -> Iterator[tuple[Database, str]]:
    """A database whose connections carry a name of their own, to cut them off by it."""
    name = f"calsync-{pg_schema}"
    db = Database(f"{POSTGRES_URL}?application_name={name}", schema=pg_schema, min_size=2)
    yield db, name
    db.close()


def cut_off(name: str) -> int:
    """Terminate every connection named ``name``, as a database restart or failover would."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        found = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (name,),
        ).fetchall()
    return len(found)


def test_a_remote_id_conflict_is_a_state_error_of_that_write_only(database: Database) -> None:
    store = PostgresStateStore(database, migrate=True)
    store.put_mapping(make_mapping_row("h1", "r1"))

    with pytest.raises(StateError) as caught:
        store.put_mapping(make_mapping_row("h2", "r1"))

    assert not isinstance(caught.value, StateUnavailable)
    store.put_mapping(make_mapping_row("h2", "r2"))


def test_pooled_connections_the_database_dropped_are_replaced_before_use(
    named: tuple[Database, str],
) -> None:
    database, name = named
    store = PostgresStateStore(database, migrate=True)
    store.put_mapping(make_mapping_row("h1"))
    assert cut_off(name) >= 1  # every idle connection of the pool

    for _ in range(5):  # more than the pool held: none of them is handed out dead
        assert list(store.mappings("alice", Channel.CALENDAR)) == ["h1"]
    store.put_mapping(make_mapping_row("h2", "r2"))


def test_a_connection_lost_inside_a_transaction_makes_the_store_unavailable(
    named: tuple[Database, str],
) -> None:
    database, name = named
    store = PostgresStateStore(database, migrate=True)

    def write_across_the_cut() -> None:
        with store.transaction():
            store.put_mapping(make_mapping_row("h1"))
            cut_off(name)
            store.put_mapping(make_mapping_row("h2", "r2"))

    with pytest.raises(StateUnavailable) as caught:
        write_across_the_cut()

    assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    assert store.mappings("alice", Channel.CALENDAR) == {}  # all or nothing
    store.put_mapping(make_mapping_row("h3", "r3"))  # and the next write goes through


class CutOffMidRun(PostgresStateStore):
    """A store whose connections the database drops while the run journals its third batch
    of intents (inside the transaction that records the batch before)."""

    def __init__(self, database: Database, name: str) -> None:
        super().__init__(database, migrate=True)
        self.name, self.journaled, self.cut = name, 0, False

    def add_pendings(self, intents: Sequence[PendingCreate]) -> None:
        self.journaled += 1
        if self.journaled == 3 and not self.cut:
            self.cut = cut_off(self.name) > 0
        super().add_pendings(intents)


def test_a_database_lost_mid_run_stops_it_with_the_cause_and_the_next_run_duplicates_nothing(
    named: tuple[Database, str],
) -> None:
    from collections import Counter

    from studio_world import USER, make_world, session

    database, name = named
    store = CutOffMidRun(database, name)
    world = make_world(store)
    for number in range(300):
        world.schedule.add(USER, session(f"s{number}", day=1 + number % 200))

    stopped = world.sync()

    assert store.cut
    assert "terminating connection" in (stopped.fatal or "")
    assert stopped.errors == []  # the database failed, not an item
    assert 0 < len(world.events()) < 300

    finished = world.sync()

    assert finished.ok, finished.summary()
    markers = Counter(e.marker.host_id for e in world.events().values() if e.marker)
    assert sorted(markers.values()) == [1] * 300
    assert world.sync().writes == 0


def _quiet_run_queries(database: Database, tenant: str, items: int, contacts: bool) -> int:
    from studio_world import appointment, client, make_world

    store = PostgresStateStore(database, tenant=tenant, migrate=True)
    world = make_world(store, contacts=contacts, client_group="Weddings 2027" if contacts else None)
    for n in range(items):
        world.schedule.add("u7", appointment(f"a{n}", day=n % 20 + 1))
        if contacts:
            world.clients.add("u7", client(f"c{n}", given=f"Ann{n}"), groups=["Weddings 2027"])
    assert world.sync().ok
    assert world.sync().writes == 0
    before = store.queries
    report = world.sync()
    assert (report.ok, report.writes) == (True, 0)
    return store.queries - before


@pytest.mark.parametrize("contacts", [False, True], ids=["calendar", "calendar+contacts"])
def test_a_quiet_run_costs_the_same_queries_whatever_the_profile_holds(
    database: Database, contacts: bool
) -> None:
    few = _quiet_run_queries(database, "few", 3, contacts)
    many = _quiet_run_queries(database, "many", 60, contacts)
    assert few == many
    # today 10 statements for the calendar, 20 with contacts: cursors, one read of the
    # mapping and of the intents per channel, the last-run bookkeeping; never one per item
    assert many <= 15 * (2 if contacts else 1)


def test_an_upgrade_from_schema_version_1_keeps_every_row(database: Database) -> None:
    """Version 1 kept two fingerprints per row, version 2 one and version 4 none (the base
    is compared itself); version 2 keeps a base with each intent."""
    assert migrate_schema(database, target=1) == 1  # as the previous calsync left it
    with database.transaction() as conn:
        conn.execute(
            "INSERT INTO mappings VALUES ('t', 'alice', 'calendar', 'h1', 'r1', 'session',"
            " '{}', 'fp-h1', 'fp-r1', 'rev', 'etag', %s)",
            (T0,),
        )
        conn.execute("INSERT INTO pending VALUES ('t', 'alice', 'contacts', 'c1', %s)", (T0,))
        conn.execute("INSERT INTO cursors VALUES ('t', 'alice', 'calendar.sync', 'tok')")
    with pytest.raises(SchemaVersionError, match="version 1"):
        PostgresStateStore(database, tenant="t")
    upgraded = PostgresStateStore(database, tenant="t", migrate=True)
    [row] = upgraded.mappings("alice", Channel.CALENDAR).values()
    assert (row.remote_id, row.base, row.kind.value) == ("r1", "{}", "session")
    assert upgraded.pending("alice", Channel.CONTACTS)["c1"].base is None
    assert upgraded.get_cursor("alice", "calendar.sync") == "tok"
    assert upgraded.schema_version() == PostgresStateStore.SCHEMA_VERSION


def test_only_one_of_several_processes_racing_for_a_lease_gets_it(
    database: Database, pg_schema: str
) -> None:
    import subprocess
    import sys

    PostgresStateStore(database, migrate=True)
    code = (
        "import sys, time\n"
        "from datetime import UTC, datetime, timedelta\n"
        "from calsync.server.database import Database\n"
        "from calsync.state.postgres import PostgresStateStore\n"
        f"store = PostgresStateStore(Database({POSTGRES_URL!r}, schema={pg_schema!r}))\n"
        "start = float(sys.argv[1])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "lease = store.acquire_lease('alice', sys.argv[2], timedelta(minutes=1),"
        " datetime.now(UTC))\n"
        "print('won' if lease else 'lost')\n"
    )
    start = time.time() + 3  # every process connected and waiting by then
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(start), f"runner-{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in racers)
    assert outcomes == ["lost", "lost", "lost", "won"]

"""The SQLite state store: the StateStore contract, plus what only a file can do."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.errors import SchemaVersionError, StateError, StateUnavailable
from calsync.model import Channel, RecordKind
from calsync.state import MemoryStateStore, SqliteStateStore, StateStore
from calsync.testing.contracts.state import (
    T0,
    TTL,
    StateStoreContract,
    make_mapping_row,
    make_pending,
)


class TestSqliteStateStore(StateStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[StateStore]:
        with SqliteStateStore(tmp_path / "state.db") as store:
            yield store


class TestSqliteInMemoryStateStore(StateStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[StateStore]:
        with SqliteStateStore(":memory:") as store:
            yield store


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def _read_meta(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()


def _set_schema_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    finally:
        conn.close()


def _everything(store: StateStore, profile_id: str = "alice") -> object:
    return (
        {channel: store.mappings(profile_id, channel) for channel in Channel},
        {channel: store.pending(profile_id, channel) for channel in Channel},
        store.get_cursor(profile_id, "host.feed"),
        store.get_lease(profile_id),
        store.profile_ids(),
    )


# -- persistence ---------------------------------------------------------------------------


def test_rows_cursors_pending_and_leases_survive_closing_and_reopening(path: Path) -> None:
    with SqliteStateStore(path) as store:
        store.put_mapping(make_mapping_row("h1", host_revision=None, remote_etag=None))
        store.put_mapping(make_mapping_row("c1", channel=Channel.CONTACTS))
        store.add_pending(make_pending("c2"))
        store.set_cursor("alice", "host.feed", "42")
        store.acquire_lease("alice", "runner-1", TTL, T0)
        before = _everything(store)

    with SqliteStateStore(path) as reopened:
        assert before == _everything(reopened)


def test_the_store_accepts_a_str_path(path: Path) -> None:
    with SqliteStateStore(str(path)) as store:
        store.set_cursor("alice", "host.feed", "1")

    with SqliteStateStore(path) as reopened:
        assert reopened.get_cursor("alice", "host.feed") == "1"


def test_a_failing_write_inside_a_transaction_leaves_the_file_unchanged(path: Path) -> None:
    with SqliteStateStore(path) as store:
        store.put_mapping(make_mapping_row("h1", "r1"))
        store.set_cursor("alice", "host.feed", "1")
        before = _everything(store)

        with pytest.raises(StateError):
            _write_then_fail(store)

    with SqliteStateStore(path) as reopened:
        assert before == _everything(reopened)


def _write_then_fail(store: StateStore) -> None:
    with store.transaction():
        store.put_mapping(make_mapping_row("h2", "r2"))
        store.set_cursor("alice", "host.feed", "2")
        store.add_pending(make_pending("c1"))
        store.forget_profile("bob")
        store.put_mapping(make_mapping_row("h3", "r1"))  # r1 is h1's: refused


def test_a_committed_write_is_seen_by_another_store_on_the_same_file(path: Path) -> None:
    with SqliteStateStore(path) as writer, SqliteStateStore(path) as reader:
        row = make_mapping_row("h1")
        writer.put_mapping(row)

        assert {"h1": row} == reader.mappings("alice", Channel.CALENDAR)


# -- file format ---------------------------------------------------------------------------


def test_a_new_file_records_the_current_schema_version(path: Path) -> None:
    SqliteStateStore(path).close()

    assert {"schema_version": str(SqliteStateStore.SCHEMA_VERSION)} == _read_meta(path)


def test_a_file_uses_the_wal_journal_and_normal_synchronous_mode(path: Path) -> None:
    with closing(SqliteStateStore(path)) as store:
        conn = store._conn  # white-box: the settings live on the connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # 1 is NORMAL


def test_a_file_written_by_a_newer_calsync_is_refused(path: Path) -> None:
    with SqliteStateStore(path) as store:
        store.set_cursor("alice", "host.feed", "1")
    newer = SqliteStateStore.SCHEMA_VERSION + 1
    _set_schema_version(path, newer)

    with pytest.raises(SchemaVersionError, match=f"schema version {newer}, newer than"):
        SqliteStateStore(path)

    assert {"schema_version": str(newer)} == _read_meta(path)


def test_an_older_file_is_migrated_step_by_step_to_the_current_version(path: Path) -> None:
    with SqliteStateStore(path) as store:
        store.set_cursor("alice", "host.feed", "1")

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE notes (profile_id TEXT PRIMARY KEY, note TEXT)")

    class NextSqliteStateStore(SqliteStateStore):
        SCHEMA_VERSION = SqliteStateStore.SCHEMA_VERSION + 1
        _MIGRATIONS = (*SqliteStateStore._MIGRATIONS, add_notes)

    with closing(NextSqliteStateStore(path)) as migrated:
        assert migrated.get_cursor("alice", "host.feed") == "1"
        tables = migrated._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert "notes" in {name for (name,) in tables}
    assert {"schema_version": str(NextSqliteStateStore.SCHEMA_VERSION)} == _read_meta(path)

    with pytest.raises(SchemaVersionError):
        SqliteStateStore(path)


def test_a_version_1_file_keeps_its_rows_intents_and_cursors_through_the_upgrades(
    path: Path,
) -> None:
    from calsync.testing.contracts.state import make_push_channel

    class Version1Store(SqliteStateStore):
        SCHEMA_VERSION = 1
        _MIGRATIONS = SqliteStateStore._MIGRATIONS[:1]

    with closing(Version1Store(path)) as old:
        old._conn.execute(
            "INSERT INTO mappings VALUES ('alice', 'calendar', 'h1', 'r1', 'session', '{}',"
            " 'fp-1', 'fp-1', 'rev', 'etag', '2024-05-01T09:30:00.000000+00:00')"
        )
        old._conn.execute(
            "INSERT INTO pending VALUES ('alice', 'contacts', 'c1',"
            " '2024-05-01T09:30:00.000000+00:00')"
        )
        old.set_cursor("alice", "calendar.sync_token", "t1")

    with SqliteStateStore(path) as store:
        row = store.mappings("alice", Channel.CALENDAR)["h1"]
        intent = store.pending("alice", Channel.CONTACTS)["c1"]
        store.put_push_channel(make_push_channel())

        assert (row.base, row.kind, intent.base) == ("{}", RecordKind.SESSION, None)
        assert store.get_cursor("alice", "calendar.sync_token") == "t1"
        assert [make_push_channel()] == store.push_channels("alice")
    assert _read_meta(path) == {"schema_version": str(SqliteStateStore.SCHEMA_VERSION)}


def test_there_is_one_migration_step_per_schema_version() -> None:
    assert len(SqliteStateStore._MIGRATIONS) == SqliteStateStore.SCHEMA_VERSION


def test_a_file_that_is_not_a_database_is_a_state_error(path: Path) -> None:
    path.write_bytes(b"this is not a SQLite database, just some text " * 100)

    with pytest.raises(StateError) as caught:
        SqliteStateStore(path)

    assert isinstance(caught.value.__cause__, sqlite3.Error)


# -- errors and locking --------------------------------------------------------------------


def test_a_closed_store_is_unavailable_and_says_why(path: Path) -> None:
    store = SqliteStateStore(path)
    store.close()

    with pytest.raises(StateUnavailable, match="closed") as caught:
        store.mappings("alice", Channel.CALENDAR)

    assert isinstance(caught.value.__cause__, sqlite3.ProgrammingError)


def test_a_remote_id_conflict_is_a_state_error_of_that_write_only() -> None:
    with SqliteStateStore(":memory:") as store:
        store.put_mapping(make_mapping_row("h1", "r1"))

        with pytest.raises(StateError, match="UNIQUE") as caught:
            store.put_mapping(make_mapping_row("h2", "r1"))

        assert not isinstance(caught.value, StateUnavailable)  # the next write may succeed
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
        store.put_mapping(make_mapping_row("h2", "r2"))


def fill_up_after(store: SqliteStateStore, pages: int) -> None:
    """Let the store's file grow by ``pages`` pages at most: past them every write fails as
    on a full disk (SQLite's ``SQLITE_FULL``)."""
    (count,) = store._conn.execute("PRAGMA page_count").fetchone()
    store._conn.execute(f"PRAGMA max_page_count = {count + pages}")


def _write_rows(store: SqliteStateStore) -> None:
    for number in range(10_000):
        store.put_mapping(make_mapping_row(f"h{number}", f"r{number}"))


def _fill(store: SqliteStateStore) -> StateUnavailable:
    with pytest.raises(StateUnavailable, match="full") as caught:
        _write_rows(store)
    return caught.value


def test_a_full_file_makes_the_store_unavailable_and_keeps_what_was_written(path: Path) -> None:
    with SqliteStateStore(path) as store:
        fill_up_after(store, 3)

        full = _fill(store)

        assert isinstance(full.__cause__, sqlite3.OperationalError)
        kept = store.mappings("alice", Channel.CALENDAR)
        assert kept  # reads go on, and see what was written before
        assert all(kept[h].remote_id == f"r{h[1:]}" for h in kept)


def test_writing_on_in_a_transaction_sqlite_rolled_back_after_a_full_disk_is_refused(
    path: Path,
) -> None:
    with SqliteStateStore(path) as store:
        store.set_cursor("alice", "host.feed", "before")
        fill_up_after(store, 3)

        def write_on_after_the_failure() -> None:
            with store.transaction():
                store.set_cursor("alice", "host.feed", "inside")
                _fill(store)  # the handler of the error writes on, then commits
                store.set_cursor("alice", "other", "after the failure")

        def commit_after_the_failure() -> None:
            with store.transaction():
                _fill(store)  # ... or only commits: never "no transaction is active"

        with pytest.raises(StateUnavailable, match="rolled back by an earlier error"):
            write_on_after_the_failure()
        with pytest.raises(StateUnavailable, match="rolled back by an earlier error"):
            commit_after_the_failure()

        assert store.get_cursor("alice", "host.feed") == "before"  # all or nothing
        assert store.get_cursor("alice", "other") is None


def test_a_writer_waits_for_another_connections_transaction_then_gives_up(path: Path) -> None:
    with SqliteStateStore(path) as holder, SqliteStateStore(path, timeout=0.1) as other:
        with holder.transaction():
            holder.set_cursor("alice", "host.feed", "held")

            with pytest.raises(StateUnavailable, match="locked"):
                other.set_cursor("alice", "host.feed", "other")
            assert other.get_cursor("alice", "host.feed") is None  # readers never wait

        other.set_cursor("alice", "host.feed", "other")
        assert holder.get_cursor("alice", "host.feed") == "other"


_LEASE_RACER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta

    from calsync.state import SqliteStateStore

    path, holder = sys.argv[1], sys.argv[2]
    now = datetime.fromisoformat(sys.argv[3])
    print("started", flush=True)
    sys.stdin.readline()
    with SqliteStateStore(path) as store:
        print("opened", flush=True)
        for profile_id in sys.stdin:
            lease = store.acquire_lease(profile_id.strip(), holder, timedelta(minutes=5), now)
            print("won" if lease is not None else "lost", flush=True)
    """
)


def test_processes_racing_for_one_lease_let_exactly_one_win(path: Path) -> None:
    """The racers also open the new file at the same instant: each of them must get in."""
    racers, rounds = 4, 5
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _LEASE_RACER, str(path), f"runner-{index}", T0.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(racers)
    ]
    try:
        assert ["started"] * racers == _answers(processes)
        assert ["opened"] * racers == _answers(processes, send="open")
        outcomes = [_answers(processes, send=f"profile-{number}") for number in range(rounds)]
    finally:
        for process in processes:
            process.kill()
            process.communicate()

    one_winner = ["lost"] * (racers - 1) + ["won"]
    assert [one_winner] * rounds == [sorted(outcome) for outcome in outcomes]
    with SqliteStateStore(path) as store:
        holders = [store.get_lease(f"profile-{number}") for number in range(rounds)]
    assert all(lease is not None and lease.holder.startswith("runner-") for lease in holders)


def _answers(processes: list[subprocess.Popen[str]], send: str | None = None) -> list[str]:
    """Send ``send`` to every process before reading any answer, then read one line of each."""
    if send is not None:
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(f"{send}\n")
            process.stdin.flush()
    answers = []
    for process in processes:
        assert process.stdout is not None
        answers.append(process.stdout.readline().strip())
    return answers


# -- bulk ----------------------------------------------------------------------------------


def test_many_rows_written_in_one_transaction_all_read_back(path: Path) -> None:
    rows = {f"h{number}": make_mapping_row(f"h{number}") for number in range(5_000)}
    with SqliteStateStore(path) as store:
        with store.transaction():
            for row in rows.values():
                store.put_mapping(row)

        assert rows == store.mappings("alice", Channel.CALENDAR)


# -- the SQLite store behaves like the in-memory one ----------------------------------------


def test_lease_expiry_compares_instants_whatever_the_offset_of_now() -> None:
    with SqliteStateStore(":memory:") as store:
        store.acquire_lease("alice", "runner-1", TTL, T0)
        just_before = T0 + TTL - timedelta(microseconds=1)
        in_los_angeles = just_before.astimezone(timezone(timedelta(hours=-7)))

        assert store.acquire_lease("alice", "runner-2", TTL, in_los_angeles) is None


_PROFILES = st.sampled_from(["alice", "bob"])
_IDS = st.sampled_from(["a", "b", "c"])
_MINUTES = st.integers(min_value=0, max_value=12)
_STEPS = st.one_of(
    st.tuples(st.just("put"), _PROFILES, st.sampled_from(Channel), _IDS, _IDS),
    st.tuples(st.just("delete"), _PROFILES, st.sampled_from(Channel), _IDS),
    st.tuples(st.just("cursor"), _PROFILES, _IDS, st.one_of(st.none(), _IDS)),
    st.tuples(st.just("pending"), _PROFILES, st.sampled_from(Channel), _IDS, _MINUTES),
    st.tuples(st.just("unpending"), _PROFILES, st.sampled_from(Channel), _IDS),
    st.tuples(st.just("acquire"), _PROFILES, _IDS, _MINUTES),
    st.tuples(st.just("release"), _PROFILES, _IDS),
    st.tuples(st.just("forget"), _PROFILES),
)
_SESSIONS = st.lists(
    st.recursive(
        _STEPS,
        lambda inner: st.tuples(st.just("transaction"), st.lists(inner, max_size=5), st.booleans()),
        max_leaves=12,
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(session=_SESSIONS)
def test_the_sqlite_store_behaves_like_the_memory_store(session: list[Any]) -> None:
    with MemoryStateStore() as memory, SqliteStateStore(":memory:") as sqlite:
        assert _replay(memory, session) == _replay(sqlite, session)


class _Abort(Exception):
    pass


def _replay(store: StateStore, session: list[Any]) -> list[object]:
    """Run the steps; what each returned (or that it was refused), then the whole state."""
    seen = [_step(store, step) for step in session]
    for profile_id in ("alice", "bob"):
        seen.append(_everything(store, profile_id))
        seen.append([store.get_cursor(profile_id, name) for name in ("a", "b", "c")])
    return seen


def _step(store: StateStore, step: tuple[Any, ...]) -> object:
    kind, *args = step
    try:
        if kind == "transaction":
            steps, abort = args
            with store.transaction():
                seen = [_step(store, inner) for inner in steps]
                if abort:
                    raise _Abort
            return seen
        return _simple_step(store, kind, args)
    except StateError:
        return "refused"
    except _Abort:
        return "aborted"


def _simple_step(store: StateStore, kind: str, args: list[Any]) -> object:
    at = T0 + timedelta(minutes=args[-1]) if kind in {"pending", "acquire"} else T0
    match kind, args:
        case "put", [profile_id, channel, host_id, remote_id]:
            row = make_mapping_row(host_id, remote_id, profile_id=profile_id, channel=channel)
            return store.put_mapping(row)
        case "delete", [profile_id, channel, host_id]:
            return store.delete_mapping(profile_id, channel, host_id)
        case "cursor", [profile_id, name, value]:
            return store.set_cursor(profile_id, name, value)
        case "pending", [profile_id, channel, host_id, _]:
            pending = make_pending(host_id, profile_id=profile_id, channel=channel)
            return store.add_pending(attrs.evolve(pending, created_at=at))
        case "unpending", [profile_id, channel, host_id]:
            return store.remove_pending(profile_id, channel, host_id)
        case "acquire", [profile_id, holder, _]:
            return store.acquire_lease(profile_id, holder, TTL, at)
        case "release", [profile_id, holder]:
            return store.release_lease(profile_id, holder)
        case "forget", [profile_id]:
            return store.forget_profile(profile_id)
    raise AssertionError(f"unknown step {kind} {args}")

"""The :class:`~calsync.state.base.StateStore` contract, as a pytest suite.

Subclass :class:`StateStoreContract` in a test module (name the subclass ``Test…``) and give it a
``store`` fixture that yields a fresh, empty store and closes it afterwards::

    class TestPostgresStateStore(StateStoreContract):
        @pytest.fixture
        def store(self, postgres_dsn: str) -> Iterator[StateStore]:
            with PostgresStateStore(postgres_dsn, schema=fresh_schema()) as store:
                yield store

Every test below is one documented behaviour calsync relies on. Where the docstrings of
``StateStore`` leave a choice open, the suite pins the one calsync's stores make and says so:

* a lease is valid *until* its expiry instant, not at it;
* an exception leaving a nested transaction undoes that nested transaction's writes; the
  outer transaction goes on (or is undone too, if the exception leaves it as well);
* naive datetimes are refused with :class:`ValueError` (their zone would be a guess);
* datetimes come back as aware UTC datetimes, to the microsecond.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from calsync.errors import StateError
from calsync.model import Channel, RecordKind
from calsync.policies import Side
from calsync.state.base import (
    Lease,
    MappingRow,
    PendingCreate,
    PushChannel,
    RemoteGroup,
    SentNotice,
    StateStore,
)

__all__ = [
    "T0",
    "TTL",
    "StateStoreContract",
    "make_mapping_row",
    "make_pending",
    "make_push_channel",
]

CAL = Channel.CALENDAR
CON = Channel.CONTACTS
#: The instant the tests happen at (stores never read the clock: callers pass ``now``).
T0 = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
#: The lease duration the tests use.
TTL = timedelta(minutes=5)


def make_mapping_row(
    host_id: str = "h1",
    remote_id: str | None = None,
    *,
    profile_id: str = "alice",
    channel: Channel = CAL,
    **changes: Any,
) -> MappingRow:
    """A complete mapping row; ``remote_id`` defaults to ``"r-" + host_id``."""
    row = MappingRow(
        profile_id=profile_id,
        channel=channel,
        host_id=host_id,
        remote_id=remote_id if remote_id is not None else f"r-{host_id}",
        kind=RecordKind.SESSION,
        base='{"title": "Portrait session"}',
        fingerprint=f"fp-{host_id}",
        host_revision="rev-1",
        remote_etag='"etag-1"',
        synced_at=T0,
    )
    return attrs.evolve(row, **changes)


def make_pending(
    host_id: str = "c1", *, profile_id: str = "alice", channel: Channel = CON
) -> PendingCreate:
    """An intent to create a remote item for ``host_id``."""
    return PendingCreate(profile_id=profile_id, channel=channel, host_id=host_id, created_at=T0)


def make_push_channel(
    channel_id: str = "ch-1", *, profile_id: str = "alice", expires_in: float = 7, **changes: Any
) -> PushChannel:
    """A push channel on the profile's calendar expiring ``expires_in`` days after ``T0``."""
    channel = PushChannel(
        channel_id=channel_id,
        profile_id=profile_id,
        calendar_id=f"{profile_id}-studio@group.calendar.google.com",
        resource_id=f"res-{channel_id}",
        token_hash="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        expires_at=T0 + timedelta(days=expires_in),
        created_at=T0,
    )
    return attrs.evolve(channel, **changes)


class _Abort(Exception):
    """Raised by the tests to abort a transaction."""


@contextmanager
def _rolled_back(store: StateStore) -> Iterator[None]:
    """A transaction of ``store`` that ends by raising :class:`_Abort`, which is swallowed."""
    with suppress(_Abort), store.transaction():
        yield
        raise _Abort


def _run_in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(0)`` … ``work(count - 1)`` in threads started together; their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not [thread for thread in threads if thread.is_alive()], "a thread hangs"
    assert errors == []
    return results


class StateStoreContract:
    """Behaviours every :class:`StateStore` must have. Subclasses provide a ``store`` fixture."""

    # -- mapping rows ----------------------------------------------------------------------

    def test_a_new_store_is_empty(self, store: StateStore) -> None:
        assert store.mappings("alice", CAL) == {}
        assert store.pending("alice", CON) == {}
        assert store.get_cursor("alice", "calendar.sync_token") is None
        assert store.get_lease("alice") is None
        assert store.profile_ids() == []
        assert store.push_channels() == []

    def test_a_mapping_row_put_is_read_back_by_host_id(self, store: StateStore) -> None:
        first, second = make_mapping_row("h1"), make_mapping_row("h2")
        store.put_mapping(first)
        store.put_mapping(second)

        assert {"h1": first, "h2": second} == store.mappings("alice", CAL)

    def test_putting_a_row_for_a_mapped_host_id_replaces_the_whole_row(
        self, store: StateStore
    ) -> None:
        store.put_mapping(make_mapping_row("h1", "r1"))
        newer = make_mapping_row(
            "h1",
            "r1",
            kind=RecordKind.APPOINTMENT,
            base="{}",
            fingerprint="fp-2",
            host_revision=None,
            remote_etag=None,
            synced_at=T0 + timedelta(hours=1),
        )
        store.put_mapping(newer)

        assert {"h1": newer} == store.mappings("alice", CAL)

    def test_a_host_id_can_be_remapped_to_another_remote_id(self, store: StateStore) -> None:
        store.put_mapping(make_mapping_row("h1", "r1"))
        store.put_mapping(make_mapping_row("h1", "r2"))
        reuser = make_mapping_row("h2", "r1")
        store.put_mapping(reuser)  # r1 was freed by the remap

        assert {"r2", "r1"} == {row.remote_id for row in store.mappings("alice", CAL).values()}
        assert reuser == store.mappings("alice", CAL)["h2"]

    def test_a_remote_id_mapped_by_another_host_id_is_refused(self, store: StateStore) -> None:
        original = make_mapping_row("h1", "r1")
        store.put_mapping(original)

        with pytest.raises(StateError):
            store.put_mapping(make_mapping_row("h2", "r1"))

        assert {"h1": original} == store.mappings("alice", CAL)

    def test_remapping_a_host_id_onto_a_taken_remote_id_is_refused(self, store: StateStore) -> None:
        rows = {"h1": make_mapping_row("h1", "r1"), "h2": make_mapping_row("h2", "r2")}
        for row in rows.values():
            store.put_mapping(row)

        with pytest.raises(StateError):
            store.put_mapping(make_mapping_row("h2", "r1"))

        assert rows == store.mappings("alice", CAL)

    def test_a_remote_id_freed_by_a_delete_can_be_mapped_again(self, store: StateStore) -> None:
        store.put_mapping(make_mapping_row("h1", "r1"))
        store.delete_mapping("alice", CAL, "h1")
        reuser = make_mapping_row("h2", "r1")
        store.put_mapping(reuser)

        assert {"h2": reuser} == store.mappings("alice", CAL)

    def test_the_same_remote_id_may_be_mapped_in_another_channel_or_profile(
        self, store: StateStore
    ) -> None:
        calendar = make_mapping_row("h1", "shared")
        contacts = make_mapping_row("h2", "shared", channel=CON)
        bob = make_mapping_row("h3", "shared", profile_id="bob")
        for row in (calendar, contacts, bob):
            store.put_mapping(row)

        assert {"h1": calendar} == store.mappings("alice", CAL)
        assert {"h2": contacts} == store.mappings("alice", CON)
        assert {"h3": bob} == store.mappings("bob", CAL)

    def test_deleting_a_mapping_removes_only_that_row(self, store: StateStore) -> None:
        kept = make_mapping_row("h2")
        store.put_mapping(make_mapping_row("h1"))
        store.put_mapping(kept)

        store.delete_mapping("alice", CAL, "h1")

        assert {"h2": kept} == store.mappings("alice", CAL)

    def test_deleting_a_missing_mapping_is_not_an_error(self, store: StateStore) -> None:
        kept = make_mapping_row("h1")
        store.put_mapping(kept)

        store.delete_mapping("alice", CAL, "never-mapped")
        store.delete_mapping("nobody", CON, "h1")

        assert {"h1": kept} == store.mappings("alice", CAL)

    def test_text_fields_round_trip_exactly(self, store: StateStore) -> None:
        row = make_mapping_row(
            "höst/1 'quoted' \"double\"",
            "rémote;--",
            kind=RecordKind.UNLINKED,
            base="Zoë's 📷 session\n\ttab " + "x" * 100_000,
            fingerprint="",
        )
        store.put_mapping(row)

        assert {row.host_id: row} == store.mappings("alice", CAL)

    def test_the_rows_returned_are_a_copy_the_caller_may_change(self, store: StateStore) -> None:
        row = make_mapping_row("h1")
        store.put_mapping(row)

        store.mappings("alice", CAL).clear()
        store.pending("alice", CON).clear()

        assert {"h1": row} == store.mappings("alice", CAL)

    # -- cursors ---------------------------------------------------------------------------

    def test_a_cursor_never_set_is_none(self, store: StateStore) -> None:
        store.set_cursor("alice", "calendar.sync_token", "token-1")

        assert store.get_cursor("alice", "contacts.sync_token") is None

    def test_a_cursor_set_is_read_back_and_replaced_by_the_next_set(
        self, store: StateStore
    ) -> None:
        store.set_cursor("alice", "calendar.sync_token", "token-1")
        assert store.get_cursor("alice", "calendar.sync_token") == "token-1"

        store.set_cursor("alice", "calendar.sync_token", "token-2")
        assert store.get_cursor("alice", "calendar.sync_token") == "token-2"

    def test_setting_a_cursor_to_none_removes_it(self, store: StateStore) -> None:
        store.set_cursor("alice", "host.feed", "42")
        store.set_cursor("alice", "options.digest", "abc")

        store.set_cursor("alice", "host.feed", None)
        store.set_cursor("alice", "never.set", None)

        assert store.get_cursor("alice", "host.feed") is None
        assert store.get_cursor("alice", "options.digest") == "abc"

    def test_an_empty_cursor_is_kept_and_is_not_none(self, store: StateStore) -> None:
        store.set_cursor("alice", "host.feed", "")

        assert store.get_cursor("alice", "host.feed") == ""

    # -- the notice sent --------------------------------------------------------------------

    def test_no_notice_was_sent_to_a_new_profile(self, store: StateStore) -> None:
        assert store.get_sent_notice("alice") is None

    def test_a_notice_recorded_is_read_back_in_utc_and_replaced_by_the_next(
        self, store: StateStore
    ) -> None:
        store.set_sent_notice("alice", SentNotice("digest-1", T0, lasting=False))
        first = store.get_sent_notice("alice")
        store.set_sent_notice(
            "alice", SentNotice("digest-2", T0.astimezone(timezone(timedelta(hours=-5))))
        )
        second = store.get_sent_notice("alice")

        assert first == SentNotice("digest-1", T0, lasting=False)
        assert second == SentNotice("digest-2", T0, lasting=True)
        assert second is not None
        assert second.sent_at.utcoffset() == timedelta(0)

    def test_clearing_the_notice_forgets_it_for_that_profile_only(self, store: StateStore) -> None:
        store.set_sent_notice("alice", SentNotice("digest-1", T0))
        store.set_sent_notice("bob", SentNotice("digest-2", T0))

        store.set_sent_notice("alice", None)
        store.set_sent_notice("carol", None)

        assert store.get_sent_notice("alice") is None
        assert store.get_sent_notice("bob") == SentNotice("digest-2", T0)

    def test_a_notice_with_a_naive_time_is_refused(self, store: StateStore) -> None:
        with pytest.raises(ValueError, match="aware"):
            store.set_sent_notice("alice", SentNotice("digest-1", T0.replace(tzinfo=None)))

    def test_a_notice_recorded_in_a_transaction_that_rolls_back_is_not_kept(
        self, store: StateStore
    ) -> None:
        with _rolled_back(store):
            store.set_sent_notice("alice", SentNotice("digest-1", T0))

        assert store.get_sent_notice("alice") is None

    # -- pending creates -------------------------------------------------------------------

    def test_each_named_value_is_read_back_and_kept_apart_from_the_others(
        self, store: StateStore
    ) -> None:
        later = T0 + timedelta(minutes=5)
        store.set_sync_cursor("alice", CAL, Side.HOST, "host-7")
        store.set_sync_cursor("alice", CAL, Side.REMOTE, "token-3")
        store.set_sync_cursor("alice", CON, Side.REMOTE, "people-1")
        store.set_config_digest("alice", CAL, "d1")
        store.set_remote_group("alice", RemoteGroup("Weddings 2027", "contactGroups/abc"))
        store.set_last_run("alice", later)

        assert (
            store.get_sync_cursor("alice", CAL, Side.HOST),
            store.get_sync_cursor("alice", CAL, Side.REMOTE),
            store.get_sync_cursor("alice", CON, Side.REMOTE),
            store.get_sync_cursor("alice", CON, Side.HOST),
            store.get_config_digest("alice", CAL),
            store.get_config_digest("alice", CON),
            store.get_remote_group("alice"),
            store.get_last_run("alice"),
            store.get_last_run("bob"),
        ) == (
            "host-7",
            "token-3",
            "people-1",
            None,
            "d1",
            None,
            RemoteGroup("Weddings 2027", "contactGroups/abc"),
            later,
            None,
        )

    def test_forgetting_a_channel_drops_its_rows_intents_and_named_values_only(
        self, store: StateStore
    ) -> None:
        store.put_mapping(make_mapping_row("h1", channel=CON))
        store.put_mapping(make_mapping_row("h2", channel=CAL))
        store.add_pending(make_pending("c1"))
        store.set_sync_cursor("alice", CON, Side.REMOTE, "people-1")
        store.set_sync_cursor("alice", CAL, Side.REMOTE, "token-3")
        store.set_config_digest("alice", CON, "d2")
        store.set_remote_group("alice", RemoteGroup("Clients", "contactGroups/x"))
        store.set_last_run("alice", T0)

        store.forget_channel("alice", CON)

        assert (
            list(store.mappings("alice", CON)),
            list(store.mappings("alice", CAL)),
            store.pending("alice", CON),
            store.get_sync_cursor("alice", CON, Side.REMOTE),
            store.get_sync_cursor("alice", CAL, Side.REMOTE),
            store.get_config_digest("alice", CON),
            store.get_remote_group("alice"),
            store.get_last_run("alice"),
        ) == ([], ["h2"], {}, None, "token-3", None, None, T0)

    def test_a_pending_create_is_listed_by_host_id(self, store: StateStore) -> None:
        first, second = make_pending("c1"), make_pending("c2")
        store.add_pending(first)
        store.add_pending(second)

        assert {"c1": first, "c2": second} == store.pending("alice", CON)

    def test_a_pending_create_keeps_the_fields_being_written(self, store: StateStore) -> None:
        intent = attrs.evolve(make_pending("c1"), base='{"given_name": "Ann"}')

        store.add_pending(intent)

        assert {"c1": intent} == store.pending("alice", CON)

    def test_adding_a_pending_create_again_replaces_the_older_intent(
        self, store: StateStore
    ) -> None:
        store.add_pending(make_pending("c1"))
        newer = attrs.evolve(make_pending("c1"), created_at=T0 + timedelta(minutes=3))
        store.add_pending(newer)

        assert {"c1": newer} == store.pending("alice", CON)

    def test_removing_a_pending_create_drops_only_that_intent(self, store: StateStore) -> None:
        kept = make_pending("c2")
        store.add_pending(make_pending("c1"))
        store.add_pending(kept)

        store.remove_pending("alice", CON, "c1")

        assert {"c2": kept} == store.pending("alice", CON)

    def test_removing_a_missing_pending_create_is_not_an_error(self, store: StateStore) -> None:
        kept = make_pending("c1")
        store.add_pending(kept)

        store.remove_pending("alice", CON, "never-recorded")
        store.remove_pending("nobody", CAL, "c1")

        assert {"c1": kept} == store.pending("alice", CON)

    # -- isolation -------------------------------------------------------------------------

    def test_two_profiles_never_see_each_others_state(self, store: StateStore) -> None:
        alice_row, bob_row = make_mapping_row("h1"), make_mapping_row("h1", profile_id="bob")
        alice_intent, bob_intent = make_pending("c1"), make_pending("c1", profile_id="bob")
        store.put_mapping(alice_row)
        store.put_mapping(bob_row)
        store.add_pending(alice_intent)
        store.add_pending(bob_intent)
        store.set_cursor("alice", "host.feed", "alice-feed")
        store.set_cursor("bob", "host.feed", "bob-feed")

        store.delete_mapping("bob", CAL, "h1")
        store.remove_pending("bob", CON, "c1")
        store.set_cursor("bob", "host.feed", None)

        assert {"h1": alice_row} == store.mappings("alice", CAL)
        assert {"c1": alice_intent} == store.pending("alice", CON)
        assert store.get_cursor("alice", "host.feed") == "alice-feed"
        assert store.mappings("bob", CAL) == {}
        assert store.pending("bob", CON) == {}
        assert store.get_cursor("bob", "host.feed") is None

    def test_the_two_channels_of_a_profile_are_separate(self, store: StateStore) -> None:
        event = make_mapping_row("same-id", channel=CAL)
        contact = make_mapping_row("same-id", channel=CON)
        store.put_mapping(event)
        store.put_mapping(contact)
        store.add_pending(make_pending("same-id", channel=CON))

        store.delete_mapping("alice", CON, "same-id")

        assert {"same-id": event} == store.mappings("alice", CAL)
        assert store.mappings("alice", CON) == {}
        assert store.pending("alice", CAL) == {}

    # -- whole profile ---------------------------------------------------------------------

    def _fill_profile(self, store: StateStore, profile_id: str) -> None:
        store.put_mapping(make_mapping_row("h1", profile_id=profile_id))
        store.put_mapping(make_mapping_row("c1", profile_id=profile_id, channel=CON))
        store.add_pending(make_pending("c2", profile_id=profile_id))
        store.set_cursor(profile_id, "calendar.sync_token", f"{profile_id}-token")

    def test_forgetting_a_profile_drops_its_mappings_cursors_and_pending_creates(
        self, store: StateStore
    ) -> None:
        self._fill_profile(store, "alice")

        store.forget_profile("alice")

        assert store.mappings("alice", CAL) == {}
        assert store.mappings("alice", CON) == {}
        assert store.pending("alice", CON) == {}
        assert store.get_cursor("alice", "calendar.sync_token") is None
        assert "alice" not in store.profile_ids()

    def test_forgetting_a_profile_keeps_its_lease(self, store: StateStore) -> None:
        self._fill_profile(store, "alice")
        lease = store.acquire_lease("alice", "runner-1", TTL, T0)

        store.forget_profile("alice")

        assert lease == store.get_lease("alice")

    def test_forgetting_a_profile_leaves_other_profiles_untouched(self, store: StateStore) -> None:
        self._fill_profile(store, "alice")
        self._fill_profile(store, "bob")
        before = (
            store.mappings("bob", CAL),
            store.mappings("bob", CON),
            store.pending("bob", CON),
            store.get_cursor("bob", "calendar.sync_token"),
        )

        store.forget_profile("alice")

        after = (
            store.mappings("bob", CAL),
            store.mappings("bob", CON),
            store.pending("bob", CON),
            store.get_cursor("bob", "calendar.sync_token"),
        )
        assert before == after
        assert store.profile_ids() == ["bob"]

    def test_forgetting_an_unknown_profile_is_not_an_error(self, store: StateStore) -> None:
        store.forget_profile("nobody")

        assert store.profile_ids() == []

    def test_a_forgotten_profile_can_start_over_with_the_same_ids(self, store: StateStore) -> None:
        self._fill_profile(store, "alice")
        store.forget_profile("alice")
        again = make_mapping_row("h1")
        store.put_mapping(again)

        assert {"h1": again} == store.mappings("alice", CAL)

    def test_profile_ids_lists_every_profile_with_a_mapping_row_a_cursor_or_an_intent(
        self, store: StateStore
    ) -> None:
        store.put_mapping(make_mapping_row("h1", profile_id="with-calendar-row"))
        store.put_mapping(make_mapping_row("h1", profile_id="with-contact-row", channel=CON))
        store.set_cursor("with-cursor", "host.feed", "1")
        store.add_pending(make_pending("c1", profile_id="with-intent-only"))
        store.acquire_lease("with-lease-only", "runner-1", TTL, T0)

        expected = ["with-calendar-row", "with-contact-row", "with-cursor", "with-intent-only"]
        assert expected == sorted(store.profile_ids())

    def test_a_profile_whose_last_row_and_cursor_are_gone_is_not_listed(
        self, store: StateStore
    ) -> None:
        store.put_mapping(make_mapping_row("h1"))
        store.set_cursor("alice", "host.feed", "1")

        store.delete_mapping("alice", CAL, "h1")
        store.set_cursor("alice", "host.feed", None)

        assert store.profile_ids() == []

    # -- transactions ----------------------------------------------------------------------

    def test_the_writes_of_a_transaction_are_all_kept_when_it_ends(self, store: StateStore) -> None:
        row, intent = make_mapping_row("h1"), make_pending("c1")
        with store.transaction():
            store.put_mapping(row)
            store.add_pending(intent)
            store.set_cursor("alice", "host.feed", "7")

        assert {"h1": row} == store.mappings("alice", CAL)
        assert {"c1": intent} == store.pending("alice", CON)
        assert store.get_cursor("alice", "host.feed") == "7"

    def test_a_transaction_reads_its_own_writes(self, store: StateStore) -> None:
        row = make_mapping_row("h1")
        with store.transaction():
            store.put_mapping(row)
            store.set_cursor("alice", "host.feed", "7")

            assert {"h1": row} == store.mappings("alice", CAL)
            assert store.get_cursor("alice", "host.feed") == "7"

    def test_an_exception_in_a_transaction_undoes_all_its_writes(self, store: StateStore) -> None:
        self._fill_profile(store, "alice")
        lease = store.acquire_lease("alice", "runner-1", TTL, T0)
        before = self._snapshot(store, "alice")

        with _rolled_back(store):
            store.put_mapping(make_mapping_row("h1", "r-new", kind=RecordKind.APPOINTMENT))
            store.put_mapping(make_mapping_row("h9"))
            store.delete_mapping("alice", CON, "c1")
            store.set_cursor("alice", "calendar.sync_token", "newer-token")
            store.set_cursor("alice", "host.feed", "99")
            store.add_pending(make_pending("c3"))
            store.remove_pending("alice", CON, "c2")
            store.release_lease("alice", "runner-1")

        assert before == self._snapshot(store, "alice")
        assert lease == store.get_lease("alice")

    def test_an_exception_in_a_transaction_undoes_forget_profile_and_lease_changes(
        self, store: StateStore
    ) -> None:
        self._fill_profile(store, "alice")
        before = self._snapshot(store, "alice")

        with _rolled_back(store):
            store.forget_profile("alice")
            store.acquire_lease("alice", "runner-1", TTL, T0)

        assert before == self._snapshot(store, "alice")
        assert store.get_lease("alice") is None
        assert store.profile_ids() == ["alice"]

    def test_the_exception_that_ends_a_transaction_propagates_unchanged(
        self, store: StateStore
    ) -> None:
        def fail_in_transaction() -> None:
            with store.transaction():
                store.put_mapping(make_mapping_row("h1"))
                raise _Abort("the reason")

        with pytest.raises(_Abort, match="the reason"):
            fail_in_transaction()

    def test_the_store_is_usable_after_a_transaction_rolled_back(self, store: StateStore) -> None:
        with _rolled_back(store):
            store.put_mapping(make_mapping_row("h1"))
        row = make_mapping_row("h1")
        store.put_mapping(row)
        with store.transaction():
            store.set_cursor("alice", "host.feed", "1")

        assert {"h1": row} == store.mappings("alice", CAL)
        assert store.get_cursor("alice", "host.feed") == "1"

    def test_a_nested_transaction_joins_the_outer_one(self, store: StateStore) -> None:
        # The inner transaction ends normally, then the outer one fails.
        with _rolled_back(store), store.transaction():
            store.put_mapping(make_mapping_row("h1"))
            store.set_cursor("alice", "host.feed", "1")

        assert store.mappings("alice", CAL) == {}
        assert store.get_cursor("alice", "host.feed") is None

    def test_nested_transactions_commit_with_the_outer_one(self, store: StateStore) -> None:
        first, second = make_mapping_row("h1"), make_mapping_row("h2")
        with store.transaction():
            store.put_mapping(first)
            with store.transaction(), store.transaction():
                store.put_mapping(second)

        assert {"h1": first, "h2": second} == store.mappings("alice", CAL)

    def test_an_exception_leaving_nested_transactions_undoes_them_all(
        self, store: StateStore
    ) -> None:
        with _rolled_back(store):
            store.put_mapping(make_mapping_row("h1"))
            with store.transaction():
                store.put_mapping(make_mapping_row("h2"))
                raise _Abort

        assert store.mappings("alice", CAL) == {}

    def test_a_nested_transaction_that_fails_is_undone_while_the_outer_one_goes_on(
        self, store: StateStore
    ) -> None:
        outer_row, after_row = make_mapping_row("h1"), make_mapping_row("h3")
        with store.transaction():
            store.put_mapping(outer_row)
            with _rolled_back(store):
                store.put_mapping(make_mapping_row("h2"))
                store.set_cursor("alice", "host.feed", "inner")
            store.put_mapping(after_row)

        assert {"h1": outer_row, "h3": after_row} == store.mappings("alice", CAL)
        assert store.get_cursor("alice", "host.feed") is None

    def test_a_refused_write_inside_a_transaction_keeps_the_earlier_writes(
        self, store: StateStore
    ) -> None:
        first, second = make_mapping_row("h1", "r1"), make_mapping_row("h2", "r2")
        with store.transaction():
            store.put_mapping(first)
            with pytest.raises(StateError):
                store.put_mapping(make_mapping_row("h9", "r1"))
            store.put_mapping(second)

        assert {"h1": first, "h2": second} == store.mappings("alice", CAL)

    def test_another_thread_never_sees_the_writes_of_a_transaction_that_rolls_back(
        self, store: StateStore
    ) -> None:
        seen: list[dict[str, MappingRow]] = []
        reader = threading.Thread(target=lambda: seen.append(store.mappings("alice", CAL)))
        with _rolled_back(store):
            store.put_mapping(make_mapping_row("h1"))
            reader.start()
            reader.join(timeout=0.2)  # a store may make the reader wait for the transaction
        reader.join(timeout=30)

        assert seen == [{}]

    def _snapshot(self, store: StateStore, profile_id: str) -> object:
        cursors = ("calendar.sync_token", "host.feed")
        return (
            {channel: store.mappings(profile_id, channel) for channel in Channel},
            {channel: store.pending(profile_id, channel) for channel in Channel},
            {name: store.get_cursor(profile_id, name) for name in cursors},
        )

    # -- leases ----------------------------------------------------------------------------

    def test_a_free_lease_is_acquired_until_now_plus_ttl(self, store: StateStore) -> None:
        lease = store.acquire_lease("alice", "runner-1", TTL, T0)

        expected = Lease(profile_id="alice", holder="runner-1", expires_at=T0 + TTL)
        assert expected == lease
        assert expected == store.get_lease("alice")

    def test_a_lease_held_by_another_runner_is_refused_until_it_expires(
        self, store: StateStore
    ) -> None:
        held = store.acquire_lease("alice", "runner-1", TTL, T0)

        for now in (T0, T0 + TTL / 2, T0 + TTL - timedelta(microseconds=1)):
            assert store.acquire_lease("alice", "runner-2", TTL, now) is None
        assert held == store.get_lease("alice")

    def test_an_expired_lease_is_taken_over_by_another_runner(self, store: StateStore) -> None:
        store.acquire_lease("alice", "runner-1", TTL, T0)
        later = T0 + TTL + timedelta(seconds=1)

        lease = store.acquire_lease("alice", "runner-2", TTL, later)

        expected = Lease(profile_id="alice", holder="runner-2", expires_at=later + TTL)
        assert expected == lease
        assert expected == store.get_lease("alice")

    def test_a_lease_is_expired_at_its_expiry_instant(self, store: StateStore) -> None:
        store.acquire_lease("alice", "runner-1", TTL, T0)

        lease = store.acquire_lease("alice", "runner-2", TTL, T0 + TTL)

        assert Lease("alice", "runner-2", T0 + 2 * TTL) == lease

    def test_the_holder_renews_its_lease_for_ttl_from_now(self, store: StateStore) -> None:
        store.acquire_lease("alice", "runner-1", TTL, T0)
        renewed_at = T0 + timedelta(minutes=4)

        renewed = store.acquire_lease("alice", "runner-1", timedelta(minutes=1), renewed_at)

        expected = Lease("alice", "runner-1", renewed_at + timedelta(minutes=1))
        assert expected == renewed
        assert expected == store.get_lease("alice")

    def test_the_holder_can_renew_a_lease_that_already_expired(self, store: StateStore) -> None:
        store.acquire_lease("alice", "runner-1", TTL, T0)
        later = T0 + 3 * TTL

        assert Lease("alice", "runner-1", later + TTL) == store.acquire_lease(
            "alice", "runner-1", TTL, later
        )

    def test_releasing_a_lease_frees_it_for_another_runner(self, store: StateStore) -> None:
        store.acquire_lease("alice", "runner-1", TTL, T0)

        store.release_lease("alice", "runner-1")

        assert store.get_lease("alice") is None
        assert Lease("alice", "runner-2", T0 + TTL) == store.acquire_lease(
            "alice", "runner-2", TTL, T0
        )

    def test_a_lease_is_released_only_by_its_holder(self, store: StateStore) -> None:
        held = store.acquire_lease("alice", "runner-1", TTL, T0)

        store.release_lease("alice", "runner-2")

        assert held == store.get_lease("alice")
        assert store.acquire_lease("alice", "runner-2", TTL, T0) is None

    def test_releasing_a_lease_nobody_holds_is_not_an_error(self, store: StateStore) -> None:
        store.release_lease("alice", "runner-1")

        assert store.get_lease("alice") is None

    def test_leases_are_per_profile(self, store: StateStore) -> None:
        alice = store.acquire_lease("alice", "runner-1", TTL, T0)
        bob = store.acquire_lease("bob", "runner-2", TTL, T0)
        store.release_lease("bob", "runner-2")

        assert Lease("alice", "runner-1", T0 + TTL) == alice
        assert Lease("bob", "runner-2", T0 + TTL) == bob
        assert alice == store.get_lease("alice")
        assert store.get_lease("bob") is None

    def test_only_one_of_several_threads_racing_for_a_free_lease_gets_it(
        self, store: StateStore
    ) -> None:
        results = _run_in_threads(
            8, lambda index: store.acquire_lease("alice", f"runner-{index}", TTL, T0)
        )

        winners = [lease for lease in results if lease is not None]
        assert len(winners) == 1
        assert winners[0] == store.get_lease("alice")

    # -- datetimes -------------------------------------------------------------------------

    def test_datetimes_come_back_as_the_same_instant_in_utc(self, store: StateStore) -> None:
        cest = timezone(timedelta(hours=2))
        local = datetime(2024, 5, 1, 11, 30, 15, 654321, tzinfo=cest)
        store.put_mapping(make_mapping_row("h1", synced_at=local))
        store.add_pending(attrs.evolve(make_pending("c1"), created_at=local))
        lease = store.acquire_lease("alice", "runner-1", TTL, local)

        read_back = [
            store.mappings("alice", CAL)["h1"].synced_at,
            store.pending("alice", CON)["c1"].created_at,
        ]
        assert [local, local] == read_back
        assert lease == store.get_lease("alice")
        stored_lease = store.get_lease("alice")
        assert stored_lease is not None
        for moment in [*read_back, stored_lease.expires_at]:
            assert timedelta(0) == moment.utcoffset()

    def test_naive_datetimes_are_refused(self, store: StateStore) -> None:
        naive = datetime(2024, 5, 1, 9, 30)

        with pytest.raises(ValueError, match="timezone-aware"):
            store.put_mapping(make_mapping_row("h1", synced_at=naive))
        with pytest.raises(ValueError, match="timezone-aware"):
            store.add_pending(attrs.evolve(make_pending("c1"), created_at=naive))
        with pytest.raises(ValueError, match="timezone-aware"):
            store.acquire_lease("alice", "runner-1", TTL, naive)

        assert store.mappings("alice", CAL) == {}
        assert store.get_lease("alice") is None

    # -- threads ---------------------------------------------------------------------------

    def test_threads_writing_distinct_rows_concurrently_all_land(self, store: StateStore) -> None:
        threads, rows_each = 8, 40

        def write(index: int) -> None:
            for number in range(rows_each):
                store.put_mapping(make_mapping_row(f"t{index}-h{number}"))
                store.add_pending(make_pending(f"t{index}-c{number}"))
            store.set_cursor("alice", f"thread-{index}", str(index))

        _run_in_threads(threads, write)

        expected_ids = {f"t{i}-h{n}" for i in range(threads) for n in range(rows_each)}
        assert expected_ids == set(store.mappings("alice", CAL))
        assert threads * rows_each == len(store.pending("alice", CON))
        cursors = [store.get_cursor("alice", f"thread-{index}") for index in range(threads)]
        assert [str(index) for index in range(threads)] == cursors

    def test_a_rollback_in_one_thread_never_undoes_another_threads_writes(
        self, store: StateStore
    ) -> None:
        threads, attempts = 6, 10

        def write(index: int) -> None:
            for attempt in range(attempts):
                with _rolled_back(store) if attempt % 2 else store.transaction():
                    store.put_mapping(make_mapping_row(f"t{index}-{attempt}"))
                    store.set_cursor("alice", f"t{index}-{attempt}", "set")

        _run_in_threads(threads, write)

        kept = {f"t{i}-{a}" for i in range(threads) for a in range(attempts) if a % 2 == 0}
        assert kept == set(store.mappings("alice", CAL))
        cursors = {
            f"t{i}-{a}": store.get_cursor("alice", f"t{i}-{a}")
            for i in range(threads)
            for a in range(attempts)
        }
        assert dict.fromkeys(kept, "set") == {k: v for k, v in cursors.items() if v}

    # -- push channels ---------------------------------------------------------------------

    def test_a_push_channel_put_is_found_by_its_id_whatever_its_profile(
        self, store: StateStore
    ) -> None:
        mine, theirs = make_push_channel("ch-1"), make_push_channel("ch-2", profile_id="bob")
        store.put_push_channel(mine)
        store.put_push_channel(theirs)

        assert (mine, theirs) == (store.get_push_channel("ch-1"), store.get_push_channel("ch-2"))
        assert store.get_push_channel("ch-unknown") is None

    def test_putting_a_push_channel_again_replaces_it(self, store: StateStore) -> None:
        store.put_push_channel(make_push_channel(resource_id=""))
        confirmed = make_push_channel(resource_id="res-9", confirmed_at=T0 + TTL)

        store.put_push_channel(confirmed)

        assert [confirmed] == store.push_channels("alice")

    def test_push_channels_are_listed_per_profile_or_all_soonest_expiry_first(
        self, store: StateStore
    ) -> None:
        late, soon = (
            make_push_channel("a-late", expires_in=6),
            make_push_channel("z-soon", expires_in=1),
        )
        other = make_push_channel("b-other", profile_id="bob", expires_in=3)
        for channel in (late, soon, other):
            store.put_push_channel(channel)

        assert [soon, late] == store.push_channels("alice")
        assert [soon, other, late] == store.push_channels()
        assert store.push_channels("carol") == []

    def test_push_channel_datetimes_come_back_as_aware_utc(self, store: StateStore) -> None:
        paris = timezone(timedelta(hours=2))
        store.put_push_channel(make_push_channel(confirmed_at=T0.astimezone(paris)))

        found = store.get_push_channel("ch-1")

        assert found is not None
        assert found.confirmed_at is not None
        assert (found.confirmed_at, found.confirmed_at.utcoffset()) == (T0, timedelta(0))
        assert (found.expires_at, found.created_at) == (T0 + timedelta(days=7), T0)

    def test_deleting_a_push_channel_forgets_only_it_and_a_missing_one_is_fine(
        self, store: StateStore
    ) -> None:
        store.put_push_channel(make_push_channel("ch-1"))
        store.put_push_channel(make_push_channel("ch-2"))

        store.delete_push_channel("ch-1")
        store.delete_push_channel("ch-1")

        assert [c.channel_id for c in store.push_channels()] == ["ch-2"]

    def test_forgetting_a_profile_keeps_its_push_channels(self, store: StateStore) -> None:
        store.put_push_channel(make_push_channel())
        store.set_cursor("alice", "calendar.sync_token", "t")

        store.forget_profile("alice")

        assert [make_push_channel()] == store.push_channels("alice")
        assert store.profile_ids() == []

    def test_an_exception_in_a_transaction_undoes_push_channel_writes(
        self, store: StateStore
    ) -> None:
        store.put_push_channel(make_push_channel("ch-1"))

        with _rolled_back(store):
            store.delete_push_channel("ch-1")
            store.put_push_channel(make_push_channel("ch-2"))

        assert [c.channel_id for c in store.push_channels()] == ["ch-1"]

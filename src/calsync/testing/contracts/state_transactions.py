"""The state store contract, part: isolation between profiles, a whole profile's state,
and transactions. See :mod:`calsync.testing.contracts.state`."""

from __future__ import annotations

import threading

import pytest

from calsync.errors import StateError
from calsync.model import Channel, RecordKind
from calsync.state.base import MappingRow, StateStore
from calsync.testing.contracts.state_support import (
    CAL,
    CON,
    T0,
    TTL,
    Abort,
    make_mapping_row,
    make_pending,
    rolled_back,
)

__all__ = ["TransactionContract"]


class TransactionContract:
    """Isolation between profiles, a whole profile's state, and transactions. Subclasses
    provide a ``store`` fixture."""

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

        with rolled_back(store):
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

        with rolled_back(store):
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
                raise Abort("the reason")

        with pytest.raises(Abort, match="the reason"):
            fail_in_transaction()

    def test_the_store_is_usable_after_a_transactionrolled_back(self, store: StateStore) -> None:
        with rolled_back(store):
            store.put_mapping(make_mapping_row("h1"))
        row = make_mapping_row("h1")
        store.put_mapping(row)
        with store.transaction():
            store.set_cursor("alice", "host.feed", "1")

        assert {"h1": row} == store.mappings("alice", CAL)
        assert store.get_cursor("alice", "host.feed") == "1"

    def test_a_nested_transaction_joins_the_outer_one(self, store: StateStore) -> None:
        # The inner transaction ends normally, then the outer one fails.
        with rolled_back(store), store.transaction():
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
        with rolled_back(store):
            store.put_mapping(make_mapping_row("h1"))
            with store.transaction():
                store.put_mapping(make_mapping_row("h2"))
                raise Abort

        assert store.mappings("alice", CAL) == {}

    def test_a_nested_transaction_that_fails_is_undone_while_the_outer_one_goes_on(
        self, store: StateStore
    ) -> None:
        outer_row, after_row = make_mapping_row("h1"), make_mapping_row("h3")
        with store.transaction():
            store.put_mapping(outer_row)
            with rolled_back(store):
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
        with rolled_back(store):
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

"""The state store contract, part: the writes of many rows at once (:meth:`put_mappings`,
:meth:`add_pendings`, :meth:`remove_pendings`), which a run uses for each batch of creates. See
:mod:`calsync.testing.contracts.state`."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from calsync.errors import StateError
from calsync.state.base import StateStore
from calsync.testing.contracts.state_support import (
    CAL,
    CON,
    T0,
    make_mapping_row,
    make_pending,
    rolled_back,
)

__all__ = ["BulkContract"]


class BulkContract:
    """Rows and intents written many at once: each as its one-row method writes it, all of
    them or none. Subclasses provide a ``store`` fixture."""

    def test_rows_put_together_are_read_back_as_if_put_one_by_one(self, store: StateStore) -> None:
        store.put_mapping(make_mapping_row("h1", "r1"))
        rows = [
            make_mapping_row("h1", "r9", host_revision="rev-2"),  # replaces, remaps
            make_mapping_row("h2", "r1"),  # takes the remote id h1 let go of just before
            make_mapping_row("h3", remote_etag=None, host_revision=None),
        ]

        store.put_mappings(rows)

        assert {row.host_id: row for row in rows} == store.mappings("alice", CAL)

    def test_putting_no_rows_writes_nothing(self, store: StateStore) -> None:
        store.put_mappings([])

        assert store.mappings("alice", CAL) == {}

    def test_a_batch_with_a_remote_id_mapped_elsewhere_writes_none_of_its_rows(
        self, store: StateStore
    ) -> None:
        original = make_mapping_row("h1", "r1")
        store.put_mapping(original)

        with pytest.raises(StateError):
            store.put_mappings([make_mapping_row("h2"), make_mapping_row("h3", "r1")])

        assert {"h1": original} == store.mappings("alice", CAL)
        store.put_mappings([make_mapping_row("h2")])  # the store goes on working
        assert set(store.mappings("alice", CAL)) == {"h1", "h2"}

    def test_a_batch_mapping_one_remote_id_twice_writes_none_of_its_rows(
        self, store: StateStore
    ) -> None:
        with pytest.raises(StateError):
            store.put_mappings([make_mapping_row("h1", "r1"), make_mapping_row("h2", "r1")])

        assert store.mappings("alice", CAL) == {}

    def test_a_refused_batch_inside_a_transaction_keeps_the_transactions_other_writes(
        self, store: StateStore
    ) -> None:
        store.put_mapping(make_mapping_row("h1", "r1"))
        with store.transaction():
            store.put_mapping(make_mapping_row("h0", "r0"))
            with pytest.raises(StateError):
                store.put_mappings([make_mapping_row("h2"), make_mapping_row("h3", "r1")])
            store.add_pending(make_pending("c1"))

        assert set(store.mappings("alice", CAL)) == {"h0", "h1"}
        assert set(store.pending("alice", CON)) == {"c1"}

    def test_bulk_writes_are_undone_with_the_transaction_around_them(
        self, store: StateStore
    ) -> None:
        store.add_pending(make_pending("c1"))
        with rolled_back(store):
            store.put_mappings([make_mapping_row("h1"), make_mapping_row("h2")])
            store.add_pendings([make_pending("c2")])
            store.remove_pendings("alice", CON, ["c1"])

        assert store.mappings("alice", CAL) == {}
        assert set(store.pending("alice", CON)) == {"c1"}

    def test_intents_added_together_are_listed_and_replace_older_ones(
        self, store: StateStore
    ) -> None:
        store.add_pending(make_pending("c1"))
        newer = attrs.evolve(make_pending("c1"), created_at=T0 + timedelta(minutes=3), base="{}")
        second = attrs.evolve(make_pending("c2"), base='{"given_name": "Ann"}')

        store.add_pendings([newer, second])
        store.add_pendings([])

        assert {"c1": newer, "c2": second} == store.pending("alice", CON)

    def test_intents_removed_together_go_and_missing_ones_are_no_error(
        self, store: StateStore
    ) -> None:
        kept, elsewhere = make_pending("c3"), make_pending("c1", channel=CAL)
        store.add_pendings([make_pending("c1"), make_pending("c2"), kept, elsewhere])

        store.remove_pendings("alice", CON, ["c1", "c2", "never-recorded"])
        store.remove_pendings("alice", CON, [])

        assert {"c3": kept} == store.pending("alice", CON)
        assert {"c1": elsewhere} == store.pending("alice", CAL)

"""The state store contract, part: mapping rows, read whole, by id or as heads. See
:mod:`calsync.testing.contracts.state`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calsync.errors import StateError
from calsync.model import RecordKind
from calsync.state.base import StateStore
from calsync.testing.contracts.state_support import (
    CAL,
    CON,
    T0,
    make_mapping_row,
)

__all__ = ["MappingContract"]


class MappingContract:
    """Mapping rows, read whole, by id or as heads. Subclasses provide a ``store`` fixture."""

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
        )
        store.put_mapping(row)

        assert {row.host_id: row} == store.mappings("alice", CAL)

    def test_the_rows_returned_are_a_copy_the_caller_may_change(self, store: StateStore) -> None:
        row = make_mapping_row("h1")
        store.put_mapping(row)

        store.mappings("alice", CAL).clear()
        store.mapping_heads("alice", CAL).clear()
        store.pending("alice", CON).clear()

        assert {"h1": row} == store.mappings("alice", CAL)
        assert list(store.mapping_heads("alice", CAL)) == ["h1"]

    def test_rows_are_read_by_host_id_or_by_remote_id_without_the_rest(
        self, store: StateStore
    ) -> None:
        for n in range(5):
            store.put_mapping(make_mapping_row(f"h{n}"))
        store.put_mapping(make_mapping_row("h9", channel=CON))

        found = store.mappings_of("alice", CAL, host_ids=["h1", "h7"], remote_ids=["r-h3", "r-x"])

        assert found == {h: make_mapping_row(h) for h in ("h1", "h3")}
        assert store.mappings_of("alice", CAL) == {}
        assert (store.count_mappings("alice", CAL), store.count_mappings("alice", CON)) == (5, 1)
        assert store.count_mappings("bob", CAL) == 0

    def test_many_ids_are_read_at_once(self, store: StateStore) -> None:
        with store.transaction():
            for n in range(1200):
                store.put_mapping(make_mapping_row(f"h{n}"))

        found = store.mappings_of("alice", CAL, host_ids=[f"h{n}" for n in range(0, 1200, 2)])

        assert len(found) == 600

    def test_the_heads_of_a_channels_rows_name_their_pairs_revisions_and_etags(
        self, store: StateStore
    ) -> None:
        rows = [
            make_mapping_row("h1", "r1"),
            make_mapping_row("h2", kind=RecordKind.UNLINKED, host_revision=None, remote_etag=None),
        ]
        elsewhere = [make_mapping_row("h3", channel=CON), make_mapping_row("h4", profile_id="bob")]
        store.put_mappings([*rows, *elsewhere])

        heads = store.mapping_heads("alice", CAL)

        assert {
            host_id: (h.host_id, h.remote_id, h.kind, h.host_revision, h.remote_etag)
            for host_id, h in heads.items()
        } == {
            row.host_id: (row.host_id, row.remote_id, row.kind, row.host_revision, row.remote_etag)
            for row in rows
        }
        assert store.mapping_heads("carol", CAL) == {}

    def test_the_revisions_of_a_channels_rows_are_by_host_id_and_the_callers_to_change(
        self, store: StateStore
    ) -> None:
        rows = [
            make_mapping_row("h1", host_revision="rev-7"),
            make_mapping_row("h2", host_revision=None),
        ]
        elsewhere = [make_mapping_row("h3", channel=CON), make_mapping_row("h4", profile_id="bob")]
        store.put_mappings([*rows, *elsewhere])

        revisions = store.mapping_revisions("alice", CAL)
        revisions.clear()

        assert store.mapping_revisions("alice", CAL) == {"h1": "rev-7", "h2": None}
        assert store.mapping_revisions("carol", CAL) == {}

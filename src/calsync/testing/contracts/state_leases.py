"""The state store contract, part: leases, datetimes, threads and push channels. See
:mod:`calsync.testing.contracts.state`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest

from calsync.state.base import Lease, StateStore
from calsync.testing.contracts.state_support import (
    CAL,
    CON,
    T0,
    TTL,
    make_mapping_row,
    make_pending,
    make_push_channel,
    rolled_back,
    run_in_threads,
)

__all__ = ["LeaseContract"]


class LeaseContract:
    """Leases, datetimes, threads and push channels. Subclasses provide a ``store`` fixture."""

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
        results = run_in_threads(
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

        run_in_threads(threads, write)

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
                with rolled_back(store) if attempt % 2 else store.transaction():
                    store.put_mapping(make_mapping_row(f"t{index}-{attempt}"))
                    store.set_cursor("alice", f"t{index}-{attempt}", "set")

        run_in_threads(threads, write)

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

    def test_a_channel_being_stopped_says_so_with_when_its_stop_was_tried_in_utc(
        self, store: StateStore
    ) -> None:
        paris = timezone(timedelta(hours=2))
        tried = (T0 + TTL).astimezone(paris)
        store.put_push_channel(make_push_channel(stopping=True, stop_tried_at=tried))

        found = store.get_push_channel("ch-1")

        assert found == make_push_channel(stopping=True, stop_tried_at=T0 + TTL)
        assert found is not None
        assert found.stop_tried_at is not None
        assert found.stop_tried_at.utcoffset() == timedelta(0)
        assert store.push_channels("alice") == [found]
        assert make_push_channel().stopping is False  # a channel put open is not stopping

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

        with rolled_back(store):
            store.delete_push_channel("ch-1")
            store.put_push_channel(make_push_channel("ch-2"))

        assert [c.channel_id for c in store.push_channels()] == ["ch-1"]

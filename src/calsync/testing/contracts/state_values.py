"""The state store contract, part: cursors, the notice sent, a channel's named values and
sync state, and pending creates. See :mod:`calsync.testing.contracts.state`."""

from __future__ import annotations

from datetime import timedelta, timezone

import attrs
import pytest

from calsync.policies import Side
from calsync.state.base import RemoteGroup, SentNotice, StateStore
from calsync.testing.contracts.state_support import (
    CAL,
    CON,
    T0,
    make_mapping_row,
    make_pending,
    rolled_back,
)

__all__ = ["ValuesContract"]


class ValuesContract:
    """Cursors, the notice sent, named values, sync state and pending creates. Subclasses
    provide a ``store`` fixture."""

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

    def test_the_notice_sent_and_the_problem_settling_are_read_together(
        self, store: StateStore
    ) -> None:
        assert store.get_notices("alice") == (None, None)
        store.set_sent_notice("alice", SentNotice("digest-1", T0))
        store.set_settling("alice", '{"seen": "then"}')

        both = store.get_notices("alice")
        store.set_settling("alice", None)

        assert both == (SentNotice("digest-1", T0), '{"seen": "then"}')
        assert store.get_notices("alice") == (SentNotice("digest-1", T0), None)
        assert store.get_notices("bob") == (None, None)

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
        with rolled_back(store):
            store.set_sent_notice("alice", SentNotice("digest-1", T0))

        assert store.get_sent_notice("alice") is None

    # -- named values and sync state -------------------------------------------------

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

    def test_the_remote_items_host_items_were_made_from_are_read_back_by_host_id(
        self, store: StateStore
    ) -> None:
        store.set_origin("alice", CON, "c1", "people/c10")
        store.set_origin("alice", CON, "c2", "people/c20")
        store.set_origin("alice", CAL, "c1", "event-1")
        store.set_origin("bob", CON, "c3", "people/c30")
        store.set_origin("alice", CON, "c2", None)

        assert store.get_origins("alice", CON, ["c1", "c2", "c3"]) == {"c1": "people/c10"}
        assert store.get_origins("alice", CON, []) == {}

    def test_the_origins_of_several_host_items_are_recorded_and_forgotten_in_one_write(
        self, store: StateStore
    ) -> None:
        store.set_origin("alice", CON, "c9", "people/c90")
        store.set_origin("alice", CAL, "c1", "event-1")

        store.set_origins("alice", CON, {"c1": "people/c10", "c2": "people/c20", "c9": None})
        store.set_origins("alice", CON, {})

        assert store.get_origins("alice", CON, ["c1", "c2", "c9"]) == {
            "c1": "people/c10",
            "c2": "people/c20",
        }
        assert store.get_origins("alice", CAL, ["c1", "c2"]) == {"c1": "event-1"}
        assert store.get_origins("bob", CON, ["c1", "c2"]) == {}

    def test_origins_recorded_together_are_undone_together(self, store: StateStore) -> None:
        store.set_origin("alice", CON, "c9", "people/c90")

        with rolled_back(store):
            store.set_origins("alice", CON, {"c1": "people/c10", "c9": None})

        assert store.get_origins("alice", CON, ["c1", "c9"]) == {"c9": "people/c90"}

    def test_several_cursors_are_stored_and_removed_in_one_write(self, store: StateStore) -> None:
        store.set_cursor("alice", "gone", "soon")

        store.set_cursors("alice", {"host:calendar": "h-7", "remote:calendar": "t-3", "gone": None})
        store.set_cursors("alice", {"host:calendar": "h-8"})

        found = store.get_cursors("alice", ["host:calendar", "remote:calendar", "gone"])
        assert found == {"host:calendar": "h-8", "remote:calendar": "t-3"}
        assert store.get_cursors("bob", ["host:calendar"]) == {}

    def test_the_unlinked_host_items_are_replaced_as_a_whole_and_kept_per_channel(
        self, store: StateStore
    ) -> None:
        store.set_unlinked("alice", CON, {"c1": "f1", "c2": "f2"})
        store.set_unlinked("alice", CAL, {"a1": "f3"})
        store.set_unlinked("alice", CON, {"c2": "f2"})

        assert store.get_unlinked("alice", CON) == {"c2": "f2"}
        assert store.get_unlinked("alice", CAL) == {"a1": "f3"}
        assert store.get_unlinked("bob", CON) == {}
        store.set_unlinked("alice", CON, {})
        assert store.get_unlinked("alice", CON) == {}

    def test_forgetting_a_channel_forgets_its_unlinked_host_items(self, store: StateStore) -> None:
        store.set_unlinked("alice", CON, {"c1": "f1"})
        store.set_unlinked("alice", CAL, {"a1": "f3"})

        store.forget_channel("alice", CON)

        assert (store.get_unlinked("alice", CON), store.get_unlinked("alice", CAL)) == (
            {},
            {"a1": "f3"},
        )

    def test_several_cursors_are_read_at_once_and_missing_ones_left_out(
        self, store: StateStore
    ) -> None:
        store.set_cursor("alice", "host:calendar", "h-7")
        store.set_cursor("alice", "remote:calendar", "token-3")
        store.set_cursor("bob", "config:calendar", "bob's")

        found = store.get_cursors("alice", ["host:calendar", "remote:calendar", "config:calendar"])

        assert found == {"host:calendar": "h-7", "remote:calendar": "token-3"}
        assert store.get_cursors("alice", []) == {}

    def test_a_channels_sync_state_is_its_two_cursors_and_options_digest(
        self, store: StateStore
    ) -> None:
        store.set_sync_cursor("alice", CAL, Side.REMOTE, "token-3")
        store.set_config_digest("alice", CAL, "digest-1")
        store.set_sync_cursor("alice", CON, Side.HOST, "other channel")

        state = store.get_sync_state("alice", CAL)

        assert (state.host_cursor, state.remote_cursor, state.config_digest) == (
            None,
            "token-3",
            "digest-1",
        )

    def test_a_channels_sync_state_says_where_its_pairs_live(self, store: StateStore) -> None:
        store.set_paired_calendar("alice", "studio@group.calendar.google.com")
        store.set_remote_group("alice", RemoteGroup("Clients", "contactGroups/x"))

        calendar, contacts = store.get_sync_state("alice", CAL), store.get_sync_state("alice", CON)

        assert (calendar.paired_calendar, calendar.remote_group) == (
            "studio@group.calendar.google.com",
            None,
        )
        assert (contacts.paired_calendar, contacts.remote_group) == (
            None,
            RemoteGroup("Clients", "contactGroups/x"),
        )
        assert store.get_sync_state("bob", CON).remote_group is None

    # -- pending creates -------------------------------------------------------------------

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

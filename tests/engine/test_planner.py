"""Table tests for the pure planner: one situation, the plan it must produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from calsync.engine import (
    CreateHost,
    CreateRemote,
    DeleteHost,
    DeleteRemote,
    Forget,
    HostRecord,
    Link,
    PlanRules,
    RemoteRecord,
    Snapshot,
    Update,
    plan,
)
from calsync.engine.fields import encode_base
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker, RecordKind, Timed
from calsync.policies import (
    DeletionRules,
    FieldRules,
    Side,
    google_wins,
    host_wins,
    merge_fields,
    newest_wins,
)
from calsync.state.base import MappingRow

NS = "studio.alice"
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def when(hour: int = 9, day: int = 1) -> Timed:
    start = datetime(2026, 12, day, hour, tzinfo=UTC)
    return Timed(start, start + timedelta(hours=1), "Europe/London")


def fields(title: str = "Wedding - Ann", hour: int = 9, description: str = "") -> EventFields:
    return EventFields(title=title, description=description, when=when(hour))


def rules(**overrides: object) -> PlanRules:
    values: dict[str, object] = {
        "channel": Channel.CALENDAR,
        "fields_cls": EventFields,
        "namespace": NS,
        "inbound": True,
        "field_rules": FieldRules(),
        "conflict_policy": host_wins,
        "deletion_rules": DeletionRules(),
        "remote_id_for": lambda host_id: event_id_for(NS, host_id),
    }
    values.update(overrides)
    return PlanRules(**values)  # type: ignore[arg-type]


def row(
    host_id: str, base: EventFields, *, kind: RecordKind = RecordKind.SESSION, rev: str = "r1"
) -> MappingRow:
    return MappingRow(
        profile_id=NS,
        channel=Channel.CALENDAR,
        host_id=host_id,
        remote_id=f"ev{host_id}",
        kind=kind,
        base=encode_base(base),
        host_revision=rev,
        remote_etag='"1"',
        synced_at=T0,
    )


def host(
    host_id: str,
    view: EventFields,
    *,
    kind: RecordKind = RecordKind.SESSION,
    rev: str = "r1",
    **kw: object,
) -> HostRecord:
    return HostRecord(id=host_id, kind=kind, view=view, revision=rev, **kw)  # type: ignore[arg-type]


def remote(
    remote_id: str,
    view: EventFields | None,
    *,
    etag: str = '"1"',
    marker: Marker | None = None,
    **kw: object,
) -> RemoteRecord:
    return RemoteRecord(id=remote_id, etag=etag, view=view, marker=marker, **kw)  # type: ignore[arg-type]


def mine(host_id: str) -> Marker:
    return Marker(NS, host_id)


def test_a_new_host_item_is_created_remotely_under_its_deterministic_id() -> None:
    result = plan(Snapshot(host={"s1": host("s1", fields())}), {}, rules())

    assert result.actions == (
        CreateRemote(
            Channel.CALENDAR, "s1", RecordKind.SESSION, fields(), event_id_for(NS, "s1"), "r1"
        ),
    )


def test_the_deterministic_event_id_is_valid_base32hex_and_stable() -> None:
    first, second = event_id_for(NS, "s1"), event_id_for(NS, "s1")

    assert first == second
    assert set(first) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(first) <= 1024
    assert event_id_for("studio.bob", "s1") != first


def test_an_unchanged_pair_plans_nothing() -> None:
    base = fields()
    snapshot = Snapshot(
        host={"1": host("1", base)}, remote={"ev1": remote("ev1", base, marker=mine("1"))}
    )

    assert plan(snapshot, {"1": row("1", base)}, rules()).actions == ()


def test_an_item_missing_from_the_snapshot_is_never_deleted() -> None:
    base = fields()

    assert plan(Snapshot(host={}), {"1": row("1", base)}, rules()).actions == ()


def test_a_host_edit_updates_the_remote_event() -> None:
    base, edited = fields(), fields(title="Wedding - Ann Smith")
    snapshot = Snapshot(host={"1": host("1", edited, rev="r2")})

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert isinstance(action, Update)
    assert (action.to_remote, action.to_host, action.fields) == (True, frozenset(), edited)
    assert action.etag == '"1"'


def test_a_google_time_change_to_a_session_comes_back_to_the_host() -> None:
    base, moved = fields(), fields(hour=11)
    snapshot = Snapshot(remote={"ev1": remote("ev1", moved, etag='"2"', marker=mine("1"))}, host={})

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert isinstance(action, Update)
    assert (action.to_remote, action.to_host, action.fields) == (False, frozenset({"when"}), moved)


def test_a_google_title_edit_of_a_session_is_put_back_because_titles_are_out_only() -> None:
    base = fields()
    snapshot = Snapshot(
        host={},
        remote={"ev1": remote("ev1", fields(title="typo"), etag='"2"', marker=mine("1"))},
    )

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert isinstance(action, Update)
    assert (action.to_remote, action.to_host, action.fields) == (True, frozenset(), base)


def test_with_inbound_off_google_edits_are_overwritten_by_the_host() -> None:
    base = fields()
    snapshot = Snapshot(
        host={}, remote={"ev1": remote("ev1", fields(hour=12), etag='"2"', marker=mine("1"))}
    )

    (action,) = plan(snapshot, {"1": row("1", base)}, rules(inbound=False)).actions

    assert isinstance(action, Update)
    assert (action.to_remote, action.to_host, action.fields) == (True, frozenset(), base)


def test_both_sides_changing_a_field_is_a_conflict_the_host_wins_by_default() -> None:
    base = fields(hour=9)
    snapshot = Snapshot(
        host={"1": host("1", fields(hour=10), rev="r2")},
        remote={"ev1": remote("ev1", fields(hour=11), etag='"2"', marker=mine("1"))},
    )

    result = plan(snapshot, {"1": row("1", base)}, rules())

    (action,) = result.actions
    assert isinstance(action, Update)
    assert action.fields == fields(hour=10)
    assert action.to_remote
    (conflict,) = result.conflicts
    assert (conflict.conflict.field, conflict.winner) == ("when", Side.HOST)


def test_google_wins_policy_takes_googles_value_and_writes_it_to_the_host() -> None:
    base = fields(hour=9)
    snapshot = Snapshot(
        host={"1": host("1", fields(hour=10), rev="r2")},
        remote={"ev1": remote("ev1", fields(hour=11), etag='"2"', marker=mine("1"))},
    )

    (action,) = plan(snapshot, {"1": row("1", base)}, rules(conflict_policy=google_wins)).actions

    assert isinstance(action, Update)
    assert (action.to_remote, action.to_host, action.fields) == (
        False,
        frozenset({"when"}),
        fields(hour=11),
    )


@pytest.mark.parametrize(
    ("host_time", "remote_time", "winner"),
    [
        (T0 + timedelta(hours=2), T0 + timedelta(hours=1), Side.HOST),
        (T0, T0 + timedelta(hours=1), Side.REMOTE),
    ],
)
def test_newest_wins_picks_the_side_changed_last(
    host_time: datetime, remote_time: datetime, winner: Side
) -> None:
    base = fields(title="a")
    snapshot = Snapshot(
        host={
            "1": host("1", fields(title="b"), kind=RecordKind.UNLINKED, rev="r2", updated=host_time)
        },
        remote={"ev1": remote("ev1", fields(title="c"), etag='"2"', updated=remote_time)},
    )

    result = plan(
        snapshot,
        {"1": row("1", base, kind=RecordKind.UNLINKED)},
        rules(conflict_policy=newest_wins | host_wins),
    )

    assert [c.winner for c in result.conflicts] == [winner]


def test_merge_fields_decides_per_field_with_a_fallback() -> None:
    base = fields(title="a", hour=9)
    snapshot = Snapshot(
        host={"1": host("1", fields(title="b", hour=10), kind=RecordKind.UNLINKED, rev="r2")},
        remote={"ev1": remote("ev1", fields(title="c", hour=11), etag='"2"')},
    )
    policy = merge_fields(when=google_wins, fallback=host_wins)

    (action,) = plan(
        snapshot, {"1": row("1", base, kind=RecordKind.UNLINKED)}, rules(conflict_policy=policy)
    ).actions

    assert isinstance(action, Update)
    assert action.fields == fields(title="b", hour=11)
    assert action.to_host == frozenset({"when"})
    assert action.to_remote


def test_a_plain_callable_is_accepted_as_a_policy() -> None:
    base = fields(title="a")
    snapshot = Snapshot(
        host={"1": host("1", fields(title="b"), kind=RecordKind.UNLINKED, rev="r2")},
        remote={"ev1": remote("ev1", fields(title="c"), etag='"2"')},
    )

    result = plan(
        snapshot,
        {"1": row("1", base, kind=RecordKind.UNLINKED)},
        rules(conflict_policy=lambda c: Side.REMOTE),
    )

    assert [c.winner for c in result.conflicts] == [Side.REMOTE]


def test_both_sides_making_the_same_edit_converge_without_writes() -> None:
    base, same = fields(hour=9), fields(hour=10)
    snapshot = Snapshot(
        host={"1": host("1", same, rev="r2")},
        remote={"ev1": remote("ev1", same, etag='"2"', marker=mine("1"))},
    )

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert action == Link(Channel.CALENDAR, "1", "ev1", RecordKind.SESSION, same, '"2"', "r2")


def test_an_etag_bump_without_a_content_change_writes_nothing() -> None:
    base = fields()
    snapshot = Snapshot(host={}, remote={"ev1": remote("ev1", base, etag='"9"', marker=mine("1"))})

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert isinstance(action, Link)


def test_a_confirmed_host_deletion_deletes_the_remote_event() -> None:
    base = fields()
    snapshot = Snapshot(host={}, host_deleted=frozenset({"1"}))

    assert plan(snapshot, {"1": row("1", base)}, rules()).actions == (
        DeleteRemote(Channel.CALENDAR, "1", "ev1", RecordKind.SESSION, '"1"'),
    )


def test_a_session_deleted_in_google_is_restored_under_its_id_and_the_user_warned() -> None:
    base = fields()
    gone = "googlemade0042"
    snapshot = Snapshot(host={}, remote={gone: remote(gone, None, deleted=True)})
    mapping = {"1": attrs.evolve(row("1", base), remote_id=gone)}

    result = plan(snapshot, mapping, rules())

    assert result.actions == (
        CreateRemote(Channel.CALENDAR, "1", RecordKind.SESSION, base, gone, "r1", restore=True),
    )
    # the user is told once the restore is made (a restore that fails is an error instead)
    (news,) = (action.news for action in result.actions if isinstance(action, CreateRemote))
    assert news is not None
    assert "deleted in Google" in news.told()


def test_a_restore_names_the_pairs_id_whatever_it_looks_like() -> None:
    """The planner never reads an id (Google's instance ids are opaque): the backend restores
    the event as what Google says it is, or under calsync's own id when it cannot be."""
    base = fields()
    snapshot = Snapshot(host={}, remote={"ev1": remote("ev1", None, deleted=True)})

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert isinstance(action, CreateRemote)
    assert (action.remote_id, action.restore) == ("ev1", True)


def test_an_unlinked_appointment_deleted_in_google_is_deleted_in_the_host() -> None:
    base = fields(title="Dentist")
    snapshot = Snapshot(host={}, remote={"ev1": remote("ev1", None, deleted=True)})

    assert plan(snapshot, {"1": row("1", base, kind=RecordKind.UNLINKED)}, rules()).actions == (
        DeleteHost(Channel.CALENDAR, "1", "ev1", RecordKind.UNLINKED),
    )


def test_deleted_on_both_sides_is_forgotten() -> None:
    snapshot = Snapshot(
        host={}, host_deleted=frozenset({"1"}), remote={"ev1": remote("ev1", None, deleted=True)}
    )

    assert plan(snapshot, {"1": row("1", fields())}, rules()).actions == (
        Forget(Channel.CALENDAR, "1", "deleted on both sides"),
    )


def test_a_google_made_event_comes_back_as_an_unlinked_appointment_when_inbound_is_on() -> None:
    event = remote("g1", fields(title="Lunch"))

    assert plan(Snapshot(host={}, remote={"g1": event}), {}, rules()).actions == (
        CreateHost(Channel.CALENDAR, "g1", fields(title="Lunch"), '"1"'),
    )
    assert plan(Snapshot(host={}, remote={"g1": event}), {}, rules(inbound=False)).actions == ()


def test_another_profiles_event_is_left_alone() -> None:
    event = remote("x1", fields(), marker=Marker("studio.bob", "s9"))

    assert plan(Snapshot(host={}, remote={"x1": event}), {}, rules()).actions == ()


def test_an_event_of_ours_found_after_a_re_setup_is_adopted_not_duplicated() -> None:
    view = fields()
    snapshot = Snapshot(
        host={"s1": host("s1", view)}, remote={"e": remote("e", view, marker=mine("s1"))}
    )

    assert plan(snapshot, {}, rules()).actions == (
        Link(Channel.CALENDAR, "s1", "e", RecordKind.SESSION, view, '"1"', "r1", adopted=True),
    )


def test_an_orphan_event_calsync_provably_made_whose_host_item_is_gone_is_deleted() -> None:
    snapshot = Snapshot(
        host={},
        host_deleted=frozenset({"s1"}),
        remote={"e": remote("e", fields(), marker=mine("s1"), provably_ours=True)},
    )

    (action,) = plan(snapshot, {}, rules()).actions

    assert action == DeleteRemote(
        Channel.CALENDAR, "s1", "e", RecordKind.SESSION, '"1"', orphan=True
    )


def test_a_foreign_event_carrying_our_marker_for_a_gone_item_is_left_with_a_warning() -> None:
    snapshot = Snapshot(
        host={},
        host_deleted=frozenset({"s1"}),
        remote={"copy": remote("copy", fields(), marker=mine("s1"), provably_ours=False)},
    )

    result = plan(snapshot, {}, rules(inbound=False))

    assert result.actions == ()
    assert ["copy" in w and "did not create it" in w for w in result.warnings] == [True]


def test_with_inbound_sync_a_foreign_event_carrying_our_marker_for_a_gone_item_comes_in() -> None:
    """Not calsync's (a copy the Google user made): their own event, as any Google-made one;
    one holding what a journaled create of the gone item wrote is left, and named."""
    copy = remote("copy", fields(), marker=mine("s1"), provably_ours=False)
    snapshot = Snapshot(host={}, host_deleted=frozenset({"s1"}), remote={"copy": copy})

    result = plan(snapshot, {}, rules())

    assert result.actions == (CreateHost(Channel.CALENDAR, "copy", fields(), copy.etag),)
    assert result.warnings == ()
    journaled = attrs.evolve(snapshot, intents={"s1": fields()})
    assert plan(journaled, {}, rules()).actions == ()


def test_an_item_adopted_after_a_crash_keeps_a_google_edit_made_since() -> None:
    sent = fields(title="Wedding - Ann", hour=9)
    edited_in_google = fields(title="Wedding - Ann", hour=11)
    snapshot = Snapshot(
        host={"s1": host("s1", sent)},
        remote={"e": remote("e", edited_in_google, marker=mine("s1"), provably_ours=True)},
        intents={"s1": sent},
    )

    (action,) = plan(snapshot, {}, rules()).actions

    assert isinstance(action, Update)
    assert (action.fields.when, action.to_host, action.to_remote) == (
        edited_in_google.when,
        frozenset({"when"}),
        False,
    )


def test_an_etag_bump_with_the_recorded_base_is_recorded_without_a_merge() -> None:
    base = fields()
    snapshot = Snapshot(host={}, remote={"ev1": remote("ev1", base, etag='"2"')})

    (action,) = plan(snapshot, {"1": row("1", base)}, rules()).actions

    assert action == Link(Channel.CALENDAR, "1", "ev1", RecordKind.SESSION, base, '"2"', "r1")


def test_a_host_without_revisions_and_unchanged_content_plans_nothing() -> None:
    base = fields()
    snapshot = Snapshot(host={"1": host("1", base, rev=None)})  # type: ignore[arg-type]

    assert (
        plan(snapshot, {"1": attrs.evolve(row("1", base), host_revision=None)}, rules()).actions
        == ()
    )


def test_converting_an_unlinked_appointment_updates_the_same_event_in_place() -> None:
    base = fields(title="Call Ann")
    session = fields(title="Portrait - Ann")
    snapshot = Snapshot(host={"s7": host("s7", session, rev="r5", replaces="u1")})

    (action,) = plan(snapshot, {"u1": row("u1", base, kind=RecordKind.UNLINKED)}, rules()).actions

    assert isinstance(action, Update)
    assert (action.host_id, action.remote_id, action.replaces) == ("s7", "evu1", "u1")
    assert action.to_remote
    assert action.fields == session


def test_a_mass_deletion_is_held_until_confirmed() -> None:
    mapping = {str(i): row(str(i), fields(hour=i % 20)) for i in range(10)}
    snapshot = Snapshot(host={}, host_deleted=frozenset(str(i) for i in range(8)))

    held = plan(snapshot, mapping, rules())
    confirmed = plan(snapshot, mapping, rules(), confirm_deletions=True)

    assert (len(held.actions), len(held.held)) == (0, 8)
    assert any("held" in w for w in held.warnings)
    assert (len(confirmed.actions), len(confirmed.held)) == (8, 0)


def test_deleting_everything_is_held_even_when_small() -> None:
    mapping = {str(i): row(str(i), fields()) for i in range(3)}
    snapshot = Snapshot(host={}, host_deleted=frozenset(mapping))

    assert len(plan(snapshot, mapping, rules()).held) == 3


def test_a_few_deletions_are_not_held() -> None:
    mapping = {str(i): row(str(i), fields()) for i in range(100)}
    snapshot = Snapshot(host={}, host_deleted=frozenset({"1", "2"}))

    assert len(plan(snapshot, mapping, rules()).actions) == 2


def test_an_item_that_left_the_window_is_forgotten_not_deleted() -> None:
    snapshot = Snapshot(host={}, forgotten={"1": "it left the sync window"})

    assert plan(snapshot, {"1": row("1", fields())}, rules()).actions == (
        Forget(Channel.CALENDAR, "1", "it left the sync window"),
    )


def test_planning_is_pure_the_same_input_gives_the_same_plan() -> None:
    snapshot = Snapshot(
        host={"1": host("1", fields(hour=10), rev="r2"), "2": host("2", fields())},
        remote={"g": remote("g", fields(title="x"))},
    )
    mapping = {"1": row("1", fields())}

    assert plan(snapshot, mapping, rules()) == plan(snapshot, mapping, rules())


# -- times in a repeated hour: compared as instants, never as wall times ----------------------
#
# Europe/London repeats 01:00-02:00 on 2026-10-25: 01:45 BST (fold 0) is 00:45 UTC, and
# 01:30 GMT (fold 1), three quarters of an hour later, reads as the earlier wall time. Two
# aware datetimes sharing one tzinfo compare by wall time in Python, fold ignored.
LONDON = ZoneInfo("Europe/London")
SYNCED = datetime(2026, 10, 25, 1, 45, tzinfo=LONDON)  # BST: 00:45 UTC
EDITED = datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON)  # GMT: 01:30 UTC, later


def test_an_edit_after_the_last_sync_in_a_repeated_hour_is_sent_when_the_host_went_back() -> None:
    base, edited = fields(), fields(title="Wedding - Ann and Bob")
    assert SYNCED.astimezone(UTC) < EDITED  # (the edit is the later instant)
    snapshot = Snapshot(
        host={"1": host("1", edited, rev="r2", updated=EDITED)},
        remote={"ev1": remote("ev1", base, marker=mine("1"))},
        host_rewound=True,
    )
    mapping = {"1": attrs.evolve(row("1", base), synced_at=SYNCED)}

    result = plan(snapshot, mapping, rules())

    (update,) = result.actions
    assert isinstance(update, Update)
    assert update.to_remote
    assert update.fields == edited
    assert not result.warnings  # (not taken for an edit the backup predates)


def test_a_google_deletion_older_than_the_studios_copy_in_a_repeated_hour_deletes_nothing() -> None:
    dentist = fields(title="Dentist")
    lost = HostRecord("u1", RecordKind.UNLINKED, dentist, "r1", updated=EDITED, origin="ev-dentist")
    tombstone = remote("ev-dentist", None, etag='"9"', deleted=True, updated=SYNCED)
    snapshot = Snapshot(host={"u1": lost}, remote={"ev-dentist": tombstone}, host_rewound=True)

    actions = plan(snapshot, {}, rules(deletion_rules=DeletionRules())).actions

    assert not [action for action in actions if isinstance(action, DeleteHost)]

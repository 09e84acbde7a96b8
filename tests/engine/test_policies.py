"""Conflict policies, field directions and deletion rules as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calsync import (
    DeletionRules,
    Direction,
    FieldConflict,
    FieldRules,
    RemoteDeletion,
    Side,
    abstain,
    google_wins,
    host_wins,
    merge_fields,
    newest_wins,
)
from calsync.model import RecordKind
from calsync.policies import _Chain, resolve

EARLY = datetime(2027, 1, 1, 9, tzinfo=UTC)
LATE = datetime(2027, 1, 1, 10, tzinfo=UTC)


def conflict(
    field: str = "when", host: datetime | None = None, remote: datetime | None = None
) -> FieldConflict:
    return FieldConflict("s1", field, "base", "h", "r", host_updated=host, remote_updated=remote)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(host_wins, Side.HOST), (google_wins, Side.REMOTE), (abstain, None)],
)
def test_fixed_policies_always_answer_the_same(policy: object, expected: Side | None) -> None:
    assert [policy(conflict()), policy(conflict("title", EARLY, LATE))] == [expected] * 2  # type: ignore[operator]


@pytest.mark.parametrize(
    ("host", "remote", "expected"),
    [
        (LATE, EARLY, Side.HOST),
        (EARLY, LATE, Side.REMOTE),
        (EARLY, EARLY, None),
        (None, LATE, None),
    ],
)
def test_newest_wins_picks_the_side_changed_last_and_abstains_when_it_cannot_tell(
    host: datetime | None, remote: datetime | None, expected: Side | None
) -> None:
    assert newest_wins(conflict(host=host, remote=remote)) is expected


def test_a_chain_asks_each_policy_in_turn_until_one_answers() -> None:
    chain = abstain | newest_wins | google_wins

    assert chain(conflict(host=LATE, remote=EARLY)) is Side.HOST
    assert chain(conflict()) is Side.REMOTE


def test_chains_flatten_like_tenacitys_combined_policies() -> None:
    chain = (abstain | newest_wins) | (host_wins | google_wins)

    assert isinstance(chain, _Chain)
    assert chain.policies == (abstain, newest_wins, host_wins, google_wins)
    assert repr(chain) == "abstain | newest_wins | host_wins | google_wins"


def test_a_plain_callable_joins_a_chain_on_either_side() -> None:
    def titles_to_google(c: FieldConflict) -> Side | None:
        return Side.REMOTE if c.field == "title" else None

    left = titles_to_google | host_wins
    right = abstain | titles_to_google

    assert (left(conflict("title")), left(conflict("when"))) == (Side.REMOTE, Side.HOST)
    assert (right(conflict("title")), right(conflict("when"))) == (Side.REMOTE, None)


def test_merge_fields_decides_per_field_with_a_fallback() -> None:
    policy = merge_fields(when=google_wins, fallback=host_wins)

    assert (policy(conflict("when")), policy(conflict("title"))) == (Side.REMOTE, Side.HOST)
    assert merge_fields(title=google_wins)(conflict("when")) is None


def test_when_every_policy_abstains_the_host_wins() -> None:
    assert resolve(abstain, conflict()) is Side.HOST


@pytest.mark.parametrize(
    ("kind", "field", "expected"),
    [
        (RecordKind.SESSION, "title", Direction.OUT),
        (RecordKind.SESSION, "when", Direction.BOTH),
        (RecordKind.APPOINTMENT, "description", Direction.OUT),
        (RecordKind.UNLINKED, "title", Direction.BOTH),
        (RecordKind.CONTACT, "notes", Direction.BOTH),
    ],
)
def test_field_directions_follow_the_item_kind(
    kind: RecordKind, field: str, expected: Direction
) -> None:
    assert FieldRules().direction(kind, field, inbound=True) is expected


def test_with_inbound_off_every_field_is_out_only() -> None:
    rules = FieldRules()

    assert {rules.direction(k, "when", inbound=False) for k in RecordKind} == {Direction.OUT}


def test_deletion_rules_are_chosen_by_kind() -> None:
    rules = DeletionRules(appointment=RemoteDeletion.UNLINK)

    assert [rules.for_kind(k) for k in RecordKind] == [
        RemoteDeletion.RESTORE,
        RemoteDeletion.UNLINK,
        RemoteDeletion.DELETE_HOST,
        RemoteDeletion.RESTORE,
    ]


@pytest.mark.parametrize(
    ("deletions", "mapped", "held"),
    [(0, 10, False), (1, 1, False), (2, 2, True), (5, 10, False), (6, 10, True), (6, 100, False)],
)
def test_a_mass_deletion_is_held_beyond_the_fraction_and_the_count(
    deletions: int, mapped: int, held: bool
) -> None:
    assert DeletionRules().holds(deletions, mapped) is held

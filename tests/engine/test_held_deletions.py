"""Holding mass deletions back is linear in actions + held: no equality lookups in a list."""

from __future__ import annotations

from typing import Any

import pytest

from calsync.engine import DeleteHost, DeleteRemote, Forget
from calsync.engine.plans import hold_mass_deletions
from calsync.model import Channel, RecordKind
from calsync.policies import DeletionRules


@pytest.fixture
def equality_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every ``==`` between the actions the planner holds or keeps."""
    count = [0]
    for kind in (DeleteRemote, DeleteHost, Forget):
        original = kind.__eq__

        def counted(self: Any, other: Any, _original: Any = original) -> Any:
            count[0] += 1
            return _original(self, other)

        monkeypatch.setattr(kind, "__eq__", counted)
    return count


def deletions(n: int) -> list[Any]:
    return [
        DeleteRemote(Channel.CALENDAR, f"h{i}", f"ev{i}", RecordKind.SESSION, None)
        for i in range(n)
    ]


def test_holding_deletions_compares_no_actions_for_equality(equality_checks: list[int]) -> None:
    held_back = deletions(400)
    others: list[Any] = [Forget(Channel.CALENDAR, f"f{i}", "left the window") for i in range(400)]
    actions = [a for pair in zip(others, held_back, strict=True) for a in pair]

    kept, held = hold_mass_deletions(actions, 1000, DeletionRules(), confirmed=False)
    compared = equality_checks[0]

    assert (kept, held) == (others, held_back)
    assert compared <= len(actions)  # a list lookup per action made about 400,000

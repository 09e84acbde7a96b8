"""What the in-memory host fakes share: the clock, revisions, new ids and the optional change
feed (see :mod:`calsync.testing.host`)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Container, Iterable, Sequence
from typing import Generic, TypeVar

import attrs

from calsync.model import Contact, ScheduleItem
from calsync.testing._faults import ChangeLog, Clock, FaultHooks, utc_now

__all__ = ["K", "MemoryHost", "V", "check_names"]

logger = logging.getLogger(__name__)


K = TypeVar("K", str, tuple[str, str])
V = TypeVar("V", ScheduleItem, Contact)


def check_names(changed: Iterable[str], allowed: Sequence[str]) -> None:
    unknown = set(changed) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}; expected some of {list(allowed)}")


class MemoryHost(FaultHooks, Generic[K]):
    """What both host fakes share: the clock, revisions, new ids and the optional feed."""

    def __init__(self, *, now: Clock | None, change_feed: bool) -> None:
        super().__init__()
        self._now = now or utc_now
        self.change_feed = change_feed
        self._log: ChangeLog[K] = ChangeLog()
        self._revisions = itertools.count(1)
        self._numbers = itertools.count(1)
        #: ids of deleted items: never given to a new one (as a database sequence never
        #: reuses a key), since calsync may still hold a pair for the deleted item
        self._retired: set[str] = set()

    def expire_cursors(self) -> None:
        """Make every change-feed cursor handed out so far unknown (``LookupError``)."""
        with self._lock:
            self._log.expire()

    def _stamp(self, value: V) -> V:
        return attrs.evolve(value, revision=str(next(self._revisions)), updated=self._now())

    def _new_id(self, prefix: str, taken: Container[str]) -> str:
        while True:
            candidate = f"{prefix}{next(self._numbers)}"
            if candidate not in taken and candidate not in self._retired:
                return candidate

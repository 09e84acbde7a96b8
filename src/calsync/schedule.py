"""When the sync processor runs each profile: a jittered interval from its last run.

Each profile's first run is spread over ``jitter * interval`` from when it is first seen; each
later run is due one interval (the normal one, or the push safety-net one, as the processor
says) times the profile's spread, drawn again in ``[1 - jitter, 1 + jitter]`` after every run,
so users are not all synced at the same second.
"""

from __future__ import annotations

import logging
import random

__all__ = ["MAX_IDLE", "Schedule"]

logger = logging.getLogger(__name__)

#: The longest :meth:`SyncProcessor.serve` sleeps before looking at the profiles again.
MAX_IDLE = 10.0


class Schedule:
    """Each profile's last run and its jitter, from which its next due time follows."""

    def __init__(self, interval: float, jitter: float) -> None:
        self.interval = interval
        self.jitter = jitter
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.spread: dict[str, float] = {}

    def due(self, profile_id: str, now: float, interval: float) -> float:
        """When the profile is next due with ``interval`` between runs."""
        last = self.last.get(profile_id)
        if last is None:
            return self.first.setdefault(
                profile_id, now + random.uniform(0, self.interval * self.jitter)
            )
        return last + interval * self.spread[profile_id]

    def ran(self, profile_id: str, now: float) -> None:
        """The profile ran (ended) at ``now``: its spread is drawn again."""
        self.last[profile_id] = now
        self.spread[profile_id] = random.uniform(1 - self.jitter, 1 + self.jitter)

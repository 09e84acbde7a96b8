"""The host side in memory: schedules and client groups that behave as a studio host's do.

:class:`MemoryScheduleSource` and :class:`MemoryContactSource` implement the host adapter
contracts. Every change, whether calsync makes it through the contract or the "host user" makes
it through a hook (``add``, ``edit``, ``remove``, ``convert``, …), gives the item a new
``revision`` and an ``updated`` time from the injectable clock. A change feed is optional
(``change_feed=True``). ``fail_next``, ``crash_after_next`` and ``calls`` are as on the
in-memory backends (:class:`~calsync.testing._faults.FaultHooks`). Both can also hold corrupt
rows (``add_corrupt``): they are answered as :class:`~calsync.sources.Unreadable`, as the host
contract asks (a schedule's until ``repair`` makes them items again).
"""

from __future__ import annotations

from calsync.testing.host_contacts import MemoryContactSource
from calsync.testing.host_schedule import MemoryScheduleSource

__all__ = ["MemoryContactSource", "MemoryScheduleSource"]

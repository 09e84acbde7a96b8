"""The remote side in memory, as one import: :class:`MemoryCalendarBackend` (in
:mod:`calsync.testing.memory_calendar`) and :class:`MemoryContactsBackend` (in
:mod:`calsync.testing.memory_contacts`), with the fault machinery they share (in
:mod:`calsync.testing._faults`). Kept so that existing imports from here go on working.
"""

from __future__ import annotations

from calsync.testing._faults import ChangeLog, Clock, FaultHooks, SimulatedCrash, utc_now
from calsync.testing.memory_calendar import MemoryCalendarBackend
from calsync.testing.memory_contacts import MemoryContactsBackend

__all__ = [
    "ChangeLog",
    "Clock",
    "FaultHooks",
    "MemoryCalendarBackend",
    "MemoryContactsBackend",
    "SimulatedCrash",
    "utc_now",
]

"""Test support that calsync ships for hosts: in-memory sources and backends, contract suites,
and a Google emulator that the real google-api-python-client talks to over HTTP.

* :class:`MemoryScheduleSource`, :class:`MemoryContactSource`, :class:`MemoryProfileStore` —
  the host side in memory.
* :class:`MemoryCalendarBackend`, :class:`MemoryContactsBackend` — the remote side in memory,
  with Google's preconditions (stable ids, etags, 409 on a duplicate create).
* :class:`GoogleEmulator` — Calendar v3, People v1 and OAuth over HTTP on 127.0.0.1.
* :mod:`calsync.testing.contracts` — pytest suites every adapter, backend and store passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from calsync.testing._faults import SimulatedCrash
from calsync.testing.host import MemoryContactSource, MemoryScheduleSource
from calsync.testing.memory_calendar import MemoryCalendarBackend
from calsync.testing.memory_contacts import MemoryContactsBackend
from calsync.testing.profiles import MemoryProfileStore

if TYPE_CHECKING:
    from calsync.testing.emulator import GoogleEmulator

__all__ = [
    "GoogleEmulator",
    "MemoryCalendarBackend",
    "MemoryContactSource",
    "MemoryContactsBackend",
    "MemoryProfileStore",
    "MemoryScheduleSource",
    "SimulatedCrash",
]


def __getattr__(name: str) -> object:
    # the emulator (an HTTP server and the Google client's parts) is imported when first
    # asked for: about 5 MB and 70 modules a test of the in-memory fakes does not need
    if name == "GoogleEmulator":
        from calsync.testing.emulator import GoogleEmulator  # noqa: PLC0415

        return GoogleEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

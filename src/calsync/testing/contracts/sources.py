"""Contract suites for the host adapters: :class:`ScheduleSourceContract` and
:class:`ContactSourceContract`.

A host tests its own adapter by subclassing a suite and overriding one fixture that returns a
*harness*: the adapter, a small driver that does what staff do in the host (add, remove,
convert), and the user ids (and group names) to test with::

    class TestStudioSchedule(ScheduleSourceContract):
        @pytest.fixture
        def schedule_harness(self, studio_db):
            adapter = StudioScheduleSource(studio_db)
            return ScheduleHarness(adapter, StudioDriver(studio_db), "user-7", "user-8")

The driver may store items under ids of its own choosing: the suites always use the items the
driver returns. Items are dated in 2031; every test gets a fresh harness. Change-feed tests are
skipped when the adapter offers no feed (``change_cursor`` returns ``None``).

Unreadable rows: to prove that a corrupt row comes back as
:class:`~calsync.sources.Unreadable` (and never breaks or thins the listing), the schedule
driver also implements :class:`CorruptRowDriver`: it stores an item with one :class:`Defect`
in its row, the way a bug or a hand edit of the host's database would. A host whose storage
cannot hold such a row at all says why in ``ScheduleHarness(no_corrupt_rows="...")``, and those
tests are skipped with that reason.

The suites live in :mod:`~calsync.testing.contracts.schedule_source` and
:mod:`~calsync.testing.contracts.contact_source`, what a host provides in
:mod:`~calsync.testing.contracts.harness`; this module gathers them.
"""

from __future__ import annotations

from calsync.testing.contracts.contact_source import ContactSourceContract
from calsync.testing.contracts.harness import (
    ContactHarness,
    ContactHostDriver,
    CorruptClientDriver,
    CorruptRowDriver,
    Defect,
    ScheduleHarness,
    ScheduleHostDriver,
)
from calsync.testing.contracts.schedule_source import ScheduleSourceContract

__all__ = [
    "ContactHarness",
    "ContactHostDriver",
    "ContactSourceContract",
    "CorruptClientDriver",
    "CorruptRowDriver",
    "Defect",
    "ScheduleHarness",
    "ScheduleHostDriver",
    "ScheduleSourceContract",
]

"""A runner's hold on a profile as the processor's checkpoint sees it, for tests that lose it
at a chosen moment: ``lost = True``, and the next ``check`` raises ``LeaseLost``."""

from __future__ import annotations

from calsync import LeaseLost


class Lease:
    """The runner's hold on the profile, as the processor's checkpoint sees it."""

    def __init__(self) -> None:
        self.lost = False

    def check(self) -> None:
        if self.lost:
            raise LeaseLost("this runner lost the profile's lease")

"""A step tried again until it works (:class:`Outage`): logged when it starts failing and
when it works again, not at every try, with a doubling wait between tries."""

from __future__ import annotations

import logging

__all__ = ["Outage", "backoff"]

logger = logging.getLogger(__name__)


def backoff(failures: int, first: float, most: float) -> float:
    """Seconds to wait after ``failures`` failed tries in a row: ``first``, doubling after
    each, never more than ``most``."""
    return min(most, first * 2.0 ** min(max(failures, 1) - 1, 32))


class Outage:
    """A step that fails until it works again (a store, a broker, a host unreachable).

    Args:
        what: the step, in words ("serving (reading the profiles …)").
        first: seconds to wait after the first failure (doubled after each one in a row).
        most: the longest wait.
        log: the logger that tells (the caller's module's; default: this module's).
    """

    def __init__(
        self,
        what: str,
        *,
        first: float = 1.0,
        most: float = 60.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.what = what
        self.log = log or logger
        self.first = first
        self.most = most
        self.failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failure; returns the seconds to wait before the next try."""
        self.failures += 1
        if self.failures == 1:
            self.log.error("%s failed, trying again until it works: %s", self.what, exc,
                         exc_info=exc)  # fmt: skip
        else:
            self.log.debug("%s failed again (%d in a row): %s", self.what, self.failures, exc)
        return backoff(self.failures, self.first, self.most)

    def over(self) -> None:
        """Note a success (logged when it ends an outage)."""
        if self.failures:
            self.log.info("%s works again, after %d failed tries", self.what, self.failures)
            self.failures = 0

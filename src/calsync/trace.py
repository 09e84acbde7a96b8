"""Capturing the full trace of one profile's run, for the verbose troubleshooting email.

calsync logs through ``logging.getLogger(__name__)`` in every module. While a run is traced,
a handler on the ``calsync`` logger keeps every record (DEBUG and up) that the run's thread
emits — other threads' runs are not mixed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RunTrace", "trace_run"]


class RunTrace(logging.Handler):
    """Keeps the records of one thread, formatted."""

    def __init__(self, thread_id: int) -> None:
        super().__init__(logging.DEBUG)
        self.thread_id = thread_id
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id:
            self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        """The trace so far."""
        return "\n".join(self.lines)


@contextmanager
def trace_run(enabled: bool = True) -> Iterator[RunTrace | None]:
    """Trace the current thread's calsync records while the block runs (when ``enabled``)."""
    if not enabled:
        yield None
        return
    logger = logging.getLogger("calsync")
    handler = RunTrace(threading.get_ident())
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)

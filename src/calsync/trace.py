"""Capturing the full trace of one profile's run, for the verbose troubleshooting email.

calsync logs through ``logging.getLogger(__name__)`` in every module, and the host owns the
logging configuration: the level of the ``calsync`` logger and every handler. Tracing one run
must not change what anybody else's logging sees, even while other users sync in other threads.

The design, and why:

* **The run is a context, not a thread.** :func:`trace_run` sets a :mod:`contextvars` variable
  to the run's :class:`RunTrace` for the block; a record belongs to the run whose trace is set
  in the context that logs it. Two runs in two threads (or two overlapping traces) never mix.
* **A record must exist before anything can capture it.** ``Logger.debug`` creates no record
  at all when the logger's effective level is above DEBUG, so a handler or filter alone can
  never see the run's DEBUG records. Lowering the shared ``calsync`` logger would make every
  other user's DEBUG records reach the host's handlers (the defect this module fixes).
* **So each calsync module logger gets a tap while a trace is active.** While at least one
  trace is active, every ``calsync.*`` module logger whose level the host left unset gets the
  level DEBUG *and* a :class:`_Tap` filter. The tap hands every record of a traced context to
  that context's trace, and lets a record go on to the handlers only when it reaches the level
  the host configured (the parent's effective level, read at each record). A record below it
  from an untraced context is dropped before any handler; one from a traced context goes to
  its trace only. Handlers therefore see exactly what they would see without tracing.
* **Levels are restored by reference counting.** The first trace installs the taps, the last
  one to end removes them and gives each lowered logger its unset level back. The ``calsync``
  logger itself (and any logger whose level the host set) is never touched.

Limits: a module logger first created during a trace is tapped by the next trace, not this
one; records from threads a run starts itself carry no context and are not traced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["RunTrace", "trace_run"]

logger = logging.getLogger(__name__)

_ROOT = "calsync"
_current: ContextVar[RunTrace | None] = ContextVar("calsync_run_trace", default=None)


class RunTrace(logging.Handler):
    """The formatted records of one traced run."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        """The trace so far."""
        return "\n".join(self.lines)


class _Tap(logging.Filter):
    """On one module logger: gives the current context's trace its records, and passes on to
    the handlers only what the host's configured level lets through."""

    def __init__(self, owner: logging.Logger, lowered: bool) -> None:
        super().__init__()
        self.owner = owner
        self.lowered = lowered

    def filter(self, record: logging.LogRecord) -> bool:
        trace = _current.get()
        if trace is not None:
            trace.handle(record)
        return not self.lowered or record.levelno >= _host_level(self.owner)


class _Taps:
    """The taps installed while at least one trace is active (reference counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._taps: list[_Tap] = []

    def acquire(self) -> None:
        with self._lock:
            self._active += 1
            tapped = {tap.owner.name for tap in self._taps}
            for module_logger in _module_loggers():
                if module_logger.name not in tapped:
                    self._taps.append(_install(module_logger))

    def release(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active:
                return
            for tap in self._taps:
                tap.owner.removeFilter(tap)
                if tap.lowered and tap.owner.level == logging.DEBUG:
                    tap.owner.setLevel(logging.NOTSET)
            self._taps.clear()


def _module_loggers() -> list[logging.Logger]:
    """Every existing ``calsync.*`` logger (the ``calsync`` logger itself excluded)."""
    # one C-level copy: another thread may create a logger meanwhile
    known = list(logging.root.manager.loggerDict.items())
    return [
        item
        for name, item in known
        if name.startswith(_ROOT + ".") and isinstance(item, logging.Logger)
    ]


def _host_level(module_logger: logging.Logger) -> int:
    """The effective level ``module_logger`` has without the taps' lowered levels."""
    node = module_logger.parent
    while node is not None:
        if node.level and not any(isinstance(f, _Tap) and f.lowered for f in node.filters):
            return node.level
        node = node.parent
    return logging.NOTSET


def _install(module_logger: logging.Logger) -> _Tap:
    lowered = module_logger.level == logging.NOTSET
    tap = _Tap(module_logger, lowered)
    module_logger.addFilter(tap)
    if lowered:
        module_logger.setLevel(logging.DEBUG)
    return tap


_taps = _Taps()


@contextmanager
def trace_run(enabled: bool = True) -> Iterator[RunTrace | None]:
    """Trace the calsync records of the current context while the block runs (when
    ``enabled``); yields the :class:`RunTrace`, or ``None`` when not enabled."""
    if not enabled:
        yield None
        return
    trace = RunTrace()
    _taps.acquire()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)
        _taps.release()

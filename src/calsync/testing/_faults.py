"""What every in-memory fake shares: the clock type, scripted failures and crashes, call
counting, and change logs with expiring cursors; and what the two in-memory Google backends
share on top (:class:`MemoryRemote`: clock, etags, one change log, expiring sync tokens)."""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections import Counter, deque
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Generic, TypeVar

import attrs

from calsync.errors import PreconditionFailed
from calsync.sources import HostRewound

__all__ = [
    "ChangeLog",
    "Clock",
    "FaultHooks",
    "LogPoint",
    "MemoryRemote",
    "SimulatedCrash",
    "check_etag",
    "utc_now",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

K = TypeVar("K", bound=Hashable)


def utc_now() -> datetime:
    """The default clock of the in-memory fakes."""
    return datetime.now(UTC)


class SimulatedCrash(BaseException):
    """The process "died" right after a write (raised by ``crash_after_next``).

    A :class:`BaseException`, so ``except Exception`` in the code under test does not swallow
    it, just as nothing catches a real crash.
    """


class FaultHooks:
    """The lock, call counter and scripted failures every in-memory fake shares.

    Subclasses name their contract methods in :attr:`contract_methods` and run each contract
    call inside :meth:`_contract_call`.
    """

    #: The methods that are counted and can be made to fail or crash.
    contract_methods: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: How many times each contract method was called (hooks are not counted).
        self.calls: Counter[str] = Counter()
        self._failures: dict[str, deque[BaseException]] = {}
        self._crashes: set[str] = set()

    def fail_next(self, method_name: str, error: BaseException, count: int = 1) -> None:
        """Make the next ``count`` calls of ``method_name`` raise ``error`` (nothing is done)."""
        self._check_method(method_name)
        with self._lock:
            self._failures.setdefault(method_name, deque()).extend([error] * count)

    def crash_after_next(self, method_name: str) -> None:
        """Make the next call of ``method_name`` do its work and then raise
        :class:`SimulatedCrash`. A call that fails on its own consumes the crash."""
        self._check_method(method_name)
        with self._lock:
            self._crashes.add(method_name)

    def clear_faults(self) -> None:
        """Drop every scripted failure and crash that has not happened yet."""
        with self._lock:
            self._failures.clear()
            self._crashes.clear()

    def _check_method(self, method_name: str) -> None:
        if method_name not in self.contract_methods:
            known = ", ".join(sorted(self.contract_methods))
            raise ValueError(f"{method_name!r} is not a contract method; use one of {known}")

    def _contract_call(self, method_name: str) -> AbstractContextManager[None]:
        """Run one contract call under the lock: counted, failing or crashing as scripted."""
        return _ContractCall(self, method_name)


class _ContractCall:
    """One call of a contract method (a plain context manager: the fakes make one per
    item of a large sync)."""

    __slots__ = ("_crash", "_fake", "_name")

    def __init__(self, fake: FaultHooks, method_name: str) -> None:
        self._fake, self._name, self._crash = fake, method_name, False

    def __enter__(self) -> None:
        fake, name = self._fake, self._name
        fake._lock.acquire()
        try:
            fake.calls[name] += 1
            failures = fake._failures.get(name)
            if failures:
                error = failures.popleft()
                logger.debug("%s fails on purpose: %r", name, error)
                raise error
            self._crash = name in fake._crashes
            fake._crashes.discard(name)
        except BaseException:
            fake._lock.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._crash:
                logger.debug("simulated crash after %s", self._name)
                raise SimulatedCrash(f"simulated crash after {self._name}")
        finally:
            self._fake._lock.release()


@attrs.frozen
class LogPoint:
    """Where a key's change log stood (:meth:`ChangeLog.point`): what a backup of the host's
    database holds of it, to :meth:`ChangeLog.restore` later."""

    epoch: str
    entries: tuple[str, ...]


class ChangeLog(Generic[K]):
    """Per-key logs of changed ids; a cursor is a position in one of them.

    Each key has an *epoch* (random), and a cursor names its epoch: :meth:`expire` and
    :meth:`reset` give keys new epochs, which makes every older cursor unknown. A restore
    (:meth:`rewind`, :meth:`restore`) starts a new epoch too, whose positions up to the
    point restored are its parent's: a cursor handed out before that point still holds, one
    handed out after it (in whichever line of the host's history) is
    :class:`~calsync.sources.HostRewound`, as a database restored from a backup tells.
    """

    def __init__(self) -> None:
        self._entries: dict[K, list[str]] = {}
        self._epochs: dict[K, str] = {}
        #: per key, each epoch a restore ended: the epoch it started from, and the position
        #: in it up to which the two share their changes
        self._parents: dict[K, dict[str, tuple[str, int]]] = {}

    def record(self, key: K, item_id: str) -> None:
        self._entries.setdefault(key, []).append(item_id)

    def cursor(self, key: K) -> str:
        return f"{self._epoch(key)}.{len(self._entries.get(key, ()))}"

    def since(self, key: K, cursor: str) -> tuple[list[str], str]:
        """The ids changed since ``cursor`` (each once) and the cursor of now.

        Raises:
            LookupError: the cursor is malformed, expired or of another key.
            HostRewound: the cursor was handed out past the point the log was restored to.
        """
        epoch, _, position = cursor.partition(".")
        entries = self._entries.get(key, [])
        if not position.isdigit():
            raise LookupError(f"unknown or expired cursor {cursor!r}")
        at = int(position)
        held = self._holds(key, epoch, at)
        if held is None:
            raise LookupError(f"unknown or expired cursor {cursor!r}")
        if not held:
            raise HostRewound(f"cursor {cursor!r} is past the restored log")
        return list(dict.fromkeys(entries[at:])), self.cursor(key)

    def _holds(self, key: K, epoch: str, at: int) -> bool | None:
        """Whether position ``at`` of ``epoch`` is a position of the log now (``None``: the
        epoch is unknown). A position up to where an epoch was forked from its parent is
        the parent's; the current epoch's and its forebears' hold up to where the current
        line of history still shares them."""
        parents = self._parents.get(key, {})
        current = self._epoch(key)
        line = {current: len(self._entries.get(key, ()))}
        if epoch == current and at > line[current]:
            return None  # (never handed out)
        walk = current
        while walk in parents:  # the current line: how far each forebear still holds
            parent, fork = parents[walk]
            line[parent] = min(fork, line[walk])
            walk = parent
        while epoch not in line:
            if epoch not in parents:
                return None
            parent, fork = parents[epoch]
            if at > fork:
                return False  # handed out in a line of history the restore discarded
            epoch = parent
        return at <= line[epoch]

    def length(self, key: K) -> int:
        """How many changes ``key``'s log holds (where :meth:`rewind` can go back to)."""
        return len(self._entries.get(key, ()))

    def point(self, key: K) -> LogPoint:
        """Where ``key``'s log stands now, as a backup of the host's database holds it."""
        return LogPoint(self._epoch(key), tuple(self._entries.get(key, ())))

    def rewind(self, key: K, length: int) -> None:
        """Take ``key``'s log back to its first ``length`` changes, as a host restored from a
        backup: cursors handed out up to there still hold, later ones are
        :class:`~calsync.sources.HostRewound` for ever (the positions are reused)."""
        entries = self._entries.get(key, [])
        self.restore(key, LogPoint(self._epoch(key), tuple(entries[:length])))

    def restore(self, key: K, point: LogPoint) -> None:
        """Put ``key``'s log back where :meth:`point` saw it, whatever came since (a backup
        older than now, or one newer than a wrong one restored before it)."""
        parents = self._parents.setdefault(key, {})
        self._entries[key] = list(point.entries)
        fresh = secrets.token_hex(4)
        parents[fresh] = (point.epoch, len(point.entries))
        self._epochs[key] = fresh

    def expire(self) -> None:
        """Make every cursor handed out so far unknown."""
        for key in self._epochs:
            self._epochs[key] = secrets.token_hex(4)
        self._parents.clear()

    def reset(self, key: K) -> None:
        """Forget ``key``'s log and its cursors."""
        self._entries.pop(key, None)
        self._parents.pop(key, None)
        self._epochs[key] = secrets.token_hex(4)

    def _epoch(self, key: K) -> str:
        return self._epochs.setdefault(key, secrets.token_hex(4))


class MemoryRemote(FaultHooks):
    """What both in-memory Google backends share: the clock, a counter of etags and one
    change log (keyed by calendar, or one key for the address book) whose cursors are the
    sync tokens."""

    def __init__(self, *, now: Clock | None) -> None:
        super().__init__()
        self._now = now or utc_now
        self._log: ChangeLog[str] = ChangeLog()
        self._etags = itertools.count(1)

    def expire_cursors(self) -> None:
        """Expire every sync token handed out so far (Google's ``410 fullSyncRequired``,
        People's ``EXPIRED_SYNC_TOKEN``)."""
        with self._lock:
            self._log.expire()

    def _next_etag(self) -> int:
        return next(self._etags)


def check_etag(current_etag: str, etag: str | None, what: str) -> None:
    """Google's ``412 conditionNotMet`` when ``etag`` is given and is not the current one."""
    if etag is not None and etag != current_etag:
        raise PreconditionFailed(
            f"{what} changed since etag {etag}", status=412, reason="conditionNotMet"
        )

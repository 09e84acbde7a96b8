"""One quota across every process and machine: a token bucket per Google user in Redis.

Google's limit (600 calls a minute per user) holds for the user, not for one process: four
workers each pacing the same user at 600 a minute would send 2,400. :class:`RedisQuotaPacer`
keeps the bucket in Redis and takes tokens with one Lua script, so reading, refilling and
reserving is atomic across every client of the same Redis. The script reads the time from Redis
itself (``TIME``), so the machines' clocks need not agree.

It has the interface and the arithmetic of :class:`~calsync.google.pacing.QuotaPacer` (the
same ``burst`` and ``rate`` for the same quota and headroom, reservations in order and debt
paid by later callers), and optionally a second bucket per Google Cloud project: a call takes
a token from both, and waits for the slower.

When Redis cannot be reached, or refuses the call (a read-only replica after a failover, out
of memory), the pacer falls back to its local bucket (per process) and logs a warning once
per outage: pacing degrades, it never stops. It tries Redis again after
``retry_after`` seconds.

Needs the ``server`` extra (``redis``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from calsync.google.pacing import QuotaPacer, _Entry
from calsync.profile import SyncProfile

__all__ = ["RedisQuotaPacer", "shared_pacers"]

logger = logging.getLogger(__name__)

# KEYS: one bucket per key. ARGV[1]: calls; then per key: burst, rate (tokens a second);
# last: the keys' time to live in milliseconds. Returns the wait in seconds, as text (Lua
# numbers come back from Redis truncated to integers).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local calls = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2 + 2 * #KEYS])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'tokens', 'stamp')
  local tokens = tonumber(state[1]) or burst
  local stamp = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
  local need = math.min(calls, burst)
  if need > tokens then
    wait = math.max(wait, (need - tokens) / rate)
  end
  levels[i] = tokens
end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', tostring(levels[i] - calls), 'stamp', tostring(now))
  redis.call('PEXPIRE', key, ttl)
end
return tostring(wait)
"""


def _refill_rate(pacer: QuotaPacer) -> float:
    """The shared token bucket's refill per second for a pacer's quota: what is usable in a
    window, less the burst the bucket starts with."""
    return max(pacer.usable - pacer.burst, 1.0) / pacer.window_seconds


class RedisQuotaPacer(QuotaPacer):
    """A :class:`~calsync.google.pacing.QuotaPacer` whose bucket lives in Redis.

    Args:
        client: a ``redis.Redis`` client (one per process; it is thread-safe).
        user: the Google user the bucket is for (any stable key: account email, profile id).
        calls_per_window, window_seconds, burst, headroom: as for ``QuotaPacer``.
        project: the Google Cloud project, to also pace every user's calls together under
            ``project_calls_per_window`` (``None``: no project bucket).
        project_calls_per_window: the project's quota per window.
        prefix: the Redis key prefix (one per deployment).
        retry_after: seconds to stay on the local bucket after Redis failed.
        clock, sleep: as for ``QuotaPacer`` (the Redis bucket uses Redis's clock).
    """

    def __init__(
        self,
        client: redis.Redis,
        user: str,
        calls_per_window: int = 600,
        window_seconds: float = 60.0,
        *,
        burst: int | None = None,
        headroom: float = 0.05,
        project: str | None = None,
        project_calls_per_window: int | None = None,
        prefix: str = "calsync",
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            calls_per_window,
            window_seconds,
            burst=burst,
            headroom=headroom,
            clock=clock,
            sleep=sleep,
        )
        self.client = client
        self.retry_after = retry_after
        self._keys = [f"{prefix}:quota:user:{user}"]
        #: the shared bucket's refill, calls per second
        self.rate = _refill_rate(self)
        self._limits: list[float] = [float(self.burst), self.rate]
        if project is not None and project_calls_per_window is not None:
            bucket = QuotaPacer(project_calls_per_window, window_seconds, headroom=headroom)
            self._keys.append(f"{prefix}:quota:project:{project}")
            self._limits += [float(bucket.burst), _refill_rate(bucket)]
        self._ttl_ms = int(window_seconds * 2000)
        self._script: Any = client.register_script(_TAKE)
        self._down_until: float | None = None
        #: calls paced by the local bucket because Redis was unreachable
        self.fallback_calls = 0

    def _admit(self, calls: int) -> tuple[_Entry | None, float]:
        """Take ``calls`` tokens from the shared bucket(s), sleeping until they are there (the
        one hook of both :meth:`acquire` and :meth:`calls`). Falls back to the local pacer
        when Redis is down."""
        if calls <= 0:
            return None, 0.0
        wait = self._take_shared(calls)
        if wait is None:
            self.fallback_calls += calls
            return super()._admit(calls)
        with self._lock:
            self.admitted += calls
            self.waited += wait
        if wait > 0:
            logger.debug("pacing (shared): waiting %.2fs for %d call(s)", wait, calls)
            self._sleep(wait)
        return None, wait

    def _take_shared(self, calls: int) -> float | None:
        if self._down_until is not None and self._clock() < self._down_until:
            return None
        try:
            wait = float(self._script(keys=self._keys, args=[calls, *self._limits, self._ttl_ms]))
        except redis.RedisError as exc:
            # unreachable, or refusing the script's writes (a read-only replica after a
            # failover, out of memory): either way this process paces on its own
            if self._down_until is None:
                logger.warning(
                    "Redis is unreachable or refused the call (%s): pacing %s on this "
                    "process's own bucket", exc, self._keys[0],
                )  # fmt: skip
            self._down_until = self._clock() + self.retry_after
            return None
        if self._down_until is not None:
            logger.warning("Redis is back: pacing %s on the shared bucket again", self._keys[0])
            self._down_until = None
        return wait


def shared_pacers(
    url: str, calls_per_minute: int = 600, *, prefix: str = "calsync"
) -> Callable[[SyncProfile], QuotaPacer]:
    """A ``pacer_for`` for :func:`~calsync.config.google_connector`: each profile's calls go
    through the Redis bucket of its profile id (one Google user per profile), on one client."""
    client = redis.Redis.from_url(url)

    def pacer_for(profile: SyncProfile) -> QuotaPacer:
        return RedisQuotaPacer(client, profile.id, calls_per_minute, prefix=prefix)

    return pacer_for

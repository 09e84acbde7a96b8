"""Retries at the edge: one tenacity policy for the transient failures of Google calls.

Only :class:`~calsync.errors.TransientError` is retried (5xx, timeouts, connection resets,
429 and 403 rate limits), never :class:`~calsync.errors.QuotaExceeded` (a usage limit that
will not lift within a run) nor anything permanent (400, 404, 409, 410, 412, auth). The wait
honours the server's ``Retry-After`` (:attr:`~calsync.errors.RateLimited.retry_after`) and is
otherwise truncated exponential backoff with full jitter.

The backend takes any ``tenacity.Retrying`` (``retrying=``); tests pass :func:`no_wait_retrying`
so nothing ever sleeps::

    backend = GoogleCalendarBackend(service, retrying=no_wait_retrying())
"""

from __future__ import annotations

import logging

import tenacity
from tenacity import RetryCallState
from tenacity.wait import wait_base

from calsync.errors import RateLimited, TransientError

__all__ = ["default_retrying", "is_retryable", "no_wait_retrying", "wait_for_server"]

logger = logging.getLogger(__name__)


def is_retryable(exc: BaseException) -> bool:
    """True for errors worth trying again within the run."""
    return isinstance(exc, TransientError)


# lower-case, like tenacity's own wait policies (wait_none, wait_random_exponential …)
class wait_for_server(wait_base):
    """Wait what the server asked for (``Retry-After``, capped at ``maximum``), else ask
    ``fallback``."""

    def __init__(self, fallback: wait_base, maximum: float = 120.0) -> None:
        self.fallback = fallback
        self.maximum = maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self.maximum)
        return float(self.fallback(retry_state))


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    exc = outcome.exception() if outcome is not None else None
    sleep = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
    logger.info(
        "Google call failed (%s); attempt %d, retrying in %.1fs",
        exc,
        retry_state.attempt_number,
        sleep,
    )


def default_retrying(
    *, attempts: int = 6, initial: float = 1.0, maximum: float = 60.0
) -> tenacity.Retrying:
    """The default policy: up to ``attempts`` tries, ``Retry-After`` honoured, otherwise
    full-jitter exponential backoff from ``initial`` seconds up to ``maximum``."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        wait=wait_for_server(
            tenacity.wait_random_exponential(multiplier=initial, max=maximum), maximum
        ),
        stop=tenacity.stop_after_attempt(attempts),
        before_sleep=_log_retry,
        reraise=True,
    )


def no_wait_retrying(attempts: int = 6) -> tenacity.Retrying:
    """The default policy without any sleeping (tests, benchmarks against an emulator)."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        wait=tenacity.wait_none(),
        stop=tenacity.stop_after_attempt(attempts),
        sleep=lambda seconds: None,
        reraise=True,
    )

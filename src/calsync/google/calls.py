"""Sending requests for one user: paced, mapped into calsync's errors, retried when transient.

:class:`Caller` is what both Google backends send through. A single request goes out with
:meth:`Caller.execute`; many with :meth:`Caller.batch`, which sends them through the batch
endpoint and retries only the parts that failed transiently (in a new, smaller batch), so one
rate-limited part never repeats the parts that succeeded.

Requests that are not idempotent (People creates: Google has no client-chosen ids for contacts)
are sent with ``safe=False``: they are retried only after an answer that proves they were not
carried out (429 / 403 rate limits). A 5xx or a broken connection may hide a success, so it is
returned as an error and the engine's create intent settles it on the next run.

Every request the engine's writes make is checked with :func:`calsync.backends.before_write`
once its pacing wait is over, right before it is sent (a retry too): a run that lost the
profile's lease while it waited for quota stops there, and its request never reaches Google.
The services :mod:`calsync.google.services` builds check again right before each send, so the
client's own re-sends after a token refresh (a 401) are checked too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import tenacity
from googleapiclient.errors import HttpError

from calsync.backends import before_write
from calsync.errors import BackendError, RateLimited, TransientError
from calsync.google.errors import error_for, google_errors
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import is_retryable

__all__ = ["PATCH_COST", "BatchFactory", "Caller", "Outcome", "pages"]

logger = logging.getLogger(__name__)

#: ``events.patch`` costs three quota units (Google's patch reference).
PATCH_COST = 3

#: Makes an empty ``BatchHttpRequest`` for the service the requests belong to.
BatchFactory = Callable[[], Any]
#: The outcome of one part of a batch: the decoded answer, or the error that stopped it.
Outcome = Any


class _NotSafeToRetry(Exception):
    """Internal: carries a transient error of a non-idempotent call past the retry policy."""

    def __init__(self, error: BackendError) -> None:
        super().__init__(str(error))
        self.error = error


class Caller:
    """Sends one user's requests.

    Args:
        pacer: the user's quota pacer (shared by every backend of that user).
        retrying: the retry policy for transient errors.
    """

    def __init__(self, pacer: QuotaPacer, retrying: tenacity.Retrying) -> None:
        self.pacer = pacer
        self.retrying = retrying

    def execute(self, request: Any, *, cost: int = 1, safe: bool = True) -> Any:
        """Send ``request`` and return its decoded answer.

        Raises:
            calsync.errors.BackendError: mapped from whatever Google or the transport raised.
        """

        def attempt() -> Any:
            try:
                with self.pacer.calls(cost):
                    before_write()  # after the wait: the run may have lost its lease in it
                    with google_errors():
                        return request.execute()
            except TransientError as exc:
                if safe or isinstance(exc, RateLimited):
                    raise
                raise _NotSafeToRetry(exc) from exc

        try:
            return _retry(self.retrying, attempt)
        except _NotSafeToRetry as exc:
            raise exc.error from exc.__cause__

    def batch(
        self,
        factory: BatchFactory,
        requests: Sequence[Any],
        costs: Sequence[int] | None = None,
    ) -> list[Outcome]:
        """Send ``requests`` in one batch; one outcome per request, in order.

        Parts that fail transiently are sent again (per the retry policy) in a new batch; what
        still fails is returned as its error. A failure of the whole batch request is the
        outcome of every part it carried.
        """
        costs = list(costs) if costs is not None else [1] * len(requests)
        outcomes: dict[int, Outcome] = {}
        pending = list(range(len(requests)))

        def attempt() -> None:
            nonlocal pending
            self._send(factory, requests, pending, costs, outcomes)
            pending = [i for i in pending if is_retryable(outcomes[i])]
            if pending:
                raise outcomes[pending[0]]

        try:
            _retry(self.retrying, attempt)
        except BackendError as exc:
            for index in pending:
                outcomes.setdefault(index, exc)
        return [outcomes[i] for i in range(len(requests))]

    def _send(
        self,
        factory: BatchFactory,
        requests: Sequence[Any],
        indices: list[int],
        costs: Sequence[int],
        outcomes: dict[int, Outcome],
    ) -> None:
        def store(request_id: str, response: Any, exception: BaseException | None) -> None:
            outcomes[int(request_id)] = _outcome(response, exception)

        batch = factory()
        for index in indices:
            batch.add(requests[index], callback=store, request_id=str(index))
        try:
            with self.pacer.calls(sum(costs[i] for i in indices)):
                before_write()  # after the wait: the run may have lost its lease in it
                with google_errors():
                    batch.execute()
        except KeyError:  # the client found no answer for a part it sent
            exc = TransientError("Google's batch answer omitted a part")
            for index in indices:
                outcomes.setdefault(index, exc)
            return
        except BackendError as exc:
            logger.info("batch of %d request(s) failed as a whole: %s", len(indices), exc)
            for index in indices:
                outcomes[index] = exc
            return
        for index in indices:  # a part the answer left out is worth sending again
            outcomes.setdefault(index, TransientError("Google's batch answer omitted a part"))


def _retry(retrying: tenacity.Retrying, function: Callable[[], Any]) -> Any:
    """``retrying(function)``, re-raising the last error of a policy built without
    ``reraise=True`` instead of tenacity's ``RetryError``."""
    try:
        return retrying(function)
    except tenacity.RetryError as exc:
        last = exc.last_attempt.exception()
        if last is None:
            raise
        raise last from exc


def _outcome(response: Any, exception: BaseException | None) -> Outcome:
    if exception is None:
        return response
    if isinstance(exception, HttpError):
        return error_for(exception)
    return BackendError(f"unreadable answer from Google: {type(exception).__name__}")


def pages(
    send: Callable[[Any], Any],
    request: Any,
    next_page: Callable[[Any, Any], Any],
    key: str,
) -> Iterator[tuple[dict[str, Any], list[Any]]]:
    """Every page of a listing with its entries (the list under ``key``), from ``request``
    on, ``next_page`` (the resource's ``list_next``) following each page's
    ``nextPageToken``; ``send`` sends a request and returns its decoded answer.

    An answer that is no listing page (no JSON object, or entries that are no list: ``null``)
    and a page token given a second time (a listing that would go round for ever) end the
    listing with :class:`~calsync.errors.TransientError`, before any sync token of it is kept:
    what the listing left unread is read again by the next run, never skipped.

    Raises:
        calsync.errors.BackendError: what ``send`` raised, or the above.
    """
    seen: set[object] = set()
    while request is not None:
        page = send(request)
        if not isinstance(page, dict):
            raise TransientError(f"Google answered a listing with {type(page).__name__}")
        entries = page.get(key, [])
        if not isinstance(entries, list):
            shown = "null" if entries is None else type(entries).__name__
            raise TransientError(f"Google answered a listing page whose {key} is {shown}")
        token = page.get("nextPageToken")
        if token is not None:
            if token in seen or not isinstance(token, str):
                raise TransientError(
                    "Google's listing gave a page token it gave before: "
                    "stopped, as it would never end"
                    if token in seen
                    else "Google's listing gave a page token that is not text"
                )
            seen.add(token)
        yield page, entries
        request = next_page(request, page)

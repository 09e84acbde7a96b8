"""The emulator's Python control surface, independent of the HTTP server around it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from calsync.testing.emulator.calendars import delete_calendar
from calsync.testing.emulator.errors import ApiError
from calsync.testing.emulator.faults import Fault, FaultSet, Quota, Scope, Stats
from calsync.testing.emulator.oauth import DEFAULT_SCOPES, TokenRegistry
from calsync.testing.emulator.people import rename_person
from calsync.testing.emulator.push import PushHub
from calsync.testing.emulator.recurrence import InstanceIdStyle
from calsync.testing.emulator.snapshot import AccountSnapshot, snapshot
from calsync.testing.emulator.state import (
    Account,
    EmulatorState,
    PeopleListingEtags,
    email_for_token,
)

logger = logging.getLogger(__name__)

MINTED_PREFIXES = ("ya29.emu-", "1//emu-")


class EmulatorCore:
    """State, tokens, faults, quota and statistics; every method is thread-safe."""

    def __init__(
        self,
        *,
        quota_per_window: int | None = None,
        quota_window_seconds: float = 60.0,
        people_propagation_delay: float = 0.0,
        instance_ids: InstanceIdStyle = "dated",
        people_listing_etags: PeopleListingEtags = "accepted",
        refused_zones: Iterable[str] = (),
    ) -> None:
        refused = frozenset(refused_zones)
        self._defaults = (quota_per_window, quota_window_seconds, people_propagation_delay, refused)
        self.state = EmulatorState(
            people_propagation_delay, instance_ids, people_listing_etags, refused
        )
        self.tokens = TokenRegistry()
        self.faults = FaultSet()
        self.quota = Quota(quota_per_window, quota_window_seconds)
        self.counters = Stats()
        #: Calendar push notifications: channels, deliveries and their faults.
        self.push = PushHub(self.state)

    # -- inspection ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters: ``http_requests``, ``api_calls``, ``batch_requests``, ``methods`` …

        A batch is one HTTP request and one API call per part; admin calls are not counted.
        """
        return self.counters.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters."""
        self.counters.reset()

    def account(self, token_or_email: str) -> AccountSnapshot:
        """A deep copy of the account behind a bearer token or an email (created if new)."""
        with self.state.lock:
            return snapshot(self._resolve(token_or_email))

    # -- accounts and tokens ------------------------------------------------------------------

    def _resolve(self, token_or_email: str) -> Account:
        known, email = self.tokens.lookup(token_or_email)
        if known and email is not None:
            return self.state.account(email)
        if "@" in token_or_email:
            return self.state.account(token_or_email)
        return self.state.account(email_for_token(token_or_email))

    def account_for_token(self, token: str) -> Account | None:
        """The account a bearer token acts as; None for a revoked or expired minted token."""
        known, email = self.tokens.lookup(token)
        if known:
            return None if email is None else self.state.account(email)
        if token.startswith(MINTED_PREFIXES):
            return None
        return self.state.account(email_for_token(token))

    def issue_tokens(self, account_email: str, scopes: str = DEFAULT_SCOPES) -> tuple[str, str]:
        """Mint ``(access_token, refresh_token)`` for an account, granted ``scopes``
        (space-separated; by default ``calendar`` and ``contacts``, which cover every call).
        Every API call checks the access token's scopes, and a refresh on ``/token`` keeps
        the grant's (:mod:`calsync.testing.emulator.scopes`)."""
        with self.state.lock:
            self.state.account(account_email)
        return self.tokens.issue(account_email, scopes)

    def revoke_refresh_token(self, refresh_token: str) -> bool:
        """Revoke a refresh token: refreshing then answers 400 ``invalid_grant``."""
        return self.tokens.revoke(refresh_token)

    def expire_access_tokens(self) -> int:
        """Make every minted access token answer 401 (clients then refresh)."""
        return self.tokens.expire_access_tokens()

    # -- faults, quota, expiry ----------------------------------------------------------------

    def expire_sync_tokens(self) -> None:
        """Expire every outstanding Calendar and People sync token (410 / 400 EXPIRED)."""
        with self.state.lock:
            self.state.epoch += 1

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` ahead, as if that much time had passed for
        sync tokens: People's contact tokens expire 7 days after the full sync their chain
        began with, contact groups' 7 days after they were issued; Calendar's do not age.
        ``reset()`` puts the clock back. Raises ``ValueError`` for a negative ``seconds``."""
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        with self.state.lock:
            self.state.clock_offset += seconds

    def inject_fault(
        self,
        status: int | None = None,
        reason: str | None = None,
        *,
        count: int | None = 1,
        rate: float | None = None,
        method: str | None = None,
        api_method: str | None = None,
        path: str | None = None,
        body: str | None = None,
        latency: float = 0.0,
        reset: bool = False,
        scope: Scope = "call",
        message: str | None = None,
        retry_after: int | None = None,
        seed: int | None = None,
        answer: str | None = None,
    ) -> Fault:
        """Make matching requests fail, stall or lose their connection; returns the rule.

        - ``status``/``reason``/``message``: the error to answer; the reason defaults per
          status (403 and 429 ``rateLimitExceeded``, 5xx ``backendError``).
        - ``count``: how many matching requests it hits (None: unlimited; with a ``rate``
          the default 1 also means unlimited). ``rate``: the probability it fires per match;
          ``seed`` makes that repeatable.
        - Filters: ``method`` (HTTP verb), ``api_method`` (discovery id such as
          ``calendar.events.insert``), ``path`` (a regex searched in the URL path) and
          ``body`` (a regex searched in the request's body, as JSON text: refuse one item's
          write, e.g. ``body=r"7700 900999"``; a batch create refused for one person in it).
        - ``latency``: seconds slept before answering; ``reset``: drop the TCP connection
          without an answer (a reset of one batch part resets the whole batch connection).
        - ``scope``: ``"call"`` matches each API call, batch parts one by one; ``"http"``
          matches whole HTTP requests (batches, ``/token``).
        - ``retry_after``: a ``Retry-After`` header (seconds) on the error.
        - ``answer``: instead of an error, a 200 answer with this body (JSON text, served as
          it is): an answer Google should never give, such as a listing page whose
          ``nextPageToken`` leads back to itself or whose ``items`` are ``null``.

        Raises ``ValueError`` for a rule with nothing to do, one with both a ``status`` and an
        ``answer``, or a rate outside [0, 1].
        """
        fault = Fault(
            status=status,
            reason=reason,
            message=message,
            count=count,
            rate=rate,
            method=method,
            api_method=api_method,
            path=path,
            body=body,
            latency=latency,
            reset=reset,
            scope=scope,
            retry_after=retry_after,
            answer=answer,
        )
        return self.faults.add(fault, seed)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def set_quota(
        self, calls: int | None, window_seconds: float = 60.0, *, status: int = 403
    ) -> None:
        """Limit each account to ``calls`` API calls per sliding window (None: no limit).

        Over quota, Calendar answers 403 ``userRateLimitExceeded`` (or 429
        ``rateLimitExceeded`` with ``status=429``); People answers 429 ``RESOURCE_EXHAUSTED``.
        """
        self.quota.configure(calls, window_seconds, status)

    def set_people_propagation_delay(self, seconds: float) -> None:
        """Delay before People changes appear in incremental (sync-token) listings."""
        with self.state.lock:
            self.state.people_propagation_delay = seconds

    def set_refused_zones(self, zones: Iterable[str]) -> None:
        """Refuse event writes whose ``start`` or ``end`` ``timeZone`` is one of ``zones``
        (none: every zone name the tz database knows is taken), with 400 ``invalid``
        "Invalid time zone definition for start time." (and one entry for the end time), as
        Google answered ``Europe/Kyiv`` in August 2022, its database still naming the zone
        ``Europe/Kiev``. Inserts, imports, updates and patches are refused when the event
        they would leave carries one (a recurring event or an instance too; a patch that
        leaves a stored time in such a zone as it is, too), and calendars inserted, updated
        or patched into one (400 "Invalid time zone definition."); reads are answered as
        before."""
        with self.state.lock:
            self.state.refused_zones = frozenset(zones)

    def delete_calendar(self, token_or_account: str, calendar_id: str) -> None:
        """Delete a secondary calendar as its owner would.

        Raises ``KeyError`` when the account has no such live calendar and ``ValueError`` for
        the primary calendar, which Google never deletes.
        """
        with self.state.lock:
            try:
                delete_calendar(self.state, self._resolve(token_or_account), calendar_id)
            except ApiError as exc:
                if exc.code == 404:
                    raise KeyError(calendar_id) from exc
                raise ValueError(exc.message) from exc

    def rename_contact(
        self, token_or_account: str, resource_name: str, new_name: str | None = None
    ) -> str:
        """Give a contact a new resource name, as Google does when it links the contact to a
        profile: it keeps everything else, lists the old name in
        ``metadata.previousResourceNames`` and is listed as changed under the new one (a new
        ``people/c…`` name unless ``new_name`` is given); the old name answers 404. Returns
        the new name.

        Raises ``KeyError`` when the account has no such live contact and ``ValueError`` when
        ``new_name`` is taken or not a ``people/`` name.
        """
        with self.state.lock:
            account = self._resolve(token_or_account)
            try:
                stored = rename_person(self.state, account, resource_name, new_name)
            except ApiError as exc:
                if exc.code == 404:
                    raise KeyError(resource_name) from exc
                raise ValueError(exc.message) from exc
            return str(stored.resource["resourceName"])

    def reset(self) -> None:
        """Back to a fresh emulator: no accounts, tokens, faults or counts; the constructor's
        quota, delay and refused zones."""
        calls, window, delay, refused = self._defaults
        self.state.reset()
        self.set_people_propagation_delay(delay)
        self.set_refused_zones(refused)
        self.tokens.reset()
        self.faults.clear()
        self.quota.configure(calls, window)
        self.counters.reset()
        self.push.reset()

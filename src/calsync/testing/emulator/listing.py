"""Paged and incremental listings shared by events, calendarList, connections and groups."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from attrs import frozen

from calsync.testing.emulator.context import CallContext
from calsync.testing.emulator.errors import (
    ApiError,
    expired_sync_token,
    full_sync_required,
    invalid,
    invalid_argument,
)
from calsync.testing.emulator.tokens import Key, PageState, SyncToken, fingerprint, keyset_page

logger = logging.getLogger(__name__)

T = TypeVar("T")


@frozen
class Cursor:
    """Where a listing call stands: its sync token (if incremental) and page position."""

    sync: SyncToken | None
    after: Key | None
    high_water: int
    digest: str


def open_cursor(
    ctx: CallContext,
    scope: str,
    *,
    sync_param: str = "syncToken",
    ttl: float | None = None,
    high_water: int | None = None,
) -> Cursor:
    """Validate the sync and page tokens of a listing call.

    Raises the API's expired-token error (Calendar 410 ``fullSyncRequired``, People 400
    ``EXPIRED_SYNC_TOKEN``) for a token of another scope, an older epoch or past ``ttl``
    (counted from when the token's expiry clock started: see :func:`next_sync_token`).
    """
    sync = _sync_token(ctx, scope, ctx.param(sync_param), ttl)
    digest = fingerprint(ctx.query)
    page_token = ctx.param("pageToken")
    if not page_token:
        mark = ctx.state.seq if high_water is None else high_water
        return Cursor(sync, None, mark, digest)
    state = PageState.parse(page_token)
    if state is None or state.digest != digest:
        raise _bad_page_token(ctx)
    return Cursor(sync, state.after, state.high_water, digest)


def _sync_token(
    ctx: CallContext, scope: str, token: str | None, ttl: float | None
) -> SyncToken | None:
    if not token:
        return None
    parsed = SyncToken.parse(token)
    if parsed is None:
        if ctx.api == "people":
            raise expired_sync_token()
        raise invalid("Invalid sync token value.", location="syncToken")
    if parsed.scope != scope or parsed.expired(ctx.state.epoch, ctx.state.clock(), ttl):
        logger.debug("sync token for %s is expired", scope)
        raise expired_sync_token() if ctx.api == "people" else full_sync_required()
    return parsed


def _bad_page_token(ctx: CallContext) -> ApiError:
    if ctx.api == "people":
        return invalid_argument(
            "Page token is invalid, or the request parameters differ from the first page."
        )
    return invalid("Invalid page token value.", location="pageToken")


def page_through(
    cursor: Cursor,
    items: Sequence[T],
    key: Callable[[T], Key],
    size: int,
) -> tuple[list[T], str | None]:
    """One page of ``items`` after the cursor, and the next page token if more follow."""
    page = keyset_page(items, key, cursor.after, size)
    if page.more_after is None:
        return page.items, None
    state = PageState(page.more_after, cursor.high_water, cursor.digest)
    return page.items, state.encode()


def next_sync_token(
    ctx: CallContext,
    cursor: Cursor,
    scope: str,
    window: tuple[str | None, str | None] = (None, None),
    *,
    expires_from_full_sync: bool = False,
) -> str:
    """The token for the next incremental call, covering changes after the first page.

    Its expiry clock starts now, or with ``expires_from_full_sync`` (People's contacts:
    "Sync tokens expire 7 days after the full sync") a token issued by an incremental call
    carries the start of the one it was called with: a chain of incremental listings expires
    with the full sync it began with.
    """
    now = ctx.state.clock()
    since = now
    if cursor.sync is not None:
        window = cursor.sync.window
        if expires_from_full_sync:
            since = cursor.sync.started
    token = SyncToken(scope, cursor.high_water, ctx.state.epoch, now, window, since)
    return token.encode()


def finish(
    body: dict[str, Any],
    page_token: str | None,
    sync_token: Callable[[], str] | None,
) -> dict[str, Any]:
    """Add ``nextPageToken`` or, on the last page only, ``nextSyncToken``."""
    if page_token is not None:
        body["nextPageToken"] = page_token
    elif sync_token is not None:
        body["nextSyncToken"] = sync_token()
    return body

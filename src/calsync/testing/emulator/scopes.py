"""Which OAuth scopes let an access token make an API call, as Google checks them.

A call is let through when the token carries one of the scopes its method lists in the
client's discovery document (``calendar.events.list``: ``calendar``, ``calendar.readonly``,
``calendar.events``, ``calendar.events.readonly``, ``calendar.app.created``, …;
``people.people.connections.list``: ``contacts``, ``contacts.readonly``), so a read-only scope
covers reads and not writes. ``calendar.app.created`` covers only the calendars the app
created (``calendars.insert``): a call naming another calendar, the primary included, needs
another scope. Anything else is Google's 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``
(:class:`~calsync.testing.emulator.errors.InsufficientScopes`).

Tokens the emulator did not mint (``Credentials(token="alice")``) act with every scope.
"""

from __future__ import annotations

import logging

from calsync.testing.emulator.discovery import MethodSpec
from calsync.testing.emulator.errors import InsufficientScopes
from calsync.testing.emulator.state import Account

logger = logging.getLogger(__name__)

APP_CREATED = "https://www.googleapis.com/auth/calendar.app.created"


def check_scopes(
    granted: frozenset[str] | None, spec: MethodSpec, account: Account, path: dict[str, str]
) -> None:
    """Raise :class:`InsufficientScopes` when ``granted`` (``None``: every scope) does not
    cover the call of ``spec`` on ``path`` (its raw path parameters). Call under the state
    lock: it reads the account's calendars."""
    if granted is None:
        return
    covering = granted & spec.scopes
    if covering == {APP_CREATED} and not _app_created(account, path.get("calendarId")):
        covering = frozenset()
    if not covering:
        logger.debug("refused %s: the token's scopes do not cover it", spec.id)
        raise InsufficientScopes(spec.api, spec.id, spec.scopes)


def _app_created(account: Account, calendar_id: str | None) -> bool:
    """Whether a call on ``calendar_id`` stays within the calendars the app created (no
    calendar named: ``calendars.insert``, ``channels.stop``; an unknown one answers 404)."""
    if calendar_id is None:
        return True
    if calendar_id == "primary":
        return False
    found = account.calendars.get(calendar_id) or account.calendars.get(calendar_id.lower())
    return found is None or found.app_created

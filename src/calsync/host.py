"""Everything a host application implements, in one place.

A host embeds calsync by implementing these contracts (each documented on its class):

* :class:`ScheduleSource` — the user's sessions and appointments (``docs/adapters.md``);
* :class:`ContactSource` — the clients of the user's sync group (contact sync only);
* :class:`ProfileStore` — which users sync, with what options, and where calsync reports back;
* :class:`TokenStore` — where each user's Google tokens live (or use :class:`SqliteTokenStore`);
* :class:`Notifier` — how warnings and errors reach the user (or use :class:`EmailNotifier`);
  it is told which :class:`Notice` is due.

Each contract has a contract test suite in :mod:`calsync.testing.contracts` for the host's
implementation to subclass.
"""

from __future__ import annotations

from calsync.notices import Notice
from calsync.notify import Notifier
from calsync.profile import ProfileStore
from calsync.sources import ContactSource, ContactUpdate, HostChanges, ItemUpdate, ScheduleSource
from calsync.tokens import StoredToken, TokenStore

__all__ = [
    "ContactSource",
    "ContactUpdate",
    "HostChanges",
    "ItemUpdate",
    "Notice",
    "Notifier",
    "ProfileStore",
    "ScheduleSource",
    "StoredToken",
    "TokenStore",
]

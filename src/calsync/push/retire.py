"""Stopping the push channels of profiles that no longer sync a calendar, for the processor
and the Celery workers (:meth:`calsync.processor.SyncProcessor.retire_push`)."""

from __future__ import annotations

import logging
from contextlib import suppress

from calsync.errors import AuthError
from calsync.profile import ProfileStore, SyncProfile
from calsync.push.channels import PushChannels
from calsync.runs import Connect, Connection

__all__ = ["retire_stale"]

logger = logging.getLogger(__name__)


def retire_stale(
    push: PushChannels,
    profiles: ProfileStore,
    connect: Connect,
    eligible: list[SyncProfile],
    *,
    within: str = "",
) -> None:
    """Stop the channels of the profiles with ids starting with ``within`` that are not
    ``eligible`` with a calendar (sync off, a status that stops them, no calendar, or gone
    from the host). A profile is connected only when one of its channels is due for a stop:
    one whose stop failed, or whose profile could not be connected for another reason than
    its credentials (:class:`~calsync.errors.AuthError`: none stored, or revoked), is tried
    again only after ``push.retry_after``."""
    keep = {p.id for p in eligible if p.calendar_id is not None}
    watched = {c.profile_id for c in push.store.push_channels() if push.stop_due(c)}
    stale = {pid for pid in watched if pid.startswith(within)} - keep
    if not stale:
        return
    known = {p.id: p for p in profiles.profiles()}
    for profile_id in sorted(stale):
        # a profile the host removed is stood in for by its id, to reach its credentials
        profile = known.get(profile_id) or SyncProfile(profile_id, "", None)
        _retire(push, connect, profile_id, profile)


def _retire(push: PushChannels, connect: Connect, profile_id: str, profile: SyncProfile) -> None:
    connection: Connection | None = None
    try:
        connection = connect(profile)
    except AuthError as exc:  # no credentials (none stored, or revoked): only forgotten
        logger.info("profile %s: cannot stop its push channels: %s", profile_id, exc)
    except Exception as exc:  # for now (the token store, the network): stopped later
        push.retire_later(profile_id, exc)
        return
    try:
        push.retire(profile_id, connection.calendar if connection else None)
    finally:
        if connection is not None and connection.close is not None:
            with suppress(Exception):
                connection.close()

"""The studio's users as calsync sync profiles: :class:`StudioProfiles`, one
:class:`~calsync.SyncProfile` per staff user, from the user's Google Sync preferences
(``google_prefs``); calsync reports back through it ("first sync done", "re-authorise",
"choose a calendar again")."""

from __future__ import annotations

import logging
import re

import attrs

from calsync import (
    ConfigurationError,
    Notifications,
    ProfileStatus,
    ProfileStore,
    SourceError,
    SyncOptions,
    SyncProfile,
)
from studio.db import GooglePrefs, Studio, UnreadableRow, User

__all__ = ["StudioProfiles", "studio_user"]

logger = logging.getLogger(__name__)


def studio_user(studio: Studio, user_id: str) -> int:
    """The studio's id of calsync's ``user_id``; a user that does not exist is an error, never
    an empty schedule (that would read as "everything was deleted")."""
    if user_id.isdigit() and studio.user(int(user_id)) is not None:
        return int(user_id)
    raise SourceError(f"there is no studio user {user_id!r}")


_STUDIO_NAME = re.compile(r"^[A-Za-z0-9_:@-][A-Za-z0-9._:@-]{0,150}$")


class StudioProfiles(ProfileStore):
    """Each staff user's Google Sync preferences as a :class:`~calsync.SyncProfile`.

    Profile ids are ``"<studio_name>.<user id>"``: stable for the life of the sync, as calsync
    requires (they seed the Google event ids). ``defaults`` carries what the studio sets for
    everyone (window, templates, policies); each user's switches override it.
    """

    def __init__(
        self, studio: Studio, studio_name: str, *, defaults: SyncOptions | None = None
    ) -> None:
        if not _STUDIO_NAME.match(studio_name):
            raise ConfigurationError(f"studio name {studio_name!r}: use letters, digits, _:@-.")
        self.studio = studio
        self.studio_name = studio_name
        self.defaults = defaults or SyncOptions()

    def profile_id(self, user_id: int) -> str:
        return f"{self.studio_name}.{user_id}"

    def profiles(self) -> list[SyncProfile]:
        profiles = []
        for found in self.studio.google_prefs_records():
            if isinstance(found, UnreadableRow):
                logger.error(
                    "user %s: Google Sync preferences unusable: %s", found.user_id, found.reason
                )
                continue
            user, prefs = found
            try:
                profiles.append(self._profile(user, prefs))
            except (ConfigurationError, ValueError) as exc:
                # one user's broken preferences never stop the others
                logger.error("user %s: Google Sync preferences unusable: %s", user.id, exc)
        return profiles

    def _profile(self, user: User, prefs: GooglePrefs) -> SyncProfile:
        options = attrs.evolve(
            self.defaults,
            inbound_calendar=prefs.sync_back_calendar,
            contacts=prefs.sync_contacts,
            inbound_contacts=prefs.sync_back_contacts,
            client_group=prefs.client_sync_group,
            initial_sync_pending=prefs.first_time,
            notifications=Notifications(prefs.notify_problems, prefs.verbose_troubleshooting),
        )
        return SyncProfile(
            id=self.profile_id(user.id),
            user_id=str(user.id),
            calendar_id=prefs.calendar_id,
            options=options,
            email=user.email,
            enabled=prefs.sync_on,
            status=ProfileStatus(prefs.status),
            name=user.name,
        )

    def _user(self, profile_id: str) -> int:
        prefix, _, number = profile_id.rpartition(".")
        if prefix != self.studio_name or not number.isdigit():
            raise KeyError(profile_id)
        return int(number)

    def initial_sync_done(self, profile_id: str) -> None:
        self.studio.clear_first_time(self._user(profile_id))
        logger.info("profile %s: initial sync done; first time switched off", profile_id)

    def set_status(self, profile_id: str, status: ProfileStatus, message: str) -> None:
        start_over = status is ProfileStatus.CALENDAR_GONE
        self.studio.set_sync_status(
            self._user(profile_id), status.value, message, start_over=start_over
        )
        if status is not ProfileStatus.OK:
            logger.warning("profile %s cannot sync (%s): %s", profile_id, status.value, message)

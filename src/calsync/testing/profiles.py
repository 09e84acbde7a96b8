"""An in-memory :class:`~calsync.profile.ProfileStore` for tests and examples."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import attrs

from calsync.profile import ProfileStatus, ProfileStore, SyncProfile

__all__ = ["MemoryProfileStore"]


class MemoryProfileStore(ProfileStore):
    """Profiles in a dict, with the host's side of the status rules. Thread-safe."""

    def __init__(self, profiles: Iterable[SyncProfile] = ()) -> None:
        self._lock = threading.Lock()
        self._profiles = {profile.id: profile for profile in profiles}
        #: the messages given with each status change, by profile id
        self.messages: dict[str, list[str]] = {}

    def profiles(self) -> list[SyncProfile]:
        with self._lock:
            return list(self._profiles.values())

    def initial_sync_done(self, profile_id: str) -> None:
        with self._lock:
            profile = self._profiles[profile_id]
            options = attrs.evolve(profile.options, initial_sync_pending=False)
            self._profiles[profile_id] = attrs.evolve(profile, options=options)

    def set_status(self, profile_id: str, status: ProfileStatus, message: str) -> None:
        with self._lock:
            profile = attrs.evolve(self._profiles[profile_id], status=status)
            if status is ProfileStatus.CALENDAR_GONE:
                options = attrs.evolve(profile.options, initial_sync_pending=True)
                profile = attrs.evolve(profile, calendar_id=None, options=options)
            self._profiles[profile_id] = profile
            self.messages.setdefault(profile_id, []).append(message)

    def put(self, profile: SyncProfile) -> None:
        """Add or replace a profile (what the host's preferences screen does)."""
        with self._lock:
            self._profiles[profile.id] = profile

    def remove(self, profile_id: str) -> None:
        """Forget a profile (the host deleted the user)."""
        with self._lock:
            self._profiles.pop(profile_id, None)

    def get(self, profile_id: str) -> SyncProfile:
        """The profile with ``profile_id``."""
        with self._lock:
            return self._profiles[profile_id]

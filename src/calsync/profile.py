"""Sync profiles: one per staff user, with the options the user set in the host."""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from attrs import field, frozen

from calsync.errors import ConfigurationError
from calsync.model import TimeRange
from calsync.policies import (
    ConflictPolicy,
    DeletionRules,
    FieldRules,
    PolicyLike,
    as_policy,
    host_wins,
)
from calsync.templates import DEFAULT_TEMPLATES, TemplateSet
from calsync.wording import DEFAULT_WORDING, Wording

__all__ = [
    "Notifications",
    "ProfileStatus",
    "ProfileStore",
    "SyncOptions",
    "SyncProfile",
    "SyncWindow",
]

_PROFILE_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,200}$")


@frozen
class SyncWindow:
    """The span of time that is synced, relative to now.

    Items that leave the window are forgotten, never deleted.
    """

    days_back: int = 30
    days_ahead: int = 730

    def __attrs_post_init__(self) -> None:
        if self.days_back < 0 or self.days_ahead <= 0:
            raise ConfigurationError("window: days_back must be >= 0 and days_ahead > 0")

    def resolve(self, now: datetime) -> TimeRange:
        """The window as a range of instants around ``now`` (whole UTC days)."""
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return TimeRange(
            today - timedelta(days=self.days_back), today + timedelta(days=self.days_ahead + 1)
        )


class ProfileStatus(enum.Enum):
    """Why a profile may not be syncing."""

    OK = "ok"
    #: Google refused the credentials: the user must authorise again.
    NEEDS_REAUTH = "needs_reauth"
    #: The calendar was deleted: the user must choose a calendar to start over.
    CALENDAR_GONE = "calendar_gone"
    #: Sync is on but the user never connected a Google account: the user must connect one.
    NOT_CONNECTED = "not_connected"

    @property
    def waits_for_google_account(self) -> bool:
        """The user must connect (or re-connect) Google before the profile syncs again."""
        return self in {ProfileStatus.NEEDS_REAUTH, ProfileStatus.NOT_CONNECTED}


@frozen
class Notifications:
    """The user's two switches: problems by email, and the full trace of every run."""

    warnings_and_errors: bool = False
    verbose: bool = False


def _policy(value: PolicyLike) -> ConflictPolicy:
    return as_policy(value)


@frozen
class SyncOptions:
    """What one user chose to sync and how.

    Attributes:
        inbound_calendar: items made in Google come back as unlinked appointments, and Google
            edits to synced items come back per the field rules.
        contacts: the client sync group goes to Google Contacts.
        inbound_contacts: edits and new contacts in the Google group come back.
        client_group: the name of the host's client sync group (also the Google group name).
        initial_sync_pending: the host's "first time" switch; calsync reports when it may be
            cleared.
        window: the span of time synced.
        templates: what Google shows for each item kind.
        conflict_policy: who wins a field both sides changed (default: the host, reported).
        deletion_rules: deletion behaviour and the mass-deletion hold.
        field_rules: the direction of each synced field per kind of item.
        notifications: the user's email switches.
        wording: the host's names for its screens in messages to the user (see
            :mod:`calsync.wording`).
        cleanup_old_calendar: when the user switches to another Google calendar, delete the
            events calsync made in the old one (never an event calsync did not create). Off by
            default: the old calendar is left as it is.
    """

    inbound_calendar: bool = False
    contacts: bool = False
    inbound_contacts: bool = False
    client_group: str | None = None
    initial_sync_pending: bool = True
    window: SyncWindow = SyncWindow()
    templates: TemplateSet = DEFAULT_TEMPLATES
    conflict_policy: ConflictPolicy = field(default=host_wins, converter=_policy)
    deletion_rules: DeletionRules = DeletionRules()
    field_rules: FieldRules = FieldRules()
    notifications: Notifications = Notifications()
    wording: Wording = DEFAULT_WORDING
    cleanup_old_calendar: bool = False

    def __attrs_post_init__(self) -> None:
        if self.contacts and not (self.client_group or "").strip():
            raise ConfigurationError("contacts sync is on but no client sync group is chosen")
        if self.inbound_contacts and not self.contacts:
            raise ConfigurationError("inbound contacts needs contacts sync on")


@frozen
class SyncProfile:
    """One staff user's Google Sync.

    Attributes:
        id: a stable namespace for this user's sync (e.g. ``"studio42.user7"``). It seeds the
            deterministic remote ids and the ownership markers, so it must never change for the
            life of the sync.
        user_id: the host's user id, passed to the host adapters.
        calendar_id: the chosen Google calendar, ``None`` until one is chosen.
        options: what the user chose.
        email: where notifications go.
        enabled: the user's "sync on" switch.
        status: set by calsync when a profile cannot sync (connect or re-authorise Google,
            choose a calendar).
        name: the user's name as the host shows it, for logs and the operator (optional).
    """

    id: str
    user_id: str
    calendar_id: str | None
    options: SyncOptions = SyncOptions()
    email: str = ""
    enabled: bool = True
    status: ProfileStatus = ProfileStatus.OK
    name: str = ""

    def __attrs_post_init__(self) -> None:
        if not _PROFILE_ID.match(self.id):
            raise ConfigurationError(
                f"profile id {self.id!r}: use 1-200 letters, digits and . _ : @ -"
            )

    def held_back(self, *, status_too: bool = True) -> str | None:
        """Why the profile is not to be synced now, or ``None``: its sync is off, the user
        must act first (connect or re-authorise Google, choose a calendar; only with
        ``status_too``: an explicit run may find the account works again), or it has
        nothing to sync (no calendar chosen, contacts off)."""
        if not self.enabled:
            return "sync is off"
        if status_too and self.status is not ProfileStatus.OK:
            return f"the user must act first ({self.status.value})"
        if self.calendar_id is None and not self.options.contacts:
            return "nothing to sync: no calendar is chosen and contact sync is off"
        return None


class ProfileStore(abc.ABC):
    """Where the host keeps its users' Google Sync preferences (the host implements it).

    The sync processor reads the profiles from here and writes back the two things only calsync
    can know: that the initial sync succeeded, and that a profile cannot sync until the user
    acts (connect or re-authorise Google, choose a calendar again).
    """

    @abc.abstractmethod
    def profiles(self) -> Iterable[SyncProfile]:
        """Every user's profile, with sync on or off."""

    @abc.abstractmethod
    def initial_sync_done(self, profile_id: str) -> None:
        """Clear the profile's "first time" switch: its initial sync has succeeded."""

    @abc.abstractmethod
    def set_status(self, profile_id: str, status: ProfileStatus, message: str) -> None:
        """Record why a profile cannot sync, or ``ProfileStatus.OK`` again.

        ``CALENDAR_GONE`` means the user must choose a calendar: the host should clear the
        profile's calendar and set its "first time" switch, so the next sync re-populates.
        ``NEEDS_REAUTH`` means the user must authorise Google again, ``NOT_CONNECTED`` that
        they never connected a Google account; :meth:`account_connected` sets either back to
        ``OK`` once they have (``calsync.google.auth.connect_account`` calls it).
        """

    def account_connected(self, profile_id: str) -> None:
        """The user connected Google (again): a ``NEEDS_REAUTH`` or ``NOT_CONNECTED`` status
        goes back to ``OK``, so the next round syncs them. Any other status is kept
        (``CALENDAR_GONE`` waits for a calendar to be chosen).

        The default reads the status from :meth:`profiles` and calls :meth:`set_status`;
        override it when the host can do that in one step.

        Raises:
            KeyError: there is no profile ``profile_id``.
        """
        for profile in self.profiles():
            if profile.id == profile_id:
                if profile.status.waits_for_google_account:
                    self.set_status(profile_id, ProfileStatus.OK, "")
                return
        raise KeyError(profile_id)

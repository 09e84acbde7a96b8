"""The words calsync's messages use for the host's screens, in one place.

Messages that tell a user what to do name a screen of the host ("re-authenticate Google in
User Preferences"). A host whose screens are called something else gives its own
:class:`Wording` in the profile's options (``SyncOptions(wording=Wording(...))``), usually once
in the defaults every profile starts from; the processor's reports and the emails use it.

    Wording(preferences="My Account > Google", sync_settings="the Google page of My Account")
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from calsync.model import Channel

__all__ = ["DEFAULT_WORDING", "Wording"]


@frozen
class Wording:
    """The host's names for its screens, and the messages built from them.

    Attributes:
        preferences: where a user connects their Google account and chooses the calendar.
        sync_settings: where a user confirms deletions held back by the mass-deletion rule.
    """

    preferences: str = "User Preferences"
    sync_settings: str = "the studio's Google Sync settings"

    # -- the status messages a report carries (short, one line) ------------------------------

    @property
    def reauthorise(self) -> str:
        """Google refused the saved authorisation."""
        return (
            f"Google refused the saved authorisation: re-authenticate Google in {self.preferences}"
        )

    @property
    def calendar_gone(self) -> str:
        """The chosen calendar was deleted."""
        return (
            f"the Google calendar was deleted: choose a calendar in {self.preferences} to start "
            "over (nothing in the studio was changed)"
        )

    @property
    def not_connected(self) -> str:
        """Sync is on but no Google account was ever connected."""
        return f"no Google account is connected: connect your Google account in {self.preferences}"

    def not_authorised(self, channel: Channel) -> str:
        """The Google account is connected without access to what ``channel`` syncs."""
        sync, what, allow = _ACCESS[channel]
        return (
            f"{sync} is waiting for access to {what}: reconnect Google in {self.preferences} "
            f"and allow {allow}; everything else keeps syncing"
        )

    def allow_request(self, channels: Iterable[Channel]) -> str:
        """What a user whose Google account lacks access to ``channels`` is asked (an email's
        subject)."""
        allow = " and ".join(_ACCESS[channel][2] for channel in channels)
        return f"please reconnect Google and allow {allow}"

    # -- what the email says the user can do (sentences) ------------------------------------

    @property
    def reauthorise_advice(self) -> str:
        return (
            "Google no longer accepts calsync's authorisation. Re-authenticate Google in "
            f"{self.preferences}; syncing resumes after that."
        )

    @property
    def calendar_gone_advice(self) -> str:
        return (
            f"Your Google calendar was deleted. Choose a calendar in {self.preferences} to start "
            "over; nothing in the studio was changed."
        )

    @property
    def not_connected_advice(self) -> str:
        return (
            f"Google Sync is on but no Google account is connected. Connect your Google account "
            f"in {self.preferences}; syncing starts after that."
        )

    def not_authorised_advice(self, channel: Channel) -> str:
        sync, what, allow = _ACCESS[channel]
        return (
            f"Your Google account is connected without access to {what}, so {sync} cannot "
            f"start. Connect Google again in {self.preferences} and allow {allow} on Google's "
            f"page; {sync} starts at the next sync after that. Everything else keeps syncing "
            "meanwhile."
        )

    def held_advice(self, count: int) -> str:
        return (
            f"{count} deletions were held back because they would remove a large part of your "
            f"items. If they are intended, confirm them in {self.sync_settings}; otherwise "
            "restore the missing items."
        )


#: Each channel's sync, what it needs access to, and what the user allows on Google's consent
#: page for it.
_ACCESS = {
    Channel.CALENDAR: ("calendar sync", "your Google Calendar", "Calendar"),
    Channel.CONTACTS: ("contact sync", "your Google Contacts", "Contacts"),
}

#: calsync's own wording, used unless the profile's options give another.
DEFAULT_WORDING = Wording()

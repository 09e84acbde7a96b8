"""The example studio on a file, synced with one user's Google account through the real
google-api-python-client against the emulator, as a desktop host runs it; restored from a
backup as a studio is, by copying a file back over it (:meth:`StudioOnFile.restore`)."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Studio

from calsync import SqliteStateStore, SyncEngine, SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.testing import GoogleEmulator

__all__ = ["START", "Clock", "StudioOnFile", "copy_database"]

#: Today at 08:00 UTC: the studio's and the engine's clock start there.
START = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)


class Clock:
    """A clock a test moves on (``clock.now += timedelta(days=2)``)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def copy_database(source: Path, target: Path) -> None:
    """The SQLite online backup of one file into another (what a studio's backup does)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


class StudioOnFile:
    """``email``'s studio in ``tmp/studio.sqlite3`` with calsync's state beside it; the user
    chooses what to sync with :meth:`choose`."""

    def __init__(self, google: GoogleEmulator, tmp: Path, email: str) -> None:
        self.google, self.email = google, email
        self.path, self.clock = tmp / "studio.sqlite3", Clock()
        self.store = SqliteStateStore(tmp / "calsync.sqlite3")
        self._open()
        self.user = self.studio.add_user("Ann Avery", email)
        self.access, _ = google.issue_tokens(email)
        self.account: GoogleAccount = connect(
            Credentials(token=self.access),
            base_url=google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )

    def choose(self, **prefs: Any) -> None:
        """The user's Google Sync preferences: ``prefs``, sync on, with their primary
        calendar."""
        chosen = dataclasses.replace(
            self.studio.google_prefs(self.user), sync_on=True, calendar_id=self.email, **prefs
        )
        self.studio.set_google_prefs(self.user, chosen)

    def _open(self) -> None:
        self.studio = Studio(self.path, clock=self.clock)
        self.profiles = StudioProfiles(self.studio, "lumen")
        schedule, clients = StudioSchedule(self.studio), StudioClients(self.studio)
        self.engine = SyncEngine(self.store, schedule, clients, clock=self.clock)

    def sync(self) -> SyncReport:
        (profile,) = self.profiles.profiles()
        report = self.engine.sync(profile, self.account.calendar, self.account.contacts)
        if report.initial_sync_completed:
            self.profiles.initial_sync_done(profile.id)
        return report

    def back_up(self, backup: Path) -> None:
        copy_database(self.path, backup)

    def restore(self, backup: Path) -> None:
        """The studio's file goes back to ``backup`` (the studio closed meanwhile)."""
        self.studio.close()
        copy_database(backup, self.path)
        self._open()

    def close(self) -> None:
        self.account.close()
        self.studio.close()
        self.store.close()

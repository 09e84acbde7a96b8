"""The calsync demo: a studio synced with Google (the bundled emulator) by the sync processor.

Run it with ``make demo`` (or ``python examples/demo.py``; ``--json`` for a JSON report).

Everything here is real except Google itself: the studio is the SQLite host in
``examples/studio``, calsync keeps its state in SQLite, OAuth tokens live in a SQLite token store,
and the unchanged google-api-python-client talks HTTP to ``calsync.testing.GoogleEmulator`` on
127.0.0.1. The demo plays four rounds of the sync processor:

1. the initial sync of three staff users: Ann (calendar plus her "Weddings 2027" client group in
   Google Contacts), Ben (calendar synced both ways) and Cara (calendar out to Google only);
2. changes on both sides: the studio moves a session, adds an appointment and changes a client's
   phone; in Google, Ben adds an event and moves one, Ann deletes a session (calsync puts it
   back and warns her); Cara revokes calsync's access to her Google account;
3. Ben converts the Google-made (unlinked) appointment into a session for a client, which
   updates the same Google event; Cara authorises Google again and catches up;
4. nothing changed: zero writes.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import Span, Studio
from studio.seed import USERS, SeededStudio, seed_demo_studio

from calsync import Side, SqliteStateStore, SyncEngine, SyncProfile, SyncReport
from calsync.config import GoogleSettings, google_connector
from calsync.google import SqliteTokenStore, build_calendar_service, connect_account
from calsync.notify import EmailNotifier, SmtpSettings
from calsync.processor import SyncProcessor
from calsync.testing import GoogleEmulator

STUDIO_NAME = "lumen"
OPERATIONS = ("created", "updated", "deleted", "restored")


class Outbox(EmailNotifier):
    """The email notifier, composing the real messages; the demo has no mail server, so it
    keeps them to print instead of sending them."""

    def __init__(self) -> None:
        super().__init__(SmtpSettings(host="localhost", sender="sync@lumen-studio.example"))
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)


class Demo:
    """The demo studio, its users' Google accounts and the processor that syncs them."""

    def __init__(self, workdir: Path, google: GoogleEmulator) -> None:
        self.google = google
        self.studio = Studio(workdir / "studio.sqlite3")
        self.now = datetime.now(UTC)
        self.seeded: SeededStudio = seed_demo_studio(self.studio, now=self.now)
        self.users = self.seeded.users  # short name -> studio user id
        self.profiles = StudioProfiles(self.studio, STUDIO_NAME)
        self.tokens = SqliteTokenStore(workdir / "tokens.sqlite3")
        for name in self.users:
            self.authorise(name)
        engine = SyncEngine(
            SqliteStateStore(workdir / "calsync.sqlite3"),
            StudioSchedule(self.studio),
            StudioClients(self.studio),
        )
        settings = GoogleSettings(
            client_id="lumen-desktop",
            client_secret="demo-secret",
            tokens=workdir / "tokens.sqlite3",
            base_url=google.base_url,
        )
        self.outbox = Outbox()
        self.processor = SyncProcessor(
            engine, self.profiles, google_connector(settings), notifier=self.outbox, interval=0
        )

    # -- the people involved ---------------------------------------------------------------

    def profile_id(self, name: str) -> str:
        return self.profiles.profile_id(self.users[name])

    def authorise(self, name: str) -> None:
        """What "Authorise Google" in User Preferences does once Google said yes: one call
        stores the user's new tokens and sets a "re-authorise" status back to OK."""
        access, refresh = self.google.issue_tokens(USERS[name][1])
        credentials = Credentials(access, refresh_token=refresh)  # what the OAuth flow returns
        connect_account(self.tokens, self.profile_id(name), credentials, self.profiles)

    def revoke(self, name: str) -> None:
        """The user removes calsync's access in their Google account settings."""
        stored = self.tokens.load(self.profile_id(name))
        if stored is None or stored.refresh_token is None:
            raise LookupError(f"{name} has no stored authorisation")
        self.google.revoke_refresh_token(stored.refresh_token)
        self.google.expire_access_tokens()  # the other users' clients simply refresh

    def in_google(self, name: str) -> Any:
        """The user's Google Calendar, as they would edit it on their phone."""
        access, _ = self.google.issue_tokens(USERS[name][1])
        return build_calendar_service(Credentials(access), base_url=self.google.base_url)

    def google_event(self, name: str, title: str) -> dict[str, Any]:
        listing = self.in_google(name).events().list(calendarId="primary", q=title).execute()
        return next(e for e in listing.get("items", []) if title in e.get("summary", ""))

    # -- the story -------------------------------------------------------------------------

    def changes_on_both_sides(self) -> list[str]:
        ann = self.users["ann"]
        engagement = self.seeded.sessions[0]  # Ann: Harriet's engagement
        moved = self.studio.session(engagement)
        assert moved is not None
        self.studio.update_session(engagement, span=_later(moved.span, hours=1))
        day = self.now.date() + timedelta(days=10)
        self.studio.add_appointment(ann, "Print order pick-up", Span(day, day + timedelta(1)))
        self.studio.update_client(self.seeded.clients["harriet"], phone="+44 20 7946 0999")

        calendar = self.in_google("ben")
        start = (self.now + timedelta(days=4)).replace(hour=15, minute=0, second=0, microsecond=0)
        calendar.events().insert(
            calendarId="primary",
            body={
                "summary": "Call Sofia about the engagement shoot",
                "start": {"dateTime": start.isoformat(), "timeZone": "America/New_York"},
                "end": {
                    "dateTime": (start + timedelta(minutes=30)).isoformat(),
                    "timeZone": "America/New_York",
                },
            },
        ).execute()
        service = self.google_event("ben", "Camera service")
        first = datetime.fromisoformat(service["start"]["date"]).date() + timedelta(days=1)
        calendar.events().patch(
            calendarId="primary",
            eventId=service["id"],
            body={
                "start": {"date": first.isoformat()},
                "end": {"date": (first + timedelta(days=1)).isoformat()},
            },
        ).execute()
        headshots = self.google_event("ann", "Headshots")
        self.in_google("ann").events().delete(
            calendarId="primary", eventId=headshots["id"]
        ).execute()
        self.revoke("cara")
        return [
            "studio: Ann's engagement session with Harriet moved an hour later",
            "studio: Ann added an all-day 'Print order pick-up'",
            "studio: Harriet's phone number changed (Ann's contacts; Ann's and Cara's sessions)",
            "Google: Ben added 'Call Sofia about the engagement shoot'",
            "Google: Ben moved 'Camera service' a day later",
            "Google: Ann deleted her 'Headshots' session",
            "Google: Cara revoked calsync's access to her account",
        ]

    def convert_and_reauthorise(self) -> list[str]:
        ben = self.users["ben"]
        first, last = self.now.date(), self.now.date() + timedelta(days=60)
        unlinked = next(
            a for a in self.studio.appointments_between(ben, first, last) if a.kind == "unlinked"
        )
        self.studio.convert_to_session(unlinked.id, self.seeded.clients["sofia"], "Consultation")
        self.authorise("cara")
        return [
            f"studio: Ben converted the unlinked '{unlinked.title}' into a session for Sofia",
            "studio: Cara authorised Google again in User Preferences",
        ]

    def run(self, title: str, changes: list[str]) -> dict[str, Any]:
        """One round of the processor, described per user."""
        self.google.reset_stats()
        mail_before = len(self.outbox.messages)
        wall, cpu = time.perf_counter(), time.process_time()
        runs = self.processor.run_once()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats = self.google.stats()
        profiles = {p.id: p for p in self.profiles.profiles()}
        users = {}
        for name in self.users:
            profile = profiles[self.profile_id(name)]
            run = runs.get(profile.id)
            users[name] = _user_view(profile, run.report if run else None, run and run.skipped)
            account = self.google.account(USERS[name][1])
            users[name]["in_google"] = {
                "events": len(account.primary.live_events()),
                "contacts": len(account.contacts),
            }
        mail = self.outbox.messages[mail_before:]
        return {
            "run": title,
            "changes": changes,
            "users": users,
            "emails": [{"to": m["To"], "subject": m["Subject"]} for m in mail],
            "emulator": {"http_requests": stats["http_requests"], "api_calls": stats["api_calls"]},
            "seconds": {"wall": round(wall, 3), "cpu": round(cpu, 3)},
        }

    def play(self) -> list[dict[str, Any]]:
        rounds = [self.run("initial sync", [])]
        rounds.append(self.run("changes on both sides", self.changes_on_both_sides()))
        unlinked = self.unlinked_event_id("ben")
        rounds.append(self.run("conversion and re-authorisation", self.convert_and_reauthorise()))
        converted = self.in_google("ben").events().get(calendarId="primary", eventId=unlinked)
        rounds[2]["ben_event_after_conversion"] = converted.execute()["summary"]
        rounds.append(self.run("nothing changed", []))
        return rounds

    def unlinked_event_id(self, name: str) -> str:
        """The Google event behind the user's unlinked appointment."""
        first, last = self.now.date(), self.now.date() + timedelta(days=60)
        appointments = self.studio.appointments_between(self.users[name], first, last)
        found = next(a.google_event_id for a in appointments if a.kind == "unlinked")
        if found is None:
            raise LookupError("the unlinked appointment has no Google event")
        return found


def _later(span: Span, *, hours: int) -> Span:
    step = timedelta(hours=hours)
    return Span(span.start + step, span.end + step, span.time_zone)


def _user_view(profile: SyncProfile, report: SyncReport | None, skipped: str | None) -> Any:
    view: dict[str, Any] = {
        "profile": profile.id,
        "status": profile.status.value,
        "skipped": skipped or (None if report else "not eligible: " + profile.status.value),
    }
    if report is None:
        return view
    view["google"] = {op: report.count(Side.REMOTE, op) for op in OPERATIONS}
    view["studio"] = {op: report.count(Side.HOST, op) for op in OPERATIONS}
    view["writes"] = report.writes
    view["conflicts"] = [c.to_dict() for c in report.conflicts]
    view["warnings"] = list(report.warnings)
    view["errors"] = [e.to_dict() for e in report.errors]
    view["held_deletions"] = len(report.held)
    view["failed"] = report.fatal
    view["needs_reauth"] = report.needs_reauth
    view["initial_sync_completed"] = report.initial_sync_completed
    return view


def _counts(counts: dict[str, int]) -> str:
    done = [f"{n} {op}" for op, n in counts.items() if n]
    return ", ".join(done) or "nothing"


def print_round(number: int, data: dict[str, Any], write: Callable[[str], None]) -> None:
    write(f"== Round {number}: {data['run']} ==")
    for change in data["changes"]:
        write(f"  * {change}")
    for name, user in data["users"].items():
        write(f"  {USERS[name][0]} ({user['profile']}):")
        if "google" not in user:
            write(f"      not synced: {user['skipped']}")
            continue
        if user["failed"]:
            write(f"      FAILED: {user['failed']} (status now: {user['status']})")
        else:
            write(f"      Google: {_counts(user['google'])}")
            write(f"      studio: {_counts(user['studio'])}")
        held = user["in_google"]
        write(f"      in Google now: {held['events']} events, {held['contacts']} contacts")
        for warning in user["warnings"]:
            write(f"      warning: {warning}")
        for error in user["errors"]:
            write(f"      error: {error['item']}: {error['message']}")
        for conflict in user["conflicts"]:
            write(f"      conflict on {conflict['item']} {conflict['field']}: {conflict['winner']}")
    for mail in data["emails"]:
        write(f"  email to {mail['to']}: {mail['subject']}")
    if "ben_event_after_conversion" in data:
        write(f"  Ben's Google event is now: {data['ben_event_after_conversion']!r}")
    google = data["emulator"]
    write(
        f"  Google: {google['http_requests']} HTTP requests, {google['api_calls']} API calls;"
        f" {data['seconds']['wall']:.2f} s"
    )
    write("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    # the report below says what went wrong; the log would only repeat it
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="calsync-demo-") as tmp, GoogleEmulator() as google:
        demo = Demo(Path(tmp), google)
        base_url = google.base_url
        try:
            rounds = demo.play()
        finally:
            demo.studio.close()
    if args.json:
        print(json.dumps(rounds, indent=2))
    else:
        print(f"calsync demo: studio {STUDIO_NAME!r}, Google emulator at {base_url}\n")
        for number, data in enumerate(rounds, start=1):
            print_round(number, data, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A user connected Google without Contacts (contact sync was off, or Contacts unticked on the
consent page); then contact sync is turned on. Google refuses every People call with 403
``ACCESS_TOKEN_SCOPE_INSUFFICIENT``, which calsync took for a refused authorisation: the whole
profile became ``needs_reauth``, its calendar stopped too, and the user was asked to
"re-authenticate" without a word about Contacts. Now the calendar syncs, People is not called
while the stored token says Contacts were not granted, the user is told once what to allow,
and contact sync starts by itself once they have.

End to end: the real desktop flow, the production connector (:func:`google_connector`), the
processor and its notices, on the emulator with the real google-api-python-client."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from mailbox import Mailbox
from pathlib import Path

import attrs
import pytest
from oauth_client import emulator_client
from studio_world import StudioBuilders

from calsync import MemoryStateStore, Notifications, SyncEngine, SyncOptions, SyncProfile
from calsync.config import GoogleSettings, google_connector
from calsync.google.account import connect
from calsync.google.auth import CONTACTS, DEFAULT_SCOPES, load_credentials, run_desktop_flow
from calsync.model import Channel
from calsync.processor import ProfileRun, SyncProcessor
from calsync.profile import ProfileStatus
from calsync.testing import MemoryContactSource, MemoryProfileStore, MemoryScheduleSource
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore, StoredToken
from calsync.wording import DEFAULT_WORDING

pytestmark = pytest.mark.emulator

ANN = "ann@studio.example"
PROFILE = "studio.ann"
GROUP = "Weddings 2027"
WITHOUT_CONTACTS = [scope for scope in DEFAULT_SCOPES if scope != CONTACTS]
WAITING = DEFAULT_WORDING.not_authorised(Channel.CONTACTS)


def consenting_to(granted: list[str]) -> Callable[[str], None]:
    """A browser whose user allows only ``granted`` on Google's consent page."""

    def browser(url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query), scope=" ".join(granted))
        consent = parts._replace(query=urllib.parse.urlencode(query)).geturl()

        def visit() -> None:
            with urllib.request.urlopen(consent, timeout=10) as answer:
                answer.read()

        threading.Thread(target=visit, daemon=True).start()

    return browser


class Studio:
    """Ann, with one session and one client in her sync group, synced by a processor that
    mails her about problems; her Google tokens live in ``tokens``."""

    def __init__(
        self, google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        self.google = google
        self.client = emulator_client(google, monkeypatch, "calsync-desktop.apps.example")
        studio = StudioBuilders(datetime.now(UTC))
        self.schedule = MemoryScheduleSource()
        self.schedule.add("ann", studio.session("s1"))
        self.clients = MemoryContactSource()
        self.clients.add("ann", studio.client("c1", "Bea"), groups=[GROUP])
        options = SyncOptions(notifications=Notifications(warnings_and_errors=True))
        self.profiles = MemoryProfileStore([SyncProfile(PROFILE, "ann", None, options, email=ANN)])
        self.tokens = MemoryTokenStore()
        self.mailbox = Mailbox()
        settings = GoogleSettings(
            self.client.client_id, "not-a-secret", tmp_path / "unused.sqlite3", google.base_url
        )
        engine = SyncEngine(MemoryStateStore(), self.schedule, self.clients)
        self.processor = SyncProcessor(
            engine, self.profiles, google_connector(settings, self.tokens), notifier=self.mailbox
        )

    def authorize(self, granted: list[str], required: list[str]) -> None:
        """Ann connects Google (the desktop flow), allowing only ``granted``."""
        run_desktop_flow(
            self.client,
            self.tokens,
            PROFILE,
            open_url=consenting_to(granted),
            timeout_seconds=10,
            login_hint=ANN,
            profiles=self.profiles,
            required=required,
        )

    def choose_a_new_calendar(self) -> str:
        """Ann has calsync create a dedicated calendar and chooses it."""
        credentials = load_credentials(self.tokens, PROFILE, self.client)
        account = connect(credentials, base_url=self.google.base_url)
        try:
            calendar_id = account.calendar.create_calendar("Studio", "Europe/London").id
        finally:
            account.close()
        self.profiles.put(attrs.evolve(self.profiles.get(PROFILE), calendar_id=calendar_id))
        return calendar_id

    def turn_contact_sync_on(self) -> None:
        profile = self.profiles.get(PROFILE)
        options = attrs.evolve(profile.options, contacts=True, client_group=GROUP)
        self.profiles.put(attrs.evolve(profile, options=options))

    def run(self) -> ProfileRun:
        return self.processor.run_profile(self.profiles.get(PROFILE))

    def people_calls(self) -> dict[str, int]:
        methods: dict[str, int] = self.google.stats()["methods"]
        return {method: n for method, n in methods.items() if method.startswith("people.")}

    def contacts_in_google(self) -> list[str]:
        people = self.google.account(ANN).contacts.values()
        return sorted(person["names"][0]["givenName"] for person in people)


@pytest.fixture
def studio(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Studio:
    return Studio(google, monkeypatch, tmp_path)


def test_the_calendar_syncs_and_people_is_not_called_while_contacts_are_not_granted(
    studio: Studio,
) -> None:
    studio.authorize(WITHOUT_CONTACTS, required=WITHOUT_CONTACTS)  # contact sync was off
    calendar_id = studio.choose_a_new_calendar()
    studio.turn_contact_sync_on()
    studio.google.reset_stats()

    first, second = studio.run(), studio.run()

    assert first.report is not None
    assert second.report is not None
    assert (first.report.ok, first.status) == (True, ProfileStatus.OK), first.report.summary()
    assert first.report.not_authorised == [Channel.CONTACTS]
    assert first.report.to_dict()["not_authorised"] == ["contacts"]
    assert WAITING in first.report.warnings
    assert not first.report.needs_reauth
    assert studio.profiles.get(PROFILE).status is ProfileStatus.OK
    assert len(studio.google.account(ANN).calendar(calendar_id).live_events()) == 1
    assert studio.people_calls() == {}
    assert second.report.not_authorised == [Channel.CONTACTS]
    assert studio.mailbox.subjects == [
        "Google Sync problems: please reconnect Google and allow Contacts"
    ]
    body = studio.mailbox.messages[0].get_content()
    assert DEFAULT_WORDING.not_authorised_advice(Channel.CONTACTS) in body
    assert "re-authenticate" not in body


def test_contact_sync_starts_once_the_user_reconnects_allowing_contacts(studio: Studio) -> None:
    studio.authorize(WITHOUT_CONTACTS, required=WITHOUT_CONTACTS)
    calendar_id = studio.choose_a_new_calendar()
    studio.turn_contact_sync_on()
    studio.run()

    studio.authorize(list(DEFAULT_SCOPES), required=list(DEFAULT_SCOPES))  # Contacts allowed
    run = studio.run()

    assert run.report is not None
    assert (run.report.ok, run.report.not_authorised) == (True, []), run.report.summary()
    assert studio.contacts_in_google() == ["Bea"]
    assert len(studio.google.account(ANN).calendar(calendar_id).live_events()) == 1
    assert studio.mailbox.subjects == [
        "Google Sync problems: please reconnect Google and allow Contacts",
        "Google Sync is working again",
    ]


def test_a_token_stored_without_its_scopes_is_told_apart_by_googles_refusal(
    studio: Studio,
) -> None:
    studio.authorize(WITHOUT_CONTACTS, required=WITHOUT_CONTACTS)
    calendar_id = studio.choose_a_new_calendar()
    studio.turn_contact_sync_on()
    saved = studio.tokens.load(PROFILE)
    assert saved is not None
    studio.tokens.save(PROFILE, StoredToken(saved.refresh_token, saved.access_token))  # as old
    studio.google.reset_stats()

    first, second = studio.run(), studio.run()

    assert first.report is not None
    assert second.report is not None
    assert (first.report.ok, first.report.not_authorised) == (True, [Channel.CONTACTS]), (
        first.report.summary()
    )
    assert not first.report.needs_reauth
    assert studio.profiles.get(PROFILE).status is ProfileStatus.OK
    assert len(studio.google.account(ANN).calendar(calendar_id).live_events()) == 1
    assert studio.google.stats()["scope_rejections"] == 2  # Google said so, once a run
    assert studio.mailbox.subjects == [
        "Google Sync problems: please reconnect Google and allow Contacts"
    ]


def test_a_contacts_only_token_syncs_contacts_and_a_chosen_calendar_waits_for_access(
    studio: Studio,
) -> None:
    access, refresh = studio.google.issue_tokens(ANN, CONTACTS)
    studio.tokens.save(PROFILE, StoredToken(refresh, access, None, (CONTACTS,)))
    studio.turn_contact_sync_on()  # no calendar chosen: the calendar channel is off

    contacts_only = studio.run()
    studio.profiles.put(attrs.evolve(studio.profiles.get(PROFILE), calendar_id="primary"))
    studio.google.reset_stats()
    both = studio.run()

    assert contacts_only.report is not None
    assert both.report is not None
    assert contacts_only.report.not_authorised == []
    assert (both.report.ok, both.report.not_authorised) == (True, [Channel.CALENDAR]), (
        both.report.summary()
    )
    assert DEFAULT_WORDING.not_authorised(Channel.CALENDAR) in both.report.warnings
    assert studio.profiles.get(PROFILE).status is ProfileStatus.OK
    assert studio.contacts_in_google() == ["Bea"]
    assert studio.google.account(ANN).primary.events == {}
    assert not any(m.startswith("calendar.") for m in studio.google.stats()["methods"])

"""Fixtures for the Google backend tests: one emulator per session (reset for every test that
uses it), backends on the real google-api-python-client, and drivers that play the Google user.

The drivers act through the API with the user's own token, as Google's web UI would; they never
touch the emulator's state behind its back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from google.oauth2.credentials import Credentials
from studio_world import Clock, StudioBuilders, SyncedUser

from calsync import (
    MemoryStateStore,
    StateStore,
    SyncOptions,
    SyncProfile,
)
from calsync.backends import CalendarBackend, ContactsBackend, RemoteContact, RemoteEvent
from calsync.google.account import GoogleAccount, connect
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.contacts import MY_CONTACTS, GoogleContactsBackend
from calsync.google.pacing import QuotaPacer, unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service, build_people_service
from calsync.google.translate import (
    Skipped,
    contact_from_json,
    event_body,
    event_from_json,
    person_body,
)
from calsync.model import ContactFields, EventFields, Marker
from calsync.testing import MemoryContactSource, MemoryScheduleSource
from calsync.testing.emulator import GoogleEmulator

_users = itertools.count(1)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as google:
        yield google


@pytest.fixture
def google(emulator_server: GoogleEmulator) -> GoogleEmulator:
    """The emulator, fresh: no accounts, faults, quota or counts."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def token() -> str:
    """A bearer token of a new Google account (the emulator makes it on first use)."""
    return f"user{next(_users)}"


@pytest.fixture
def account_for(google: GoogleEmulator) -> Callable[..., GoogleAccount]:
    """Both backends for a token: no pacing and no sleeping unless asked for."""

    def make(token: str, *, pacer: QuotaPacer | None = None, **options: Any) -> GoogleAccount:
        options.setdefault("retrying", no_wait_retrying())
        return connect(
            Credentials(token=token),
            base_url=google.base_url,
            pacer=pacer or unpaced(),
            **options,
        )

    return make


class CalendarUser:
    """The Google user editing their calendar (through the API, as the web UI does)."""

    def __init__(self, google: GoogleEmulator, token: str) -> None:
        self.google = google
        self.token = token
        self.service = build_calendar_service(Credentials(token=token), base_url=google.base_url)

    def events(self) -> Any:
        return self.service.events()

    def _remote(self, data: Any) -> RemoteEvent:
        event = event_from_json(data)
        assert not isinstance(event, Skipped), event
        return event

    def external_create(
        self,
        calendar_id: str,
        fields: EventFields,
        *,
        event_id: str | None = None,
        event_type: str = "default",
        marker: Marker | None = None,
        **raw: Any,
    ) -> RemoteEvent:
        body = event_body(fields, marker, event_id=event_id or "unused0")
        if event_id is None:
            del body["id"]
        if event_type != "default":
            body["eventType"] = event_type
        body.update(raw)
        data = self.events().insert(calendarId=calendar_id, body=body).execute()
        return self._remote(data)

    def external_update(self, calendar_id: str, event_id: str, **changes: Any) -> RemoteEvent:
        current = self.events().get(calendarId=calendar_id, eventId=event_id).execute()
        fields = self._remote(current).fields
        assert fields is not None
        body = event_body(attrs.evolve(fields, **changes), None)
        data = self.events().patch(calendarId=calendar_id, eventId=event_id, body=body).execute()
        return self._remote(data)

    def patch(self, calendar_id: str, event_id: str, body: dict[str, Any]) -> Any:
        request = self.events().patch(calendarId=calendar_id, eventId=event_id, body=body)
        return request.execute()

    def insert_raw(self, calendar_id: str, body: dict[str, Any]) -> Any:
        return self.events().insert(calendarId=calendar_id, body=body).execute()

    def external_delete(self, calendar_id: str, event_id: str) -> None:
        self.events().delete(calendarId=calendar_id, eventId=event_id).execute()

    def expire_cursors(self) -> None:
        self.google.expire_sync_tokens()

    def delete_calendar(self, calendar_id: str) -> None:
        self.google.delete_calendar(self.token, calendar_id)

    def live_events(self, calendar_id: str) -> list[dict[str, Any]]:
        return self.google.account(self.token).calendar(calendar_id).live_events()


class ContactsUser:
    """The Google user editing their contacts (through the API)."""

    def __init__(self, google: GoogleEmulator, token: str) -> None:
        self.google = google
        self.token = token
        self.service = build_people_service(Credentials(token=token), base_url=google.base_url)

    def _remote(self, data: Any, group: str = "") -> RemoteContact:
        contact = contact_from_json(data, group)
        assert not isinstance(contact, Skipped), contact
        return contact

    def external_create(
        self, fields: ContactFields, groups: Iterable[str] = (), marker: Marker | None = None
    ) -> RemoteContact:
        body = person_body(fields, marker=marker, groups=[MY_CONTACTS, *groups])
        data = self.service.people().createContact(body=body, personFields="names").execute()
        return self._person(data["resourceName"])

    def _person(self, name: str) -> RemoteContact:
        fields = "names,organizations,phoneNumbers,emailAddresses,addresses,biographies,"
        fields += "memberships,clientData,metadata"
        data = self.service.people().get(resourceName=name, personFields=fields).execute()
        return self._remote(data)

    def external_update(self, contact_id: str, **changes: Any) -> RemoteContact:
        current = self._person(contact_id)
        assert current.fields is not None
        body = person_body(attrs.evolve(current.fields, **changes), etag=current.etag)
        mask = "names,organizations,phoneNumbers,emailAddresses,addresses,biographies"
        self.service.people().updateContact(
            resourceName=contact_id, updatePersonFields=mask, body=body
        ).execute()
        return self._person(contact_id)

    def external_delete(self, contact_id: str) -> None:
        self.service.people().deleteContact(resourceName=contact_id).execute()

    def external_remove_from_group(self, contact_id: str, group: str) -> None:
        body = {"resourceNamesToRemove": [contact_id]}
        self.service.contactGroups().members().modify(resourceName=group, body=body).execute()

    def external_delete_group(self, group: str) -> None:
        self.service.contactGroups().delete(resourceName=group).execute()

    def external_add_to_group(self, contact_id: str, group: str) -> None:
        body = {"resourceNamesToAdd": [contact_id]}
        self.service.contactGroups().members().modify(resourceName=group, body=body).execute()

    def expire_cursors(self) -> None:
        self.google.expire_sync_tokens()

    def contacts(self) -> dict[str, dict[str, Any]]:
        return self.google.account(self.token).contacts


@pytest.fixture
def calendar_user(google: GoogleEmulator, token: str) -> CalendarUser:
    return CalendarUser(google, token)


@pytest.fixture
def contacts_user(google: GoogleEmulator, token: str) -> ContactsUser:
    return ContactsUser(google, token)


@pytest.fixture
def calendar_backend(google: GoogleEmulator, token: str) -> GoogleCalendarBackend:
    service = build_calendar_service(Credentials(token=token), base_url=google.base_url)
    return GoogleCalendarBackend(service, pacer=unpaced(), retrying=no_wait_retrying())


@pytest.fixture
def contacts_backend(google: GoogleEmulator, token: str) -> GoogleContactsBackend:
    service = build_people_service(Credentials(token=token), base_url=google.base_url)
    return GoogleContactsBackend(service, pacer=unpaced(), retrying=no_wait_retrying())


# -- a studio user synced with Google through the engine -----------------------------------

#: The studio side of these tests is dated in 2031 (the emulator's calendars are empty then).
STUDIO = StudioBuilders(datetime(2031, 3, 2, 8, 0, tzinfo=UTC), group="Weddings 2031")


@attrs.define(kw_only=True)
class GoogleWorld(SyncedUser):
    """One studio user synced with an emulated Google account through the engine."""

    google: GoogleEmulator
    token: str
    account: GoogleAccount
    calendar_user: CalendarUser
    contacts_user: ContactsUser

    @property
    def calendar_id(self) -> str:
        assert self.profile.calendar_id is not None
        return self.profile.calendar_id

    def backends(self) -> tuple[CalendarBackend, ContactsBackend]:
        return self.account.calendar, self.account.contacts

    def events(self) -> list[dict[str, Any]]:
        """The live events stored in the calendar (recurring masters, not instances)."""
        return self.calendar_user.live_events(self.calendar_id)

    def group_members(self) -> dict[str, dict[str, Any]]:
        """Live contacts carrying the Google group's label, by resource name."""
        account = self.google.account(self.token)
        [group] = [g for g in account.contact_groups.values() if g.get("name") == STUDIO.group]
        name = group["resourceName"]
        return {
            key: person
            for key, person in account.contacts.items()
            if any(
                m.get("contactGroupMembership", {}).get("contactGroupResourceName") == name
                for m in person.get("memberships", [])
            )
        }


#: The ``world`` fixture: ``world(inbound_calendar=True, ...)`` makes a :class:`GoogleWorld`.
MakeWorld = Callable[..., GoogleWorld]


@pytest.fixture
def world(
    google: GoogleEmulator,
    token: str,
    account_for: Callable[..., GoogleAccount],
    calendar_user: CalendarUser,
    contacts_user: ContactsUser,
) -> MakeWorld:
    """A factory: ``world(inbound_calendar=True, ...)`` with a new dedicated calendar."""

    def make(*, store: StateStore | None = None, **options: Any) -> GoogleWorld:
        account = account_for(token)
        calendar = account.calendar.create_calendar("Studio", "Europe/London")
        options.setdefault("contacts", True)
        options.setdefault("client_group", STUDIO.group if options["contacts"] else None)
        profile = SyncProfile("studio.u7", STUDIO.user, calendar.id, SyncOptions(**options))
        clock = Clock(STUDIO.now)
        return GoogleWorld(
            clock=clock,
            store=store or MemoryStateStore(),
            schedule=MemoryScheduleSource(now=clock),
            clients=MemoryContactSource(now=clock),
            profile=profile,
            google=google,
            token=token,
            account=account,
            calendar_user=calendar_user,
            contacts_user=contacts_user,
        )

    return make


@pytest.fixture
def studio() -> StudioBuilders:
    """Builders and constants for the studio side of end-to-end tests."""
    return STUDIO

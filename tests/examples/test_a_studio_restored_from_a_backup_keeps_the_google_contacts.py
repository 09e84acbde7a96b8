"""The studio's database restored from a backup, its client group synced both ways with the
user's Google contacts through the real Google client against the emulator: what the Google user
did to the synced contacts since the backup is kept. An edit stays in Google and comes back to
the studio; a contact added to the group stays in it, and the client the studio made from it,
which the restore lost, is made again from it (with a warning that the studio went back in
time); what staff change after the restore still goes out.

Before the studio's clients had a change feed, calsync could not tell the restore: it took the
restored, older clients for the studio's own edits and pushed them to Google (undoing the
Google user's edit), and took the client the restore lost for one staff took out of the group
(taking the Google user's contact out of the group).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from studio.db import Client
from studio_file import StudioOnFile

from calsync import SyncReport
from calsync.google.contacts import MY_CONTACTS
from calsync.google.services import build_people_service
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
EMAIL = "ann@lumen-studio.example"
GROUP = "VIP"
LENA = {
    "names": [{"givenName": "Lena", "familyName": "Holt"}],
    "phoneNumbers": [{"value": "+44 113 496 0100", "type": "mobile"}],
}


class AnnsClients(StudioOnFile):
    """Ann's studio on a file, syncing the "VIP" clients both ways with her Google contacts."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        super().__init__(google, tmp, EMAIL)
        self.ann = self.user
        self.vip = self.studio.add_group(GROUP)
        self.harriet = self.studio.add_client("Harriet", "Moss", phone="+44 20 7946 0001")
        self.studio.add_to_group(self.vip, self.harriet)
        self.choose(sync_contacts=True, sync_back_contacts=True, client_sync_group=GROUP)
        credentials = Credentials(token=self.access)
        self.people = build_people_service(credentials, base_url=google.base_url)

    # -- the Google user ---------------------------------------------------------------

    def _google_group(self) -> str:
        groups = self.google.account(EMAIL).contact_groups
        [group] = [name for name, value in groups.items() if value.get("name") == GROUP]
        return str(group)

    def adds_to_the_group(self, person: dict[str, Any]) -> str:
        memberships = [
            {"contactGroupMembership": {"contactGroupResourceName": name}}
            for name in (MY_CONTACTS, self._google_group())
        ]
        body = {**person, "memberships": memberships}
        made = self.people.people().createContact(body=body, personFields="names").execute()
        return str(made["resourceName"])

    def changes_the_phone(self, resource_name: str, phone: str) -> None:
        current = self.people.people().get(resourceName=resource_name, personFields="names")
        etag = current.execute()["etag"]
        body = {"etag": etag, "phoneNumbers": [{"value": phone, "type": "mobile"}]}
        self.people.people().updateContact(
            resourceName=resource_name, updatePersonFields="phoneNumbers", body=body
        ).execute()

    def contact_of(self, client_name: str) -> str:
        """The Google contact whose given name is ``client_name``."""
        contacts = self.google.account(EMAIL).contacts
        [found] = [
            name
            for name, person in contacts.items()
            if [n.get("givenName") for n in person.get("names", [])] == [client_name]
        ]
        return str(found)

    def phone_in_google(self, resource_name: str) -> str:
        person = self.google.account(EMAIL).contacts[resource_name]
        return str(person["phoneNumbers"][0]["value"])

    def in_the_google_group(self, resource_name: str) -> bool:
        person = self.google.account(EMAIL).contacts[resource_name]
        group = self._google_group()
        return any(
            m.get("contactGroupMembership", {}).get("contactGroupResourceName") == group
            for m in person.get("memberships", [])
        )

    def clients(self) -> dict[str, Client]:
        return {c.first_name: c for c in self.studio.group_members(self.vip)}


@pytest.fixture
def ann(tmp_path: Path) -> Iterator[AnnsClients]:
    with GoogleEmulator() as google:
        world = AnnsClients(google, tmp_path)
        yield world
        world.close()


def _synced_then_backed_up(ann: AnnsClients, tmp_path: Path) -> Path:
    first = ann.sync()
    assert first.ok, first.summary()
    backup = tmp_path / "monday.sqlite3"
    ann.back_up(backup)
    ann.clock.now += timedelta(days=2)
    return backup


def _went_back(report: SyncReport) -> bool:
    return any("went back in time" in warning for warning in report.warnings)


def test_a_google_contact_edit_survives_the_studio_going_back_to_its_backup(
    ann: AnnsClients, tmp_path: Path
) -> None:
    backup = _synced_then_backed_up(ann, tmp_path)
    harriet = ann.contact_of("Harriet")
    ann.changes_the_phone(harriet, "+44 20 7946 0999")
    assert ann.sync().ok
    assert ann.clients()["Harriet"].phone == "+44 20 7946 0999"
    ann.clock.now += timedelta(days=5)
    ann.restore(backup)

    report = ann.sync()

    assert report.ok, report.summary()
    assert ann.phone_in_google(harriet) == "+44 20 7946 0999"
    assert ann.clients()["Harriet"].phone == "+44 20 7946 0999"
    assert _went_back(report), report.warnings
    assert ann.sync().writes == 0


def _lena_added_then_lost(ann: AnnsClients, tmp_path: Path) -> str:
    """Lena, added to the group in Google after the backup and synced to the studio, then
    lost by the studio with its restore."""
    backup = _synced_then_backed_up(ann, tmp_path)
    lena = ann.adds_to_the_group(LENA)
    assert ann.sync().ok
    assert "Lena" in ann.clients()
    ann.clock.now += timedelta(days=5)
    ann.restore(backup)
    return lena


def test_a_contact_added_to_the_google_group_stays_there_when_the_studio_goes_back_to_its_backup(
    ann: AnnsClients, tmp_path: Path
) -> None:
    lena = _lena_added_then_lost(ann, tmp_path)

    report = ann.sync()
    again = ann.sync()

    assert report.ok, report.summary()
    assert ann.in_the_google_group(lena)
    assert _went_back(report), report.warnings
    assert again.writes == 0
    assert ann.in_the_google_group(lena)


def test_a_contact_added_to_the_google_group_comes_back_to_the_restored_studio(
    ann: AnnsClients, tmp_path: Path
) -> None:
    lena = _lena_added_then_lost(ann, tmp_path)

    report = ann.sync()

    assert report.ok, report.summary()
    assert ann.in_the_google_group(lena)
    assert {"Harriet", "Lena"} == set(ann.clients())
    assert ann.clients()["Lena"].phone == "+44 113 496 0100"
    assert ann.contact_of("Lena") == lena  # (no second contact)
    assert not report.held
    assert _went_back(report), report.warnings
    assert ann.sync().writes == 0
    assert {"Harriet", "Lena"} == set(ann.clients())


def test_what_staff_change_after_the_restore_still_reaches_google(
    ann: AnnsClients, tmp_path: Path
) -> None:
    backup = _synced_then_backed_up(ann, tmp_path)
    harriet = ann.contact_of("Harriet")
    ann.changes_the_phone(harriet, "+44 20 7946 0999")
    assert ann.sync().ok
    ann.clock.now += timedelta(days=5)
    ann.restore(backup)
    ann.clock.now += timedelta(hours=1)
    oliver = ann.studio.add_client("Oliver", "Grant", phone="+44 117 496 0744")
    ann.studio.add_to_group(ann.vip, oliver)

    report = ann.sync()

    assert report.ok, report.summary()
    assert ann.phone_in_google(ann.contact_of("Oliver")) == "+44 117 496 0744"
    assert ann.phone_in_google(harriet) == "+44 20 7946 0999"
    assert ann.sync().writes == 0

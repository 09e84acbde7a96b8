"""A contact the Google user adds to the synced group comes to the studio as a client, and its
round trip through the studio never changes it in Google: the studio keeps the labels of its
phone, email and address (``work``), so the run after the client was made writes nothing. An
address with none of the parts the studio keeps (only a PO box, or only Google's one formatted
line) is refused, as a second phone number is: the contact is reported and left as it is in
Google, and no client is made. Synced through the real Google client against the emulator.
An older studio file gains the label columns when opened."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule
from studio.db import SCHEMA_VERSION, Client, Studio

from calsync import MemoryStateStore, SyncEngine, SyncProfile, SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.contacts import MY_CONTACTS
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_people_service
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
GROUP = "VIP"
_accounts = itertools.count(1)

AT_WORK = {
    "names": [{"givenName": "Lena", "familyName": "Holt"}],
    "phoneNumbers": [{"value": "+44 113 496 0100", "type": "work"}],
    "emailAddresses": [{"value": "lena@holt-design.example", "type": "work"}],
    "addresses": [
        {"streetAddress": "5 Wharf Lane", "city": "Leeds", "poBox": "PO Box 12", "type": "work"}
    ],
}
ADDRESSES_WITHOUT_PARTS = {
    "a PO box only": {"poBox": "PO Box 12", "type": "work"},
    "one formatted line only": {"formattedValue": "1 Mill Road, Otley LS21 1AA"},
}
_SYNCED = ("names", "phoneNumbers", "emailAddresses", "addresses")


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


class BenSyncs:
    """Ben's studio, syncing the "VIP" clients both ways with his Google account (a new one
    in the emulator for each test)."""

    def __init__(self, google: GoogleEmulator) -> None:
        self.google = google
        self.email = f"ben{next(_accounts)}@lumen-studio.example"
        self.studio = Studio(":memory:")
        self.ben = self.studio.add_user("Ben", self.email)
        self.studio.add_group(GROUP)
        prefs = dataclasses.replace(
            self.studio.google_prefs(self.ben),
            sync_on=True,
            calendar_id=self.email,
            first_time=False,
            sync_contacts=True,
            sync_back_contacts=True,
            client_sync_group=GROUP,
        )
        self.studio.set_google_prefs(self.ben, prefs)
        access, _ = google.issue_tokens(self.email)
        self.account: GoogleAccount = connect(
            Credentials(token=access),
            base_url=google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )
        self.people = build_people_service(Credentials(token=access), base_url=google.base_url)
        self.engine = SyncEngine(
            MemoryStateStore(), StudioSchedule(self.studio), StudioClients(self.studio)
        )

    def profile(self) -> SyncProfile:
        return StudioProfiles(self.studio, "lumen").profiles()[0]

    def sync(self) -> SyncReport:
        return self.engine.sync(self.profile(), self.account.calendar, self.account.contacts)

    def adds_to_the_group(self, person: dict[str, Any]) -> str:
        """The Google user adds a contact to the synced group (made by the first sync)."""
        account = self.google.account(self.email)
        [group] = [g for g, v in account.contact_groups.items() if v.get("name") == GROUP]
        memberships = [
            {"contactGroupMembership": {"contactGroupResourceName": name}}
            for name in (MY_CONTACTS, group)
        ]
        body = {**person, "memberships": memberships}
        made = self.people.people().createContact(body=body, personFields="names").execute()
        return str(made["resourceName"])

    def person(self, resource_name: str) -> dict[str, Any]:
        """The synced fields of a contact as Google holds them."""
        stored = self.google.account(self.email).contacts[resource_name]
        return {key: stored.get(key) for key in _SYNCED}

    def clients(self) -> list[Client]:
        group = self.studio.group_id(GROUP)
        assert group is not None
        return self.studio.group_members(group)

    def close(self) -> None:
        self.account.close()
        self.studio.close()


@pytest.fixture
def ben(google: GoogleEmulator) -> Iterator[BenSyncs]:
    world = BenSyncs(google)
    assert world.sync().ok  # makes the "VIP" contact group in Google
    yield world
    world.close()


def test_a_google_contact_with_work_labels_comes_back_unchanged_and_the_next_run_writes_nothing(
    ben: BenSyncs,
) -> None:
    made = ben.adds_to_the_group(AT_WORK)
    before = ben.person(made)

    first = ben.sync()
    second = ben.sync()

    assert (first.ok, second.ok) == (True, True), second.summary()
    assert before == ben.person(made)
    assert second.writes == 0, second.summary()
    [client] = ben.clients()
    labels = (client.phone_label, client.email_label, client.address_label)
    assert labels == ("work", "work", "work")


def test_a_label_changed_in_google_reaches_the_studio_and_goes_no_further(ben: BenSyncs) -> None:
    made = ben.adds_to_the_group(AT_WORK)
    ben.sync()
    current = ben.people.people().get(resourceName=made, personFields="phoneNumbers").execute()
    phones = [{"value": "+44 113 496 0100", "type": "home"}]
    ben.people.people().updateContact(
        resourceName=made,
        updatePersonFields="phoneNumbers",
        body={"etag": current["etag"], "phoneNumbers": phones},
    ).execute()
    before = ben.person(made)

    edited = ben.sync()
    after = ben.sync()

    assert (edited.ok, after.ok) == (True, True), after.summary()
    assert [client.phone_label for client in ben.clients()] == ["home"]
    assert before == ben.person(made)
    assert after.writes == 0, after.summary()


@pytest.mark.parametrize("address", sorted(ADDRESSES_WITHOUT_PARTS))
def test_a_google_contact_whose_address_has_no_part_the_studio_keeps_is_refused_and_left_as_is(
    ben: BenSyncs, address: str
) -> None:
    person = {"names": [{"givenName": "Otto"}], "addresses": [ADDRESSES_WITHOUT_PARTS[address]]}
    made = ben.adds_to_the_group(person)
    before = ben.person(made)

    reports = [ben.sync(), ben.sync()]

    assert ben.clients() == []
    assert before == ben.person(made)
    for report in reports:
        assert [made] == [error.item for error in report.errors]
        assert "none of the parts the studio keeps" in report.errors[0].message
        assert report.writes == 0


# -- the schema upgrade ------------------------------------------------------------------


def _as_version_2(path: Path) -> None:
    """Make the studio file at ``path`` what the studio wrote before clients kept labels."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for column in ("phone_label", "email_label", "address_label"):
            db.execute(f"ALTER TABLE clients DROP COLUMN {column}")
        db.execute("ALTER TABLE change_log DROP COLUMN stamp")  # (stamps came later too)
        db.execute("PRAGMA user_version = 2")
    finally:
        db.close()


def test_an_older_studio_file_gives_its_clients_the_labels_they_always_had(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as studio:
        sofia = studio.add_client("Sofia", "Marin", phone="+1 212 555 0147", city="New York")
    _as_version_2(path)

    with Studio(path) as studio:
        client = studio.client(sofia)
    db = sqlite3.connect(path)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()

    assert client is not None
    labels = (client.phone_label, client.email_label, client.address_label)
    assert labels == ("mobile", "home", "home")
    assert version == SCHEMA_VERSION

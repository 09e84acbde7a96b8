"""Two staff users of the example studio, Ann and Bob, sync its "VIP" clients both ways, each
with their own Google account (through the real Google client against the emulator). Ann adds
Lena in Google; the studio makes her a client, and Bob's Google gets a contact for her. The
studio goes back to a backup from before Lena; Ann's sync makes her again, under a new id.

Bob's sync cannot prove that the new Lena is the one it lost (the contact she came from is
Ann's), but she is the same in every synced field: his contact is kept and paired with her,
in either order of the two users' runs. Before, Bob's Google got a second Lena, and the
deletion of the first was held for good ("Add them to the studio again")."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from studio_file import StudioOnFile

from calsync import SyncReport
from calsync.google.account import GoogleAccount, connect
from calsync.google.contacts import MY_CONTACTS
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_people_service
from calsync.testing import GoogleEmulator

pytestmark = pytest.mark.emulator
ANN = "ann@lumen-studio.example"
BOB = "bob@lumen-studio.example"
GROUP = "VIP"
LENA = {
    "names": [{"givenName": "Lena", "familyName": "Holt"}],
    "phoneNumbers": [{"value": "+44 113 496 0100", "type": "mobile"}],
}


class TwoUsers(StudioOnFile):
    """Ann's studio on a file, where Bob works too: both sync the VIP clients both ways."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        super().__init__(google, tmp, ANN)
        self.vip = self.studio.add_group(GROUP)
        harriet = self.studio.add_client("Harriet", "Moss", phone="+44 20 7946 0001")
        self.studio.add_to_group(self.vip, harriet)
        self.bob = self.studio.add_user("Bob Brook", BOB)
        for user, email in ((self.user, ANN), (self.bob, BOB)):
            prefs = dataclasses.replace(
                self.studio.google_prefs(user),
                sync_on=True,
                calendar_id=email,
                sync_contacts=True,
                sync_back_contacts=True,
                client_sync_group=GROUP,
            )
            self.studio.set_google_prefs(user, prefs)
        bob_access, _ = google.issue_tokens(BOB)
        self.bob_account: GoogleAccount = connect(
            Credentials(token=bob_access),
            base_url=google.base_url,
            pacer=unpaced(),
            retrying=no_wait_retrying(),
        )
        self.people = build_people_service(Credentials(token=self.access), base_url=google.base_url)

    def sync_user(self, name: str) -> SyncReport:
        self.clock.now += timedelta(minutes=10)
        user = self.user if name == "ann" else self.bob
        account = self.account if name == "ann" else self.bob_account
        [profile] = [p for p in self.profiles.profiles() if p.user_id == str(user)]
        report = self.engine.sync(profile, account.calendar, account.contacts)
        if report.initial_sync_completed:
            self.profiles.initial_sync_done(profile.id)
        return report

    def ann_adds_lena(self) -> str:
        groups = self.google.account(ANN).contact_groups
        [group] = [name for name, value in groups.items() if value.get("name") == GROUP]
        memberships = [
            {"contactGroupMembership": {"contactGroupResourceName": name}}
            for name in (MY_CONTACTS, group)
        ]
        body = {**LENA, "memberships": memberships}
        made = self.people.people().createContact(body=body, personFields="names").execute()
        return str(made["resourceName"])

    def contacts_called(self, email: str, given_name: str) -> list[str]:
        """The live contacts of ``email``'s Google account whose given name is ``given_name``."""
        return sorted(
            name
            for name, person in self.google.account(email).contacts.items()
            if not person.get("metadata", {}).get("deleted")
            and [n.get("givenName") for n in person.get("names", [])] == [given_name]
        )

    def lenas(self) -> list[int]:
        return [c.id for c in self.studio.group_members(self.vip) if c.first_name == "Lena"]

    def close(self) -> None:
        self.bob_account.close()
        super().close()


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[TwoUsers]:
    with GoogleEmulator() as google:
        world = TwoUsers(google, tmp_path)
        yield world
        world.close()


@pytest.mark.parametrize("order", [("ann", "bob"), ("bob", "ann")], ids=["ann-first", "bob-first"])
def test_bobs_contact_of_a_client_made_again_from_anns_is_kept_and_not_doubled(
    studio: TwoUsers, tmp_path: Path, order: tuple[str, str]
) -> None:
    for name in ("ann", "bob"):
        assert studio.sync_user(name).ok
    backup = tmp_path / "monday.sqlite3"
    studio.back_up(backup)
    studio.clock.now += timedelta(days=1)
    anns = studio.ann_adds_lena()
    assert studio.sync_user("ann").ok
    assert studio.sync_user("bob").ok
    [lost] = studio.lenas()
    [bobs] = studio.contacts_called(BOB, "Lena")
    studio.clock.now += timedelta(days=1)
    studio.restore(backup)

    reports = [(name, studio.sync_user(name)) for _ in range(2) for name in order]

    for _, report in reports:
        assert report.ok, report.summary()
    [lena] = studio.lenas()
    assert lena != lost
    assert studio.contacts_called(ANN, "Lena") == [anns]
    assert studio.contacts_called(BOB, "Lena") == [bobs]
    bob_reports = [report for name, report in reports if name == "bob"]
    assert not bob_reports[-1].held
    assert any(
        "'Lena Holt'" in w and "takes its place" in w for r in bob_reports for w in r.warnings
    )
    for name in (*order, *order):
        quiet = studio.sync_user(name)
        assert quiet.writes == 0, quiet.summary()
        assert not quiet.held
    assert studio.contacts_called(BOB, "Lena") == [bobs]

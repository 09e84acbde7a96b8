"""The example studio's ids name items in Google (``session-12``, ``appointment-7``,
``client-5``), so a studio file restored from a backup never gives again an id it had given
after the backup: the keys of the rows the restore lost stay theirs, and calsync never takes a
new row for a lost one's pair.

Before, the rows took ``AUTOINCREMENT`` ids, whose counter is in the file: the restored file
gave the lost rows' ids to its new rows. A client calsync made again from the Google user's
contact took the id of a client staff had made (and the pair of that client's contact), and a
client staff added took the id of a client made from a Google contact: staff's next edit of it
was written over the Google user's contact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from studio.adapters import client_key
from studio.db import SCHEMA_VERSION, Span, Studio, appointment_key, session_key
from studio_file import START, Clock, StudioOnFile, copy_database

from calsync import SyncReport
from calsync.google.contacts import MY_CONTACTS
from calsync.google.services import build_people_service
from calsync.model import Channel
from calsync.testing import GoogleEmulator

EMAIL = "ann@lumen-studio.example"
GROUP = "VIP"


def _span(day: int) -> Span:
    start = START + timedelta(days=day, hours=2)
    return Span(start, start + timedelta(hours=1), "Europe/London")


def _a_week_of_rows(studio: Studio, ann: int, group: int, week: int) -> set[str]:
    """The keys of what a week of work adds: clients (one in the group), sessions, an
    appointment, an unlinked appointment from Google and the session it becomes."""
    sofia = studio.add_client("Sofia", f"Week {week}")
    studio.add_to_group(group, sofia)
    marco = studio.add_client("Marco", f"Week {week}")
    portrait = studio.book_session(ann, sofia, "Portrait", _span(week * 7 + 1))
    call = studio.add_appointment(ann, "Call", _span(week * 7 + 2))
    unlinked = studio.add_unlinked(ann, f"google-{week}", "Dentist", _span(week * 7 + 3))
    converted = studio.convert_to_session(
        studio.add_unlinked(ann, f"google-{week}b", "Shoot", _span(week * 7 + 4)),
        marco,
        "Wedding",
    )
    cancelled = studio.book_session(ann, marco, "Headshots", _span(week * 7 + 5))
    studio.cancel_session(cancelled)
    return {
        client_key(sofia),
        client_key(marco),
        session_key(portrait),
        session_key(converted),
        session_key(cancelled),
        appointment_key(call),
        appointment_key(unlinked),
    }


def test_a_restored_studio_file_gives_no_key_it_gave_after_the_backup(tmp_path: Path) -> None:
    path, backup = tmp_path / "studio.sqlite3", tmp_path / "backup.sqlite3"
    with Studio(path, clock=Clock()) as studio:
        ann, vip = studio.add_user("Ann Avery", EMAIL), studio.add_group(GROUP)
        before = _a_week_of_rows(studio, ann, vip, 0)
    copy_database(path, backup)
    with Studio(path, clock=Clock()) as studio:
        lost = _a_week_of_rows(studio, ann, vip, 1)
    copy_database(backup, path)

    with Studio(path, clock=Clock()) as studio:
        after = _a_week_of_rows(studio, ann, vip, 2)

    assert len(before | lost | after) == 3 * 7
    assert lost.isdisjoint(after)


def test_a_studio_file_of_schema_5_keeps_its_keys_and_gives_none_again_after_a_restore(
    tmp_path: Path,
) -> None:
    """A file the studio wrote before ids were drawn: its rows keep their keys, and the ids
    its counter gave after a backup are not given again once it is restored and upgraded."""
    path, backup = tmp_path / "studio.sqlite3", tmp_path / "backup.sqlite3"
    with Studio(path) as studio:
        ann = studio.add_user("Ann Avery", EMAIL)
    db = sqlite3.connect(path, isolation_level=None)
    harriet = _as_version_5_adds(db, "clients", first_name="Harriet")
    booked = _as_version_5_adds(db, "sessions", **_session(ann, harriet))
    db.execute("PRAGMA user_version = 5")
    db.close()
    copy_database(path, backup)
    db = sqlite3.connect(path, isolation_level=None)
    lost_client = _as_version_5_adds(db, "clients", first_name="Oliver")
    lost_session = _as_version_5_adds(db, "sessions", **_session(ann, lost_client))
    db.close()
    copy_database(backup, path)

    with Studio(path) as studio:
        kept = (studio.client(harriet), studio.session(booked))
        oliver = studio.add_client("Oliver", "Grant")
        session = studio.book_session(ann, oliver, "Portrait", _span(1))

    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    assert version == SCHEMA_VERSION
    assert kept[0] is not None
    assert client_key(kept[0].id) == f"client-{harriet}"
    assert kept[1] is not None
    assert kept[1].key == f"session-{booked}"
    assert oliver != lost_client
    assert session != lost_session


def _as_version_5_adds(db: sqlite3.Connection, table: str, **values: Any) -> int:
    """A row added as the studio's code of schema 5 added it: its ``AUTOINCREMENT`` id."""
    values.setdefault("updated_at", START.isoformat())
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    cursor = db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _session(user: int, client: int) -> dict[str, Any]:
    start, end, all_day, zone = _span(1).columns()
    return {
        "user_id": user,
        "client_id": client,
        "session_type": "Portrait",
        "start": start,
        "end": end,
        "all_day": all_day,
        "time_zone": zone,
    }


def test_an_id_a_row_holds_is_drawn_again(tmp_path: Path) -> None:
    draws = iter([10**15 + 7, 10**15 + 7, 10**15 + 8])
    with Studio(tmp_path / "studio.sqlite3", draw_id=lambda: next(draws)) as studio:
        first, second = studio.add_client("Harriet"), studio.add_client("Oliver")

    assert (first, second) == (10**15 + 7, 10**15 + 8)


def test_the_id_of_an_appointment_a_session_replaces_is_not_drawn_again(tmp_path: Path) -> None:
    draws = iter([10**15 + 1, 10**15 + 2, 10**15 + 3, 10**15 + 2, 10**15 + 4])
    with Studio(tmp_path / "studio.sqlite3", draw_id=lambda: next(draws)) as studio:
        ann, sofia = studio.add_user("Ann Avery"), studio.add_client("Sofia")  # draws 1
        unlinked = studio.add_unlinked(ann, "google-1", "Shoot", _span(1))  # draws 2
        studio.convert_to_session(unlinked, sofia, "Wedding")  # draws 3; appointment 2 is gone
        call = studio.add_appointment(ann, "Call", _span(2))  # draws 2, then 4

    assert call == 10**15 + 4


# -- the Google user's contacts, end to end ------------------------------------------------


class AnnsClients(StudioOnFile):
    """Ann's studio on a file, syncing the "VIP" clients both ways with her Google contacts."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        super().__init__(google, tmp, EMAIL)
        self.vip = self.studio.add_group(GROUP)
        self.choose(sync_contacts=True, sync_back_contacts=True, client_sync_group=GROUP)
        self.people = build_people_service(Credentials(token=self.access), base_url=google.base_url)
        self.backup = tmp / "monday.sqlite3"

    def staff_add(self, first_name: str, last_name: str, phone: str) -> int:
        client = self.studio.add_client(first_name, last_name, phone=phone)
        self.studio.add_to_group(self.vip, client)
        return client

    def google_user_adds(self, given: str, family: str, phone: str) -> str:
        group = self._google_group()
        body = {
            "names": [{"givenName": given, "familyName": family}],
            "phoneNumbers": [{"value": phone, "type": "mobile"}],
            "memberships": [
                {"contactGroupMembership": {"contactGroupResourceName": name}}
                for name in (MY_CONTACTS, group)
            ],
        }
        made = self.people.people().createContact(body=body, personFields="names").execute()
        return str(made["resourceName"])

    def _google_group(self) -> str:
        groups = self.google.account(EMAIL).contact_groups
        [group] = [name for name, value in groups.items() if value.get("name") == GROUP]
        return str(group)

    def in_google(self, resource_name: str) -> tuple[str, str, bool]:
        """The contact's given name and phone, and whether it is in the group."""
        person = self.google.account(EMAIL).contacts[resource_name]
        group = self._google_group()
        in_group = any(
            m.get("contactGroupMembership", {}).get("contactGroupResourceName") == group
            for m in person.get("memberships", [])
        )
        return person["names"][0]["givenName"], person["phoneNumbers"][0]["value"], in_group

    def live_contacts(self) -> int:
        contacts = self.google.account(EMAIL).contacts.values()
        return sum(1 for person in contacts if not person.get("metadata", {}).get("deleted"))

    def clients(self) -> dict[str, str]:
        """The group's clients: key by given name."""
        return {c.first_name: client_key(c.id) for c in self.studio.group_members(self.vip)}

    def pairs(self) -> dict[str, str]:
        """calsync's pairs of the contacts channel: Google contact by client key."""
        (profile,) = self.profiles.profiles()
        rows = self.store.mappings(profile.id, Channel.CONTACTS)
        return {key: row.remote_id for key, row in rows.items() if row.remote_id}

    def back_up_then_a_day(self) -> None:
        self.back_up(self.backup)
        self.clock.now += timedelta(days=1)

    def restore_the_backup(self) -> None:
        self.clock.now += timedelta(days=1)
        self.restore(self.backup)
        self.clock.now += timedelta(hours=1)

    def runs_until_settled(self) -> list[SyncReport]:
        reports = []
        for _ in range(3):
            self.clock.now += timedelta(minutes=10)
            reports.append(self.sync())
        return reports


@pytest.fixture
def ann(tmp_path: Path) -> Iterator[AnnsClients]:
    with GoogleEmulator() as google:
        world = AnnsClients(google, tmp_path)
        yield world
        world.close()


@pytest.mark.emulator
def test_a_client_made_again_from_a_google_contact_takes_no_lost_clients_pair(
    ann: AnnsClients,
) -> None:
    ann.staff_add("Harriet", "Moss", "+44 20 7946 0001")
    assert ann.sync().ok
    ann.back_up_then_a_day()
    oliver = client_key(ann.staff_add("Oliver", "Grant", "+44 117 496 0744"))
    assert ann.sync().ok
    oliver_contact = ann.pairs()[oliver]
    lena_contact = ann.google_user_adds("Lena", "Holt", "+44 113 496 0100")
    assert ann.sync().ok
    lena_before = ann.clients()["Lena"]
    ann.restore_the_backup()  # loses Oliver (staff's) and Lena (made from Google)

    reports = ann.runs_until_settled()

    assert all(report.ok for report in reports), [r.summary() for r in reports]
    assert ann.in_google(lena_contact) == ("Lena", "+44 113 496 0100", True)
    assert ann.in_google(oliver_contact) == ("Oliver", "+44 117 496 0744", True)
    assert ann.live_contacts() == 3
    lena = ann.clients()["Lena"]  # made again from her contact
    assert ann.pairs()[lena] == lena_contact
    assert ann.pairs()[oliver] == oliver_contact  # Oliver's pair is kept, its deletion held
    assert [held.item for held in reports[-1].held] == [oliver]
    assert lena not in {oliver, lena_before}
    assert reports[-1].writes == 0


@pytest.mark.emulator
def test_a_client_staff_add_after_a_restore_never_writes_over_the_google_users_contact(
    ann: AnnsClients,
) -> None:
    ann.staff_add("Harriet", "Moss", "+44 20 7946 0001")
    assert ann.sync().ok
    ann.back_up_then_a_day()
    lena_contact = ann.google_user_adds("Lena", "Holt", "+44 113 496 0100")
    assert ann.sync().ok
    lena_before = ann.clients()["Lena"]
    ann.restore_the_backup()  # loses Lena, made from the Google user's contact
    oliver = client_key(ann.staff_add("Oliver", "Grant", "+44 117 496 0744"))

    reports = ann.runs_until_settled()
    ann.studio.update_client(int(oliver.removeprefix("client-")), phone="+44 117 496 0999")
    reports += ann.runs_until_settled()

    assert all(report.ok for report in reports), [r.summary() for r in reports]
    assert ann.in_google(lena_contact) == ("Lena", "+44 113 496 0100", True)
    assert ann.live_contacts() == 3
    oliver_contact = ann.pairs()[oliver]
    assert oliver_contact != lena_contact
    assert ann.in_google(oliver_contact) == ("Oliver", "+44 117 496 0999", True)
    assert ann.pairs()[ann.clients()["Lena"]] == lena_contact  # made again in the studio
    assert oliver != lena_before
    assert reports[-1].writes == 0


# -- the schedule, end to end ------------------------------------------------------------


class AnnsCalendar(StudioOnFile):
    """Ann's studio on a file, synced with her primary calendar."""

    def __init__(self, google: GoogleEmulator, tmp: Path) -> None:
        super().__init__(google, tmp, EMAIL)
        self.choose(sync_back_calendar=True)
        self.sofia = self.studio.add_client("Sofia", "Marin")

    def adds(self, kind: str, title: str, day: int) -> str:
        if kind == "session":
            made = self.studio.book_session(self.user, self.sofia, title, _span(day))
            return session_key(made)
        return appointment_key(self.studio.add_appointment(self.user, title, _span(day)))

    def events(self) -> dict[str, str]:
        """The live events' titles by event id."""
        events = self.google.account(EMAIL).primary.live_events()
        return {str(event["id"]): str(event.get("summary", "")) for event in events}

    def pairs(self) -> dict[str, str]:
        (profile,) = self.profiles.profiles()
        rows = self.store.mappings(profile.id, Channel.CALENDAR)
        return {key: row.remote_id for key, row in rows.items() if row.remote_id}


@pytest.mark.emulator
@pytest.mark.parametrize("kind", ["session", "appointment"])
def test_an_item_staff_add_after_a_restore_gets_an_event_of_its_own(
    kind: str, tmp_path: Path
) -> None:
    with GoogleEmulator() as google:
        ann = AnnsCalendar(google, tmp_path)
        ann.adds(kind, "Portrait", 1)
        assert ann.sync().ok
        backup = tmp_path / "monday.sqlite3"
        ann.back_up(backup)
        ann.clock.now += timedelta(days=1)
        lost = ann.adds(kind, "Wedding", 2)
        assert ann.sync().ok
        lost_event = ann.pairs()[lost]
        lost_title = ann.events()[lost_event]
        ann.clock.now += timedelta(days=1)
        ann.restore(backup)
        ann.clock.now += timedelta(hours=1)
        new = ann.adds(kind, "Headshots", 3)

        reports = [ann.sync(), ann.sync()]
        events, pairs = ann.events(), ann.pairs()
        ann.close()

    assert all(report.ok for report in reports), [r.summary() for r in reports]
    assert events[lost_event] == lost_title  # kept as it was, its deletion held
    assert len(events) == 3
    assert pairs[new] != lost_event
    assert "Headshots" in events[pairs[new]]
    assert [held.item for held in reports[-1].held] == [lost]
    assert reports[-1].writes == 0

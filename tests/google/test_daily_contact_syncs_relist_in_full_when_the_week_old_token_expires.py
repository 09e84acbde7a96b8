"""People's sync tokens "expire 7 days after the full sync", however many incremental
listings came since. A studio syncing its client group every day, with changes on both sides,
meets that expiry every week: the backend lists in full, and the engine reconciles without a
duplicate, a lost contact, a write to a contact that did not change, or a word in the report
about it. On the emulator (which ages tokens as Google does, and refuses listing etags when
asked to) with the real google-api-python-client; one Google connection per run, as in
production."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from calsync import ContactFields, Phone
from calsync.google.translate import MARKER_ITEM
from calsync.testing.emulator import GoogleEmulator

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

    from calsync.google.account import GoogleAccount

pytestmark = pytest.mark.emulator

DAY = 24 * 3600.0
#: a day and the ten minutes a run takes: the seventh run comes just over 7 days later
BETWEEN_RUNS = DAY + 600.0
WRITES = (
    "people.people.createContact",
    "people.people.batchCreateContacts",
    "people.people.updateContact",
    "people.people.batchUpdateContacts",
    "people.people.deleteContact",
    "people.people.batchDeleteContacts",
    "people.contactGroups.members.modify",
)


@pytest.fixture(scope="module", params=["accepted", "refused"])
def emulator_server(request: pytest.FixtureRequest) -> Iterator[GoogleEmulator]:
    """The emulator, taking the etags of listings in updates or refusing them (as Google)."""
    with GoogleEmulator(people_listing_etags=request.param) as google:
        yield google


def markers(w: GoogleWorld) -> list[str]:
    return sorted(
        entry["value"]
        for person in w.group_members().values()
        for entry in person.get("clientData", [])
        if entry["key"] == MARKER_ITEM
    )


def given_names(w: GoogleWorld) -> list[str]:
    return sorted(str(p["names"][0]["givenName"]) for p in w.group_members().values())


def etags(w: GoogleWorld) -> dict[str, str]:
    return {name: person["etag"] for name, person in w.contacts_user.contacts().items()}


def made_by_studio(w: GoogleWorld) -> dict[str, str]:
    """The group's contacts calsync made, by the client each carries the marker of."""
    return {
        entry["value"]: name
        for name, person in w.group_members().items()
        for entry in person.get("clientData", [])
        if entry["key"] == MARKER_ITEM
    }


def test_a_fortnight_of_daily_syncs_relists_weekly_and_writes_only_what_changed(
    world: MakeWorld,
    studio: StudioBuilders,
    account_for: Callable[..., GoogleAccount],
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = world(inbound_contacts=True)
    for number in range(1, 5):
        client = studio.client(f"c{number}", given=f"Client{number}")
        w.clients.add(studio.user, client, groups=[studio.group])
    assert w.sync().ok
    group = w.account.contacts.ensure_group(studio.group)
    caplog.set_level(logging.INFO, logger="calsync.google.contacts")
    expired_on: list[int] = []

    for day in range(1, 16):
        w.google.advance_clock(BETWEEN_RUNS)
        w.clock.advance(seconds=BETWEEN_RUNS)
        w.account = account_for(w.token)  # one connection per run
        members = made_by_studio(w)
        edited = f"c{day % 4 + 1}"  # the studio edits one client a day ...
        w.clients.edit(studio.user, edited, phones=(Phone(f"+44 7700 900{day:03d}"),))
        touched = members[f"c{(day + 1) % 4 + 1}"]  # ... the Google user another one
        w.contacts_user.external_update(touched, notes=f"day {day}")
        if day % 5 == 0:
            new = studio.client(f"n{day}", given=f"New{day}")
            w.clients.add(studio.user, new, groups=[studio.group])
        if day % 6 == 0:
            fields = ContactFields(given_name=f"Googler{day}")
            w.contacts_user.external_create(fields, groups=[group])
        before = etags(w)
        caplog.clear()
        w.google.reset_stats()

        report = w.sync()

        assert report.ok, (day, report.summary())
        assert not report.has_problems, (day, report.summary(), report.warnings)
        if any("sync token expired" in r.getMessage() for r in caplog.records):
            expired_on.append(day)
        written = {name for name, etag in etags(w).items() if before.get(name) != etag}
        made = {name for name in written if name not in before}
        assert written - made == {members[edited]}, day  # nothing unchanged is written again
        assert len(made) == (day % 5 == 0), day
        methods = w.google.stats()["methods"]
        assert sum(methods.get(m, 0) for m in WRITES) <= 1 + 2 + len(made), (day, methods)
        clients = w.clients.contacts(studio.user)
        assert clients[f"c{(day + 1) % 4 + 1}"].fields.notes == f"day {day}"
        # no duplicate and none lost, on either side
        host_group = w.clients.members(studio.user, studio.group)
        assert len(w.group_members()) == len(host_group), day
        marked = markers(w)
        assert len(set(marked)) == len(marked), day
        assert set(marked) <= set(host_group), day
        names = sorted(str(clients[c].fields.given_name) for c in host_group)
        assert names == given_names(w), day

    assert expired_on == [7, 14]
    assert w.sync().writes == 0

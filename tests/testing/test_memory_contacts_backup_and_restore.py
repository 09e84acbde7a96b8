"""The in-memory client source restored from a backup, as a host's database is: its clients and
group memberships are what they were, and the change cursors handed out since are
:class:`~calsync.sources.HostRewound` (as :class:`~calsync.testing.MemoryScheduleSource`'s)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calsync.model import Contact, ContactFields
from calsync.sources import HostRewound
from calsync.testing import MemoryContactSource

USER = "alice"
OTHER = "bob"
GROUP = "Weddings"
LATER = "Portraits"


def person(contact_id: str, given: str) -> Contact:
    return Contact(contact_id, ContactFields(given_name=given, family_name="Archer"))


@pytest.fixture
def clients() -> MemoryContactSource:
    clients = MemoryContactSource(now=lambda: datetime(2030, 5, 1, tzinfo=UTC), change_feed=True)
    clients.add(USER, person("k1", "Ann"), groups=[GROUP])
    clients.add(USER, person("k2", "Bea"), groups=[GROUP])
    clients.add_corrupt(USER, person("k3", "Cat"), groups=[GROUP])
    clients.add(OTHER, person("k1", "Dan"), groups=[GROUP])
    return clients


def test_a_restore_brings_back_the_clients_and_memberships_of_the_backup(
    clients: MemoryContactSource,
) -> None:
    backup = clients.backup(USER)
    before = (clients.contacts(USER), clients.members(USER, GROUP), clients.list_group(USER, GROUP))
    clients.create_contact(USER, GROUP, ContactFields(given_name="Eve"), "people/eve")
    clients.edit(USER, "k1", family_name="Holt")
    clients.remove(USER, "k2")
    clients.remove_from_group_by_user(USER, GROUP, "k1")
    clients.add_to_group(USER, GROUP, "k1")
    clients.add(USER, person("k4", "Fay"), groups=[LATER])
    clients.edit(OTHER, "k1", family_name="Vale")

    clients.restore(backup)

    after = (clients.contacts(USER), clients.members(USER, GROUP), clients.list_group(USER, GROUP))
    assert before == after
    assert clients.members(USER, LATER) == []
    assert clients.contacts(OTHER)["k1"].fields.family_name == "Vale"  # only USER's restored


def test_cursors_handed_out_since_the_backup_are_host_rewound(
    clients: MemoryContactSource,
) -> None:
    at_backup = clients.change_cursor(USER, GROUP)
    backup = clients.backup(USER)
    clients.edit(USER, "k1", family_name="Holt")
    since = clients.change_cursor(USER, GROUP)
    clients.add(USER, person("k4", "Fay"), groups=[LATER])
    later_group = clients.change_cursor(USER, LATER)
    assert at_backup is not None
    assert since is not None
    assert later_group is not None

    clients.restore(backup)

    with pytest.raises(HostRewound):
        clients.changes_since(USER, GROUP, since)
    with pytest.raises(HostRewound):
        clients.changes_since(USER, LATER, later_group)
    unchanged = clients.changes_since(USER, GROUP, at_backup)
    assert (list(unchanged.changed), list(unchanged.deleted)) == ([], [])


def test_a_client_made_after_a_restore_gets_an_id_never_given_before(
    clients: MemoryContactSource,
) -> None:
    backup = clients.backup(USER)
    lost = clients.create_contact(USER, GROUP, ContactFields(given_name="Eve"), "people/eve")
    clients.restore(backup)

    again = clients.create_contact(USER, GROUP, ContactFields(given_name="Eve"), "people/eve")

    assert again.id != lost.id
    assert lost.id not in clients.contacts(USER)

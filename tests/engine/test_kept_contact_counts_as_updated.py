"""Under ``delete_removed_contacts=False`` a client leaving the sync group keeps its Google
contact, only taken out of the group: the report counts that as an update of the contact,
never as a deletion — in its counts, summary and JSON, and in a dry run's ``would``."""

from __future__ import annotations

import pytest
from studio_world import GROUP, USER, World, client, make_world

from calsync import DeletionRules, MemoryStateStore, Side
from calsync.model import Channel
from calsync.testing import SimulatedCrash


def kept_world() -> World:
    world = make_world(
        MemoryStateStore(),
        contacts=True,
        client_group=GROUP,
        deletion_rules=DeletionRules(delete_removed_contacts=False),
    )
    world.clients.add(USER, client("c1"), groups=[GROUP])
    return world


def test_a_kept_contact_is_reported_updated_not_deleted() -> None:
    """Before, the report said "Google: 1 deleted" for a contact still in Google."""
    world = kept_world()
    world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")

    report = world.sync()

    assert report.ok, report.summary()
    assert len(world.contacts.contacts()) == 1  # kept
    assert world.contacts.contacts(GROUP) == {}  # out of the group
    assert report.count(Side.REMOTE, "deleted") == 0
    assert report.count(Side.REMOTE, "updated") == 1
    assert report.count(Side.REMOTE, "updated", Channel.CONTACTS) == 1
    assert "Google: 0 created, 1 updated, 0 deleted, 0 restored" in report.summary()
    assert report.to_dict()["counts"] == {"remote.updated": 1}


def test_a_dry_run_counts_a_kept_contact_as_a_run_does() -> None:
    world = kept_world()
    world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")

    dry = world.sync(dry_run=True)
    done = world.sync()

    assert dry.would == done.counts == {"remote.updated": 1}
    assert "Google: would be 0 created, 1 updated, 0 deleted, 0 restored" in dry.summary()


def test_a_deleted_contact_is_still_reported_deleted() -> None:
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")

    assert world.sync(dry_run=True).would == {"remote.deleted": 1}
    report = world.sync()

    assert world.contacts.contacts() == {}
    assert report.counts == {"remote.deleted": 1}


def test_an_unrecorded_contact_taken_out_of_the_group_is_reported_updated() -> None:
    """A contact made just before its client left the group (the make unrecorded) is taken
    out of the group and kept, whatever the rules: an update too."""
    world = make_world(MemoryStateStore(), contacts=True, client_group=GROUP)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.contacts.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    world.clients.remove_from_group_by_user(USER, GROUP, "c1")

    report = world.sync()

    assert len(world.contacts.contacts()) == 1
    assert report.count(Side.REMOTE, "deleted") == 0
    assert report.count(Side.REMOTE, "updated") == 1

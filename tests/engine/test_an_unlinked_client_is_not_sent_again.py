"""``DeletionRules(contact=RemoteDeletion.UNLINK)``: a contact deleted in Google, or taken out
of the group there, only unlinks its client, and the client is not sent again while it stays
as it was: no contact comes back, none is made beside the one taken out. An edit in the
studio sends it again; the Google user putting the contact back in the group links it again.
"""

from __future__ import annotations

import pytest
from studio_world import GROUP, USER, World, client, make_world

from calsync import DeletionRules, RemoteDeletion, Side, StateStore
from calsync.model import Channel

HOW = ["deleted", "taken out of the group"]


def unlinked(store: StateStore, how: str) -> tuple[World, str]:
    world = make_world(
        store,
        contacts=True,
        client_group=GROUP,
        inbound_contacts=True,
        deletion_rules=DeletionRules(contact=RemoteDeletion.UNLINK),
    )
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    [ann] = world.contacts.contacts()
    if how == HOW[0]:
        world.contacts.external_delete(ann)
    else:
        world.contacts.external_remove_from_group(ann, GROUP)
    assert world.sync().counts == {"forgotten": 1}
    return world, ann


@pytest.mark.parametrize("how", HOW)
def test_an_unlinked_client_is_not_sent_again(store: StateStore, how: str) -> None:
    world, _ = unlinked(store, how)
    before = set(world.contacts.contacts())

    runs = [world.sync(), world.sync()]

    assert [r.writes for r in runs] == [0, 0]
    assert set(world.contacts.contacts()) == before  # none back, none beside it
    assert world.contacts.contacts(GROUP) == {}
    assert "c1" in world.clients.contacts(USER)  # the studio keeps its client


@pytest.mark.parametrize("how", HOW)
def test_a_client_edited_in_the_studio_is_sent_again(store: StateStore, how: str) -> None:
    world, _ = unlinked(store, how)
    world.sync()
    world.clients.edit(USER, "c1", family_name="Jordan")

    report = world.sync()

    assert report.count(Side.REMOTE, "created") == 1
    [made] = world.contacts.contacts(GROUP).values()
    assert made.fields is not None
    assert made.fields.family_name == "Jordan"
    assert world.sync().writes == 0


def test_a_contact_put_back_in_the_group_links_its_client_again(store: StateStore) -> None:
    world, ann = unlinked(store, HOW[1])
    world.sync()
    world.contacts.external_add_to_group(ann, GROUP)

    report = world.sync()

    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "created") == 0
    assert list(world.contacts.contacts(GROUP)) == [ann]
    world.clients.edit(USER, "c1", family_name="Jordan")
    assert world.sync().count(Side.REMOTE, "updated") == 1  # a pair again


def test_a_dry_run_remembers_no_unlink(store: StateStore) -> None:
    world = make_world(
        store,
        contacts=True,
        client_group=GROUP,
        deletion_rules=DeletionRules(contact=RemoteDeletion.UNLINK),
    )
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    [ann] = world.contacts.contacts()
    world.contacts.external_delete(ann)

    assert world.sync(dry_run=True).would == {"forgotten": 1}

    assert store.get_unlinked(world.profile.id, Channel.CONTACTS) == {}
    assert world.sync().counts == {"forgotten": 1}
    assert store.get_unlinked(world.profile.id, Channel.CONTACTS) != {}

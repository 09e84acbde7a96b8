"""A contact the Google user made, which came to the studio as a client (inbound contacts), is
the user's: when the studio takes that client out of the sync group, or deletes the client,
calsync takes the contact out of the Google group and keeps it (with everything calsync does
not model). Only a contact calsync made is deleted."""

from __future__ import annotations

import pytest
from studio_world import GROUP, USER, World, client, make_world

from calsync import ContactFields, Email, Side, StateStore
from calsync.model import Channel

HOW = ["taken out of the sync group", "deleted in the studio"]


def imported(store: StateStore) -> tuple[World, str, str]:
    """A world with the Google user's own contact made a client: (world, contact, client)."""
    world = make_world(store, contacts=True, client_group=GROUP, inbound_contacts=True)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    world.sync()
    fields = ContactFields(given_name="Hal", emails=(Email("hal@example.com"),))
    own = world.contacts.external_create(fields, groups=[GROUP]).id
    assert world.sync().ok
    [hal] = [c for c in world.clients.contacts(USER) if c != "c1"]
    return world, own, hal


def gone(world: World, client_id: str, how: str) -> None:
    if how == HOW[0]:
        world.clients.remove_from_group_by_user(USER, GROUP, client_id)
    else:
        world.clients.remove(USER, client_id)


@pytest.mark.parametrize("how", HOW)
def test_the_google_users_own_contact_is_kept_out_of_the_group(store: StateStore, how: str) -> None:
    world, own, hal = imported(store)
    gone(world, hal, how)

    report = world.sync()

    assert report.ok, report.summary()
    assert own in world.contacts.contacts()  # kept
    assert own not in world.contacts.contacts(GROUP)  # out of the group
    assert report.count(Side.REMOTE, "deleted") == 0
    assert report.count(Side.REMOTE, "updated", Channel.CONTACTS) == 1
    assert world.sync().writes == 0


@pytest.mark.parametrize("how", HOW)
def test_it_is_kept_after_calsync_put_its_marker_on_it(store: StateStore, how: str) -> None:
    """An edit in the studio is sent to the contact with calsync's marker (to pair it): the
    contact is still the Google user's."""
    world, own, hal = imported(store)
    world.clients.edit(USER, hal, family_name="Jordan")
    assert world.sync().count(Side.REMOTE, "updated") == 1
    assert world.contacts.contacts()[own].marker is not None
    gone(world, hal, how)

    report = world.sync()

    assert own in world.contacts.contacts()
    assert report.count(Side.REMOTE, "deleted") == 0


def test_a_client_still_in_the_studio_says_its_contact_is_the_google_users(
    store: StateStore,
) -> None:
    """A client made before calsync recorded where clients come from (the record lost, or
    an older calsync): the client still names the contact it was made from."""
    world, own, hal = imported(store)
    store.set_origin(world.profile.id, Channel.CONTACTS, hal, None)
    world.clients.remove_from_group_by_user(USER, GROUP, hal)

    world.sync()

    assert own in world.contacts.contacts()


@pytest.mark.parametrize("how", HOW)
def test_a_contact_calsync_made_is_still_deleted(store: StateStore, how: str) -> None:
    world, own, _ = imported(store)
    [ann] = [c for c in world.contacts.contacts() if c != own]
    gone(world, "c1", how)

    report = world.sync()

    assert ann not in world.contacts.contacts()
    assert report.count(Side.REMOTE, "deleted") == 1

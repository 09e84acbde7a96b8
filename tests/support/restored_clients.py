"""A studio user whose clients are restored from a backup, written once for the engine tests of
restores: a world with a client feed and a synced client group, and Lena, the contact the
Google user adds to the group after the backup (``MemoryContactSource.backup``/``restore``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from studio_world import GROUP, USER, World, client, make_world

from calsync import Contact, ContactFields, Email, Phone, StateStore
from calsync.testing import MemoryContactSource, SimulatedCrash

LENA = ContactFields(
    given_name="Lena",
    family_name="Holt",
    phones=(Phone("+44 113 496 0100"),),
    emails=(Email("lena@example.com"),),
)


def clients_world(
    store: StateStore,
    source: Callable[..., MemoryContactSource] = MemoryContactSource,
) -> World:
    """A user syncing the client group both ways, with a client feed (``source(now=...,
    change_feed=True)``); Ann (``c1``) is in the group, synced and settled."""
    world = make_world(store, contacts=True, client_group=GROUP, inbound_contacts=True)
    world.clients = source(now=world.clock, change_feed=True)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    assert world.sync().ok
    assert world.sync().writes == 0
    return world


def lenas(world: World) -> list[Contact]:
    """The user's clients called Lena."""
    return [c for c in world.clients.contacts(USER).values() if c.fields.given_name == "Lena"]


def members(world: World) -> set[str]:
    """The given names of the clients in the user's group."""
    return {
        world.clients.contacts(USER)[c].fields.given_name
        for c in world.clients.members(USER, GROUP)
    }


def lena_made_then_lost(world: World, *, stamped: bool = False) -> str:
    """Lena, a contact the Google user adds to the group after the backup, made a client,
    then lost by the studio with its restore. ``stamped``: the studio edited her since, and
    that edit put calsync's marker on her contact. Returns her contact's id."""
    backup = world.clients.backup(USER)
    world.clock.advance(days=1)
    lena = world.contacts.external_create(LENA, groups=[GROUP]).id
    assert world.sync().ok
    [made] = lenas(world)
    assert made.remote_id == lena
    if stamped:
        world.clock.advance(hours=1)
        world.clients.edit(USER, made.id, organization="Holt & Daughters")
        assert world.sync().ok
        assert world.contacts.contacts()[lena].marker is not None
    world.clock.advance(days=2)
    world.clients.restore(backup)
    assert not lenas(world)
    return lena


def lena_made_again_in_a_killed_run(world: World) -> tuple[str, Contact]:
    """Lena made then lost (:func:`lena_made_then_lost`); the next run makes her again and is
    killed right after, before calsync recorded it. Returns her contact's id and the client
    made."""
    lena = lena_made_then_lost(world)
    world.clients.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    [made] = lenas(world)
    return lena, made

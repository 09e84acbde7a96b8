"""A studio restored from a backup, and what its new client ids do to the pairs calsync keeps.

A client the studio makes again from the Google user's contact (the restore lost it) and that
takes its lost pair back (a run killed before recording it) is still known as made from that
contact: deleting it from the studio never deletes the Google user's contact. A host that
breaks its contract and gives the new client the id of another client it lost, still paired
with calsync's contact, has that create fail loudly: the other pair is never overwritten, the
contact never written with the new client's fields, and once the user confirms the held
deletion, the new client is synced. Each test failed before the engine did so."""

from __future__ import annotations

from collections.abc import Container

import pytest
from restored_clients import (
    LENA,
    clients_world,
    lena_made_again_in_a_killed_run,
    lenas,
    members,
)
from studio_world import GROUP, USER, World

from calsync import ContactFields, Phone, StateStore
from calsync.model import Channel, Contact
from calsync.testing import MemoryContactSource

NORA = ContactFields(given_name="Nora", family_name="Vale", phones=(Phone("+44 20 7946 0001"),))


class ReusingClients(MemoryContactSource):
    """The in-memory clients, whose database can be backed up and restored; ``reuse``: the id
    the next client made gets, whether given before or not (a host that breaks its contract,
    as a database restored with its id counter does)."""

    reuse: str | None = None

    def _new_id(self, prefix: str, taken: Container[str]) -> str:
        if self.reuse is not None:
            reused, self.reuse = self.reuse, None
            return reused
        return super()._new_id(prefix, taken)


@pytest.fixture
def world(store: StateStore) -> World:
    return clients_world(store, ReusingClients)


def clients(world: World) -> ReusingClients:
    assert isinstance(world.clients, ReusingClients)
    return world.clients


def origins(world: World, *host_ids: str) -> dict[str, str]:
    return world.store.get_origins(world.profile.id, Channel.CONTACTS, host_ids)


def test_a_client_taken_back_after_a_killed_run_keeps_the_google_users_contact(
    world: World,
) -> None:
    """Lena is made again under a new id, the run killed before it was recorded; the next
    run hands her the lost pair back. She is still known as made from the Google user's
    contact: deleting her from the studio takes the contact out of the group, never deletes
    it."""
    lena, made = lena_made_again_in_a_killed_run(world)
    taken_back = world.sync()
    assert taken_back.ok, taken_back.summary()
    assert [(c.id, c.remote_id) for c in lenas(world)] == [(made.id, lena)]

    world.clock.advance(hours=1)
    world.clients.remove(USER, made.id)
    report = world.sync()

    assert report.ok, report.summary()
    assert lena in world.contacts.contacts()
    assert not world.contacts.contacts()[lena].deleted
    assert lena not in world.contacts.contacts(GROUP)
    assert origins(world, made.id) == {made.id: lena}


def test_the_take_back_warning_names_the_google_contact_for_a_client(world: World) -> None:
    lena_made_again_in_a_killed_run(world)

    report = world.sync()

    [warning] = [w for w in report.warnings if "paired with that item again" in w]
    assert "Google contact" in warning
    assert "Google event" not in warning


def nora_and_lena_lost(world: World) -> tuple[str, str, str]:
    """Nora (staff made her, calsync made her contact) and Lena (made from the Google user's
    contact) are both added after the backup, then lost by the restore; the studio will give
    the next client Nora's old id. Returns Nora's id, her contact's, and Lena's contact."""
    studio = clients(world)
    backup = studio.backup(USER)
    world.clock.advance(days=1)
    nora = world.clients.add(USER, Contact("c9", NORA), groups=[GROUP]).id
    assert world.sync().ok
    [nora_contact] = [
        c
        for c, p in world.contacts.contacts(GROUP).items()
        if p.fields and p.fields.given_name == "Nora"
    ]
    world.clock.advance(hours=1)
    lena = world.contacts.external_create(LENA, groups=[GROUP]).id
    assert world.sync().ok
    assert len(lenas(world)) == 1
    world.clock.advance(days=2)
    studio.restore(backup)
    studio.reuse = nora
    return nora, nora_contact, lena


def test_a_new_client_given_a_lost_clients_id_fails_and_overwrites_no_pair(
    world: World,
) -> None:
    nora, nora_contact, lena = nora_and_lena_lost(world)

    report = world.sync()

    assert not report.ok
    [error] = report.errors
    assert nora in error.message
    assert "a host must never reuse ids" in error.message
    rows = world.store.mappings(world.profile.id, Channel.CONTACTS)
    assert rows[nora].remote_id == nora_contact
    assert lena in {row.remote_id for row in rows.values()}
    assert nora in [held.item for held in report.held]
    assert world.contacts.contacts()[nora_contact].fields == NORA


def test_the_next_runs_neither_write_the_other_contact_nor_lose_the_new_client(
    world: World,
) -> None:
    nora, nora_contact, lena = nora_and_lena_lost(world)
    world.sync()

    for _ in range(2):
        world.clock.advance(minutes=10)
        again = world.sync()
        assert not again.ok  # told at every run
        assert any(nora in e.message for e in again.errors)
        assert nora in [held.item for held in again.held]
        assert world.contacts.contacts()[nora_contact].fields == NORA
        assert [c.id for c in lenas(world)] == [nora]
        assert members(world) == {"Ann", "Lena"}
        assert world.clients.contacts(USER)[nora].fields.given_name == "Lena"
        assert lena in world.contacts.contacts(GROUP)

    world.clock.advance(minutes=10)
    confirmed = world.sync(confirm_deletions=True)
    assert not world.contacts.contacts(GROUP).get(nora_contact)
    world.clock.advance(minutes=10)
    settled = world.sync()
    world.clock.advance(minutes=10)
    quiet = world.sync()

    assert confirmed.fatal is None, confirmed.summary()
    assert settled.ok, settled.summary()
    assert quiet.ok, quiet.summary()
    assert quiet.writes == 0, quiet.summary()
    assert not quiet.held
    rows = world.store.mappings(world.profile.id, Channel.CONTACTS)
    assert rows[nora].remote_id == lena
    assert origins(world, nora) == {nora: lena}
    assert lena in world.contacts.contacts(GROUP)
    assert [c.id for c in lenas(world)] == [nora]

"""A studio restored from a backup, and what its new client ids do to the pairs calsync keeps.

A client the studio makes again from the Google user's contact (the restore lost it) and that
takes its lost pair back (a run killed before recording it) is still known as made from that
contact: deleting it from the studio never deletes the Google user's contact. A host that
breaks its contract and gives the new client the id of another client it lost, still paired
with calsync's contact, has that create fail loudly: the other pair is never overwritten, the
contact never written with the new client's fields, and once the user confirms the held
deletion, the new client is synced. Each test failed before the engine did so."""

from __future__ import annotations

from collections.abc import Container, Mapping

import attrs
import pytest
from studio_world import GROUP, USER, World, client, make_world

from calsync import ContactFields, Email, Phone, StateStore
from calsync.model import Channel, Contact
from calsync.sources import Unreadable
from calsync.testing import MemoryContactSource, SimulatedCrash
from calsync.testing._faults import LogPoint

LENA = ContactFields(
    given_name="Lena",
    family_name="Holt",
    phones=(Phone("+44 113 496 0100"),),
    emails=(Email("lena@example.com"),),
)
NORA = ContactFields(given_name="Nora", family_name="Vale", phones=(Phone("+44 20 7946 0001"),))


@attrs.frozen
class ClientsBackup:
    clients: Mapping[str, Contact]
    corrupt: Mapping[str, Unreadable]
    members: Mapping[str, Mapping[str, None]]
    log: Mapping[str, LogPoint]


class RestorableClients(MemoryContactSource):
    """The in-memory clients with a client feed, whose database can be backed up and
    restored (clients made since are gone, and cursors handed out since are HostRewound);
    ``reuse``: the id the next client made gets, whether given before or not (a host that
    breaks its contract, as a database restored with its id counter does)."""

    reuse: str | None = None

    def backup(self, user_id: str) -> ClientsBackup:
        with self._lock:
            groups = [g for (u, g) in self._members if u == user_id]
            return ClientsBackup(
                dict(self._user(user_id)),
                dict(self._corrupt.get(user_id, {})),
                {g: dict(self._group(user_id, g)) for g in groups},
                {g: self._log.point((user_id, g)) for g in groups},
            )

    def restore(self, user_id: str, backup: ClientsBackup) -> None:
        with self._lock:
            self._clients[user_id] = dict(backup.clients)
            self._corrupt[user_id] = dict(backup.corrupt)
            for group, members in backup.members.items():
                self._members[(user_id, group)] = dict(members)
                self._log.restore((user_id, group), backup.log[group])

    def _new_id(self, prefix: str, taken: Container[str]) -> str:
        if self.reuse is not None:
            reused, self.reuse = self.reuse, None
            return reused
        return super()._new_id(prefix, taken)


@pytest.fixture
def world(store: StateStore) -> World:
    world = make_world(store, contacts=True, client_group=GROUP, inbound_contacts=True)
    world.clients = RestorableClients(now=world.clock, change_feed=True)
    world.clients.add(USER, client("c1"), groups=[GROUP])
    assert world.sync().ok
    assert world.sync().writes == 0
    return world


def clients(world: World) -> RestorableClients:
    assert isinstance(world.clients, RestorableClients)
    return world.clients


def lenas(world: World) -> list[Contact]:
    return [c for c in world.clients.contacts(USER).values() if c.fields.given_name == "Lena"]


def members(world: World) -> set[str]:
    return {
        world.clients.contacts(USER)[c].fields.given_name
        for c in world.clients.members(USER, GROUP)
    }


def lena_made_then_lost(world: World) -> str:
    """Lena, a contact the Google user adds to the group after the backup, made a client,
    then lost by the studio with its restore. Returns her contact's id."""
    backup = clients(world).backup(USER)
    world.clock.advance(days=1)
    lena = world.contacts.external_create(LENA, groups=[GROUP]).id
    assert world.sync().ok
    world.clock.advance(days=2)
    clients(world).restore(USER, backup)
    assert not lenas(world)
    return lena


def origins(world: World, *host_ids: str) -> dict[str, str]:
    return world.store.get_origins(world.profile.id, Channel.CONTACTS, host_ids)


def test_a_client_taken_back_after_a_killed_run_keeps_the_google_users_contact(
    world: World,
) -> None:
    """Lena is made again under a new id, the run killed before it was recorded; the next
    run hands her the lost pair back. She is still known as made from the Google user's
    contact: deleting her from the studio takes the contact out of the group, never deletes
    it."""
    lena = lena_made_then_lost(world)
    world.clients.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()
    [made] = lenas(world)
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
    lena_made_then_lost(world)
    world.clients.crash_after_next("create_contact")
    with pytest.raises(SimulatedCrash):
        world.sync()

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
    studio.restore(USER, backup)
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

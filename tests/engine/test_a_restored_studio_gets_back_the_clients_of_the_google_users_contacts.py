"""The studio's clients restored from a backup (its client feed tells: HostRewound): a client
calsync made from a contact the Google user added to the sync group, which the restore lost,
is made again in the studio from that contact, which stays in the group; a client the studio
made itself, lost so, keeps its contact in Google until the user confirms (held), as before.
Each test of a client coming back failed before the contacts channel brought them back."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest
from studio_world import GROUP, NOW, USER, World, client, make_world

from calsync import ContactFields, Email, Phone, StateStore
from calsync.engine import (
    CreateHost,
    Forget,
    HostRecord,
    PlanRules,
    RemoteRecord,
    Snapshot,
    Update,
    plan,
)
from calsync.engine.fields import encode_base
from calsync.engine.planner import LOST_BY_THE_HOST
from calsync.model import Channel, Contact, RecordKind
from calsync.policies import DeletionRules, FieldRules, host_wins
from calsync.sources import Unreadable
from calsync.state.base import MappingRow
from calsync.testing import MemoryContactSource, SimulatedCrash
from calsync.testing._faults import LogPoint

LENA = ContactFields(
    given_name="Lena",
    family_name="Holt",
    phones=(Phone("+44 113 496 0100"),),
    emails=(Email("lena@example.com"),),
)


@attrs.frozen
class ClientsBackup:
    clients: Mapping[str, Contact]
    corrupt: Mapping[str, Unreadable]
    members: Mapping[str, Mapping[str, None]]
    log: Mapping[str, LogPoint]


class RestorableClients(MemoryContactSource):
    """The in-memory clients with a client feed, whose database can be backed up and
    restored, as :class:`~calsync.testing.MemoryScheduleSource`'s can (clients made since
    are gone, group memberships are what they were, and cursors handed out since are
    HostRewound)."""

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


def lena_made_then_lost(world: World, *, stamped: bool = False) -> str:
    """Lena, a contact the Google user adds to the group after the backup, made a client,
    then lost by the studio with its restore. ``stamped``: the studio edited her since, and
    that edit put calsync's marker on her contact. Returns her contact's id."""
    backup = clients(world).backup(USER)
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
    clients(world).restore(USER, backup)
    assert not lenas(world)
    return lena


def came_back(world: World, lena: str) -> Contact:
    [back] = lenas(world)
    assert back.remote_id == lena
    assert members(world) == {"Ann", "Lena"}
    assert lena in world.contacts.contacts(GROUP)
    assert [
        c for c in world.contacts.contacts().values() if c.fields and c.fields.given_name == "Lena"
    ] == [world.contacts.contacts()[lena]]
    return back


@pytest.mark.parametrize("stamped", [False, True], ids=["as-added", "stamped-by-calsync"])
def test_a_client_made_from_a_google_contact_comes_back_to_the_restored_studio(
    world: World, stamped: bool
) -> None:
    lena = lena_made_then_lost(world, stamped=stamped)

    report = world.sync()

    assert report.ok, report.summary()
    assert not report.held
    back = came_back(world, lena)
    assert back.fields.given_name == "Lena"
    assert back.fields.organization == ("Holt & Daughters" if stamped else "")
    assert any("made again from the Google user's contact" in w for w in report.warnings)
    again = world.sync()
    assert again.writes == 0, again.summary()
    assert not again.held
    came_back(world, lena)


def test_a_google_edit_made_since_comes_back_with_the_client(world: World) -> None:
    """The contact was edited in Google after the restore (it is listed, not only read)."""
    lena = lena_made_then_lost(world)
    world.contacts.external_update(lena, family_name="Holt-Rivers")

    report = world.sync()

    assert report.ok, report.summary()
    assert came_back(world, lena).fields.family_name == "Holt-Rivers"
    assert world.sync().writes == 0


def test_a_client_the_studio_made_itself_is_still_held(world: World) -> None:
    """A client staff added after the backup, lost with the restore: its contact (calsync
    made it) stays in the group until the user confirms; it is not made again."""
    backup = clients(world).backup(USER)
    world.clock.advance(days=1)
    world.clients.add(USER, client("c9", given="Nora", family="Vale"), groups=[GROUP])
    assert world.sync().ok
    [nora] = [
        c
        for c, p in world.contacts.contacts(GROUP).items()
        if p.fields and p.fields.given_name == "Nora"
    ]
    world.clock.advance(days=2)
    clients(world).restore(USER, backup)

    report = world.sync()

    assert [held.item for held in report.held] == ["c9"]
    assert nora in world.contacts.contacts(GROUP)
    assert members(world) == {"Ann"}
    again = world.sync()
    assert again.writes == 0
    assert [held.item for held in again.held] == ["c9"]


def test_a_client_the_studio_still_has_out_of_the_group_is_not_made_again(
    world: World,
) -> None:
    """Staff took Lena out of the group, and put her back after the backup: the restore takes
    her out again, but she is still in the studio. Taking her contact out of the group is
    held, as before; no second Lena is made."""
    lena = world.contacts.external_create(LENA, groups=[GROUP]).id
    assert world.sync().ok
    [made] = lenas(world)
    world.clients.remove_from_group_by_user(USER, GROUP, made.id)
    world.clock.advance(hours=1)
    assert world.sync().ok
    backup = clients(world).backup(USER)
    world.clock.advance(days=1)
    world.clients.add_to_group(USER, GROUP, made.id)
    assert world.sync().ok
    assert lena in world.contacts.contacts(GROUP)
    world.clock.advance(days=2)
    clients(world).restore(USER, backup)

    report = world.sync()

    assert [held.item for held in report.held] == [made.id]
    assert lenas(world) == [world.clients.contacts(USER)[made.id]]
    assert members(world) == {"Ann"}
    assert lena in world.contacts.contacts(GROUP)


def test_a_run_killed_as_it_makes_the_client_again_makes_it_once(world: World) -> None:
    """The run is killed right after the studio made Lena again, before calsync recorded it:
    the next run (the studio still behind its cursor) pairs the client made with her contact,
    makes no second client nor a second contact."""
    lena = lena_made_then_lost(world)
    world.clients.crash_after_next("create_contact")

    with pytest.raises(SimulatedCrash):
        world.sync()

    [made] = lenas(world)
    report = world.sync()

    assert report.ok, report.summary()
    assert came_back(world, lena).id == made.id
    assert not report.held
    assert world.sync().writes == 0


def test_a_run_that_fails_to_make_the_client_again_tries_again(world: World) -> None:
    lena = lena_made_then_lost(world)
    world.clients.fail_next("create_contact", OSError("the studio's database is locked"))

    failed = world.sync()

    assert not failed.ok
    assert not lenas(world)
    assert lena in world.contacts.contacts(GROUP)
    report = world.sync()
    assert report.ok, report.summary()
    came_back(world, lena)
    assert world.sync().writes == 0


def test_the_plan_makes_the_client_again_first_and_forgets_no_pair_before_it() -> None:
    """The plan makes the lost client again, first, and drops its pair only as it does (the
    channel drops it in the commit that records the client made): no Forget goes before."""
    rules = PlanRules(
        channel=Channel.CONTACTS,
        fields_cls=ContactFields,
        namespace="studio.u7",
        inbound=True,
        field_rules=FieldRules(),
        conflict_policy=host_wins,
        deletion_rules=DeletionRules(),
        remote_id_for=lambda host_id: None,
    )
    ann = client("c1").fields
    edited = attrs.evolve(ann, family_name="Jones")
    host = HostRecord("c1", RecordKind.CONTACT, ann, "r1", origin=None)
    snapshot = Snapshot(
        host={"c1": host},
        remote={
            "people/ann": RemoteRecord("people/ann", "e9", edited),
            "people/lena": RemoteRecord("people/lena", "e2", LENA),
        },
        forgotten={"c2": LOST_BY_THE_HOST},
        host_rewound=True,
    )
    mapping = {
        "c1": row("c1", "people/ann", ann),
        "c2": row("c2", "people/lena", LENA),
    }

    actions = plan(snapshot, mapping, rules).actions

    assert actions[0] == CreateHost(Channel.CONTACTS, "people/lena", LENA, "e2")
    assert [type(a) for a in actions[1:]] == [Update]
    assert not [a for a in actions if isinstance(a, Forget)]


def row(host_id: str, remote_id: str, fields: ContactFields) -> MappingRow:
    return MappingRow(
        "studio.u7",
        Channel.CONTACTS,
        host_id,
        remote_id,
        RecordKind.CONTACT,
        encode_base(fields),
        "r1",
        "e1",
        NOW,
    )

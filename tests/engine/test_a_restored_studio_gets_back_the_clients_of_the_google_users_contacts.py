"""The studio's clients restored from a backup (its client feed tells: HostRewound): a client
calsync made from a contact the Google user added to the sync group, which the restore lost,
is made again in the studio from that contact, which stays in the group; a client the studio
made itself, lost so, keeps its contact in Google until the user confirms (held), as before.
Each test of a client coming back failed before the contacts channel brought them back."""

from __future__ import annotations

import attrs
import pytest
from restored_clients import (
    LENA,
    clients_world,
    lena_made_again_in_a_killed_run,
    lena_made_then_lost,
    lenas,
    members,
)
from studio_world import GROUP, NOW, USER, World, client

from calsync import ContactFields, StateStore
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
from calsync.state.base import MappingRow


@pytest.fixture
def world(store: StateStore) -> World:
    return clients_world(store)


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
    backup = world.clients.backup(USER)
    world.clock.advance(days=1)
    world.clients.add(USER, client("c9", given="Nora", family="Vale"), groups=[GROUP])
    assert world.sync().ok
    [nora] = [
        c
        for c, p in world.contacts.contacts(GROUP).items()
        if p.fields and p.fields.given_name == "Nora"
    ]
    world.clock.advance(days=2)
    world.clients.restore(backup)

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
    backup = world.clients.backup(USER)
    world.clock.advance(days=1)
    world.clients.add_to_group(USER, GROUP, made.id)
    assert world.sync().ok
    assert lena in world.contacts.contacts(GROUP)
    world.clock.advance(days=2)
    world.clients.restore(backup)

    report = world.sync()

    assert [held.item for held in report.held] == [made.id]
    assert lenas(world) == [world.clients.contacts(USER)[made.id]]
    assert members(world) == {"Ann"}
    assert lena in world.contacts.contacts(GROUP)


def test_a_run_killed_as_it_makes_the_client_again_makes_it_once(world: World) -> None:
    """The run is killed right after the studio made Lena again, before calsync recorded it:
    the next run (the studio still behind its cursor) pairs the client made with her contact,
    makes no second client nor a second contact."""
    lena, made = lena_made_again_in_a_killed_run(world)

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

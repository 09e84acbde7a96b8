"""Contacts carrying calsync's marker that are not synced: those outside the sync group are
left alone without a word; a second contact for a synced client is left and named. On the
emulator with the real google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from calsync import DeletionRules, Marker, Phone
from calsync.google.translate import MARKER_ITEM

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def contact_of(w: GoogleWorld, host_id: str) -> str:
    (found,) = [
        name
        for name, person in w.contacts_user.contacts().items()
        if {d["key"]: d["value"] for d in person.get("clientData", [])}.get(MARKER_ITEM) == host_id
    ]
    return found


def group_id(w: GoogleWorld, name: str) -> str:
    groups = w.google.account(w.token).contact_groups.values()
    (found,) = [g["resourceName"] for g in groups if g.get("name") == name]
    return str(found)


def synced(world: MakeWorld, studio: StudioBuilders, **options: Any) -> GoogleWorld:
    w = world(**options)
    w.clients.add(studio.user, studio.client("c1", "Ann"), groups=[studio.group])
    w.clients.add(studio.user, studio.client("c2", "Bea"), groups=[studio.group])
    assert w.sync().ok
    return w


def test_a_kept_contact_of_a_client_who_left_the_group_is_not_taken_out_again(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Before, the run after the client left wrote again and warned that the contact "was
    taken out of the sync group", and so did every later Google edit of that contact."""
    w = synced(world, studio, deletion_rules=DeletionRules(delete_removed_contacts=False))
    ann = contact_of(w, "c1")
    w.clients.remove_from_group_by_user(studio.user, studio.group, "c1")
    assert w.sync().writes == 1  # taken out of the Google group, kept

    quiet = w.sync()
    w.contacts_user.external_update(ann, phones=(Phone("+44 7700 900111"),))
    after_an_edit = w.sync()

    assert (quiet.writes, quiet.warnings) == (0, [])
    assert (after_an_edit.writes, after_an_edit.warnings) == (0, [])
    assert ann not in w.group_members()


def test_a_kept_contact_of_a_deleted_client_is_not_said_to_be_someone_elses(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Before, the next run said calsync "did not create" the contact it made and kept."""
    w = synced(world, studio, deletion_rules=DeletionRules(delete_removed_contacts=False))
    w.clients.remove(studio.user, "c1")
    assert w.sync().ok

    quiet = w.sync()

    assert (quiet.writes, quiet.warnings) == (0, [])


def test_a_contact_of_the_previous_sync_group_edited_in_google_gets_no_news(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(client_group="A", inbound_contacts=True)
    w.clients.add(studio.user, studio.client("c2", "Bea"), groups=["A"])
    w.clients.add(studio.user, studio.client("c3", "Cy"), groups=["B"])
    assert w.sync().ok
    bea = contact_of(w, "c2")
    w.options(client_group="B")
    assert w.sync().ok

    w.contacts_user.external_update(bea, notes="met at the fair")
    report = w.sync()

    assert (report.writes, report.warnings) == (0, [])


def test_a_second_contact_carrying_a_synced_clients_marker_is_named(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """A contact restored from Google's trash after calsync restored it, or the survivor of a
    merge, carries the marker of a client synced with another contact. Before, it was left in
    the group without a word."""
    w = synced(world, studio, inbound_contacts=True)
    ann = contact_of(w, "c1")
    second = w.contacts_user.external_create(
        studio.client("c1", "Ann").fields,
        groups=[group_id(w, studio.group)],
        marker=Marker("studio.u7", "c1"),
    )

    report = w.sync()

    assert report.ok, report.summary()
    assert report.writes == 0
    assert report.warnings == [
        f"left remote item {second.id} in place: it carries calsync's marker for 'c1', "
        f"which is synced with remote item {ann}"
    ]

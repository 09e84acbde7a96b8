"""Google changes a contact's resource name when it links the contact to a profile (a verified
email or phone number, say), and lists it under the new name with the old one in
``metadata.previousResourceNames``. calsync follows the contact there: one contact, updated in
place, no warning, never "deleted in Google" and restored beside itself. On the emulator
(which renames as Google does) with the real google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync.google.translate import Skipped, contact_from_json
from calsync.model import Channel, Marker

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def synced_client(world: MakeWorld, studio: StudioBuilders) -> tuple[GoogleWorld, str]:
    """A world with client c1 synced to a contact; the contact's resource name."""
    w = world()
    w.clients.add(studio.user, studio.client("c1", "Ann"), [studio.group])
    assert w.sync().ok
    [contact] = w.group_members()
    return w, contact


def notes_in_google(w: GoogleWorld) -> dict[str, str]:
    return {name: p["biographies"][0]["value"] for name, p in w.group_members().items()}


@pytest.mark.parametrize("listing", ["incremental", "full"])
def test_a_contact_google_renamed_is_updated_under_its_new_name(
    world: MakeWorld, studio: StudioBuilders, listing: str
) -> None:
    w, old = synced_client(world, studio)
    new = w.google.rename_contact(w.token, old)
    if listing == "full":
        w.contacts_user.expire_cursors()

    after_rename = w.sync()
    w.clients.edit(studio.user, "c1", notes="edited in the studio")
    after_edit = w.sync()

    assert (after_rename.warnings, after_edit.warnings) == ([], [])
    assert (after_rename.ok, after_rename.writes, after_edit.ok) == (True, 0, True)
    assert notes_in_google(w) == {new: "edited in the studio"}


def test_a_dry_run_after_a_rename_plans_an_update_and_the_run_after_it_follows(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w, old = synced_client(world, studio)
    new = w.google.rename_contact(w.token, old)
    w.clients.edit(studio.user, "c1", notes="edited in the studio")

    dry = w.sync(dry_run=True)
    real = w.sync()

    assert (dry.warnings, real.warnings) == ([], [])
    assert dry.planned == ["update remote for contact c1"]
    assert notes_in_google(w) == {new: "edited in the studio"}


def marked_copy_replaces(w: GoogleWorld, studio: StudioBuilders, contact: str) -> str:
    """The Google user puts a copy of ``contact`` (with calsync's marker for c1) in the group
    and deletes ``contact``; the copy's resource name."""
    [group_id] = [
        g["resourceName"]
        for g in w.google.account(w.token).contact_groups.values()
        if g.get("name") == studio.group
    ]
    fields = studio.client("c1", "Ann").fields
    marker = Marker(w.profile.id, "c1")
    copy = w.contacts_user.external_create(fields, [group_id], marker=marker).id
    w.contacts_user.external_delete(contact)
    return copy


@pytest.mark.parametrize("listing", ["incremental", "full"])
def test_a_gone_contact_whose_client_has_another_marked_contact_is_followed_there(
    world: MakeWorld, studio: StudioBuilders, listing: str
) -> None:
    """The pair's contact is gone, and the group holds another contact carrying calsync's
    marker for the same client (Google renamed it without saying so, or the user put a copy
    back): the pair moves there; nothing is restored beside it."""
    w, old = synced_client(world, studio)
    other = marked_copy_replaces(w, studio, old)
    if listing == "full":
        w.contacts_user.expire_cursors()

    followed = w.sync()
    w.clients.edit(studio.user, "c1", notes="edited in the studio")
    after_edit = w.sync()

    assert (followed.warnings, after_edit.warnings) == ([], [])
    assert notes_in_google(w) == {other: "edited in the studio"}


def test_a_marked_copy_is_not_followed_for_a_client_leaving_the_sync(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    """Calsync did not make the copy: when its client leaves in the same run, the pair ends
    and the copy is left to the Google user, as any copy is."""
    w, old = synced_client(world, studio)
    copy = marked_copy_replaces(w, studio, old)
    w.clients.remove(studio.user, "c1")

    report = w.sync()

    assert report.ok
    assert list(w.group_members()) == [copy]
    assert w.store.mappings(w.profile.id, Channel.CONTACTS) == {}


def test_a_person_read_names_the_resource_names_it_had_before() -> None:
    data = {
        "resourceName": "people/c2",
        "etag": "%e",
        "metadata": {"previousResourceNames": ["people/c1", "people/c2"]},
        "names": [{"givenName": "Ann"}],
    }

    contact = contact_from_json(data, "contactGroups/g")

    assert not isinstance(contact, Skipped)
    assert (contact.id, contact.previous_ids) == ("people/c2", ("people/c1",))

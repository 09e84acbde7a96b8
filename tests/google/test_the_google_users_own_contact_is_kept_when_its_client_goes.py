"""A contact the Google user made, which came to the studio as a client: when the studio takes
that client out of the sync group, or deletes it, the contact is taken out of the Google group
and kept, with what calsync does not model (other labels). On the emulator with the real
google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import ContactFields, Email

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


@pytest.mark.parametrize("how", ["taken out of the sync group", "deleted in the studio"])
def test_the_google_users_own_contact_is_kept_out_of_the_group(
    world: MakeWorld, studio: StudioBuilders, how: str
) -> None:
    w = world(inbound_contacts=True)
    w.clients.add(studio.user, studio.client("c1", "Ann"), groups=[studio.group])
    assert w.sync().ok
    [group] = [
        g["resourceName"]
        for g in w.google.account(w.token).contact_groups.values()
        if g.get("name") == studio.group
    ]
    groups = w.contacts_user.service.contactGroups()
    friends = groups.create(body={"contactGroup": {"name": "Friends"}}).execute()["resourceName"]
    fields = ContactFields(given_name="Hal", emails=(Email("hal@example.com"),))
    own = w.contacts_user.external_create(fields, groups=[group, friends]).id
    assert w.sync().ok
    [hal] = [c for c in w.clients.contacts(studio.user) if c != "c1"]

    if how == "deleted in the studio":
        w.clients.remove(studio.user, hal)
    else:
        w.clients.remove_from_group_by_user(studio.user, studio.group, hal)
    report = w.sync()

    assert report.ok, report.summary()
    assert own in w.contacts_user.contacts()
    assert own not in w.group_members()
    memberships = w.contacts_user.contacts()[own].get("memberships", [])
    labels = {m["contactGroupMembership"]["contactGroupResourceName"] for m in memberships}
    assert friends in labels
    assert w.sync().writes == 0

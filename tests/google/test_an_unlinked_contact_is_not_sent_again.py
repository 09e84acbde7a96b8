"""``DeletionRules(contact=RemoteDeletion.UNLINK)``: a contact the Google user deleted does not
come back, and one they took out of the group gets no twin in it, run after run. On the
emulator with the real google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import DeletionRules, RemoteDeletion

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


@pytest.mark.parametrize("how", ["deleted", "taken out of the group"])
def test_an_unlinked_contact_is_not_sent_again(
    world: MakeWorld, studio: StudioBuilders, how: str
) -> None:
    w = world(deletion_rules=DeletionRules(contact=RemoteDeletion.UNLINK))
    w.clients.add(studio.user, studio.client("c1", "Ann"), groups=[studio.group])
    assert w.sync().ok
    [ann] = w.group_members()
    if how == "deleted":
        w.contacts_user.external_delete(ann)
    else:
        [group] = [
            g["resourceName"]
            for g in w.google.account(w.token).contact_groups.values()
            if g.get("name") == studio.group
        ]
        w.contacts_user.external_remove_from_group(ann, group)
    before = set(w.contacts_user.contacts())

    runs = [w.sync(), w.sync(), w.sync()]

    assert all(r.ok for r in runs)
    assert [r.writes for r in runs[1:]] == [0, 0]
    assert set(w.contacts_user.contacts()) == before
    assert w.group_members() == {}

"""A sync group's Google label deleted while empty leaves no trace in an incremental listing
(no contact leaves it): the first write naming it makes it again, and the clients added
meanwhile go out in that run, without an error. On the emulator with the real
google-api-python-client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator


def group_ids(w: GoogleWorld, name: str) -> list[str]:
    groups = w.google.account(w.token).contact_groups.values()
    return [str(g["resourceName"]) for g in groups if g.get("name") == name]


def test_clients_added_after_the_empty_group_was_deleted_go_out_in_the_next_run(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(inbound_contacts=True)
    assert w.sync().ok  # the empty group is made
    [old] = group_ids(w, studio.group)
    w.contacts_user.external_delete_group(old)
    assert w.sync().ok

    w.clients.add(studio.user, studio.client("c1", "Ann"), groups=[studio.group])
    report = w.sync()

    assert [str(e) for e in report.errors] == []
    [new] = group_ids(w, studio.group)
    assert new != old
    assert len(w.group_members()) == 1
    assert w.sync().writes == 0


def test_a_quiet_run_after_the_empty_group_was_deleted_makes_one_people_call(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(inbound_contacts=True)
    assert w.sync().ok
    w.contacts_user.external_delete_group(group_ids(w, studio.group)[0])
    before = w.google.stats()["api_calls"]

    assert w.sync().writes == 0

    calendar_and_people = w.google.stats()["api_calls"] - before
    assert calendar_and_people <= 2  # the calendar's listing and the contacts' listing

"""Per-item errors stay per item, and a dry run changes nothing anywhere (emulator, real
client, through the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import Side
from calsync.model import Channel

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator

NS = "studio.u7"


def test_a_404_answering_one_batched_insert_is_that_items_error_not_a_deleted_calendar(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    for number in range(4):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
    w.google.inject_fault(404, "notFound", api_method="calendar.events.insert", count=1)

    first = w.sync()

    assert (first.calendar_gone, first.fatal) == (False, None)
    assert len(first.errors) == 1
    assert first.count(Side.REMOTE, "created") == 3
    assert len(w.store.mappings(NS, Channel.CALENDAR)) == 3
    second = w.sync()
    assert second.ok, second.summary()
    assert len(w.events()) == 4


def test_a_dry_run_of_both_channels_changes_neither_google_the_host_nor_the_state(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(inbound_calendar=True, inbound_contacts=True)
    for number in range(3):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
        w.clients.add(studio.user, studio.client(f"c{number}", f"Client{number}"), [studio.group])
    account_before = w.google.account(w.token)
    items_before, clients_before = w.items(), w.clients.contacts(studio.user)
    store_before = (
        [(w.store.mappings(NS, c), w.store.pending(NS, c)) for c in Channel],
        w.store.profile_ids(),
    )

    report = w.sync(dry_run=True)

    assert w.google.account(w.token) == account_before
    assert not account_before.contact_groups or all(
        g.get("name") != studio.group for g in account_before.contact_groups.values()
    )
    assert (w.items(), w.clients.contacts(studio.user)) == (items_before, clients_before)
    store_after = (
        [(w.store.mappings(NS, c), w.store.pending(NS, c)) for c in Channel],
        w.store.profile_ids(),
    )
    assert store_after == store_before
    assert report.would["remote.created"] == 6
    assert "would be 6 created" in report.summary()
    real = w.sync()
    assert real.count(Side.REMOTE, "created") == 6

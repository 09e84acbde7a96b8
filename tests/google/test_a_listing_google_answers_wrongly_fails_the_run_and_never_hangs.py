"""A listing Google answers wrongly fails the run with a readable error, never hangs it, and
skips nothing: the next run lists again and finds what the broken one could not read.

The emulator serves the broken answers (``inject_fault(answer=...)``): a page whose
``nextPageToken`` leads back to itself (before, calsync asked for it again and again, for
ever), and a page whose entries are ``null`` (before, a ``TypeError`` failed the run as
"'NoneType' object is not iterable"). Each is served a bounded number of times, so that a
calsync that loops ends its loop with another error and the test fails instead of hanging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from calsync import EventFields, ItemKind

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import GoogleWorld, MakeWorld

    from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator

ROUND = '{"%s": [], "nextPageToken": "round"}'
#: how many times a broken answer is served: a listing that loops asks for far more pages
SERVED = 40


def fatal_of(w: GoogleWorld) -> str:
    w.google.reset_stats()
    report = w.sync()
    assert not report.ok
    return report.summary()


def test_a_calendar_listing_whose_page_token_leads_back_fails_the_run_and_the_next_reads_all(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    w.calendar_user.external_create(w.calendar_id, EventFields("Dentist", when=studio.timed(4)))
    w.google.inject_fault(answer=ROUND % "items", api_method="calendar.events.list", count=SERVED)

    summary = fatal_of(w)

    assert "page token it gave before" in summary
    assert w.google.stats()["methods"]["calendar.events.list"] <= 3  # (not SERVED)
    w.google.clear_faults()
    assert w.sync().ok
    assert [i.title for i in w.items().values() if i.kind is ItemKind.UNLINKED] == ["Dentist"]


def test_a_calendar_listing_page_whose_items_are_null_fails_the_run_and_skips_nothing(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False, inbound_calendar=True)
    w.sync()
    w.calendar_user.external_create(w.calendar_id, EventFields("Dentist", when=studio.timed(4)))
    w.google.inject_fault(
        answer='{"items": null, "nextSyncToken": "after"}', api_method="calendar.events.list"
    )

    summary = fatal_of(w)

    assert "items is null" in summary
    assert "NoneType" not in summary
    assert w.sync().ok  # (the broken page's sync token was not kept)
    assert [i.title for i in w.items().values() if i.kind is ItemKind.UNLINKED] == ["Dentist"]


def test_a_contacts_listing_whose_page_token_leads_back_fails_the_run_and_the_next_reads_all(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=True)
    w.clients.add(studio.user, studio.client("c1"), groups=[studio.group])
    w.sync()
    w.google.inject_fault(
        answer=ROUND % "connections", api_method="people.people.connections.list", count=SERVED
    )

    summary = fatal_of(w)

    assert "page token it gave before" in summary
    assert w.google.stats()["methods"]["people.people.connections.list"] <= 3
    w.google.clear_faults()
    w.clients.edit(studio.user, "c1", notes="Prefers mornings")
    assert w.sync().ok
    [contact] = w.contacts_user.contacts().values()
    assert contact["biographies"][0]["value"] == "Prefers mornings"


def test_the_emulator_refuses_a_fault_with_both_an_error_and_an_answer(
    google: GoogleEmulator,
) -> None:
    with pytest.raises(ValueError, match="not both"):
        google.inject_fault(500, answer="{}")

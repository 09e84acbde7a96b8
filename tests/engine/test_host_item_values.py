"""What a host item says of itself beyond its ids — its revision and when it last changed —
is kept or compared by calsync, so the host must give values calsync can keep and compare: a
revision no state store can hold (a NUL, half of a UTF-16 pair, not text) or an ``updated``
without a time zone (or not a time) is the host's mistake. The item is reported by its id,
saying what is wrong (never the value itself), and skipped before anything is sent for it;
the rest of the run goes on. (Before, such an item was sent and its pair could never be
recorded, or one such item made ``newest_wins`` fail the whole calendar sync.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from studio_world import (
    CAL,
    GROUP,
    NOW,
    USER,
    World,
    appointment,
    client,
    make_world,
    session,
    timed,
)

from calsync import Contact, ScheduleItem, Side, StateStore, TimeRange
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields
from calsync.policies import FieldConflict, newest_wins, resolve
from calsync.sources import Unreadable
from calsync.testing import MemoryContactSource, MemoryScheduleSource

NS = "studio.u7"

#: revisions no state store can keep, and what the report says of each
BAD_REVISIONS = [
    pytest.param("r\x00 1", "its revision holds a NUL character, which cannot be stored", id="NUL"),
    pytest.param(
        "r\udc80",
        "its revision holds half of a UTF-16 pair, which cannot be stored",
        id="lone surrogate",
    ),
    pytest.param(7, "its revision is int, not text", id="int"),
]
#: modification times calsync cannot compare with Google's, and what the report says
BAD_TIMES = [
    pytest.param(datetime(2031, 3, 1, 12, 0), "its updated time has no time zone", id="naive"),
    pytest.param("2031-03-01T12:00Z", "its updated time is str, not a datetime", id="text"),
]


class SaysOfItems(MemoryScheduleSource):
    """A schedule that says ``said[item id]`` (attribute values) of the items it lists and
    reads: what a host adapter got wrong in its rows."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.said: dict[str, dict[str, Any]] = {}

    def _as_said(self, item: ScheduleItem | Unreadable) -> ScheduleItem | Unreadable:
        if isinstance(item, ScheduleItem) and item.id in self.said:
            return attrs.evolve(item, **self.said[item.id])
        return item

    def list_items(self, user_id: str, window: TimeRange) -> list[ScheduleItem | Unreadable]:
        return [self._as_said(item) for item in super().list_items(user_id, window)]

    def get_item(self, user_id: str, item_id: str) -> ScheduleItem | Unreadable | None:
        found = super().get_item(user_id, item_id)
        return None if found is None else self._as_said(found)


class SaysOfClients(MemoryContactSource):
    """The clients' side of :class:`SaysOfItems`."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.said: dict[str, dict[str, Any]] = {}

    def _as_said(self, contact: Contact | Unreadable) -> Contact | Unreadable:
        if isinstance(contact, Contact) and contact.id in self.said:
            return attrs.evolve(contact, **self.said[contact.id])
        return contact

    def list_group(self, user_id: str, group: str) -> list[Contact | Unreadable]:
        return [self._as_said(contact) for contact in super().list_group(user_id, group)]

    def get_contact(self, user_id: str, contact_id: str) -> Contact | Unreadable | None:
        found = super().get_contact(user_id, contact_id)
        return None if found is None else self._as_said(found)


@pytest.fixture
def schedule(world: World) -> SaysOfItems:
    says = SaysOfItems(now=world.clock)
    world.schedule = says
    return says


@pytest.fixture
def clients_world(store: StateStore) -> World:
    world = make_world(store, contacts=True, inbound_contacts=True, client_group=GROUP)
    world.clients = SaysOfClients(now=world.clock)
    return world


def said_of(world: World) -> dict[str, dict[str, Any]]:
    clients = world.clients
    assert isinstance(clients, SaysOfClients)
    return clients.said


def skipped(report: Any, what: str, host_id: str) -> list[str]:
    return [w for w in report.warnings if w.startswith(f"{what} {host_id} was skipped: ")]


# -- revisions ---------------------------------------------------------------------------


def given_names(world: World) -> list[str]:
    """The given names of the contacts in Google."""
    return [c.fields.given_name for c in world.contacts.contacts().values() if c.fields]


@pytest.mark.parametrize(("revision", "why"), BAD_REVISIONS)
def test_an_item_whose_revision_cannot_be_kept_is_reported_and_never_sent(
    world: World, schedule: SaysOfItems, revision: Any, why: str
) -> None:
    schedule.add(USER, session("s1"))
    schedule.add(USER, appointment("a1", title="Dentist"))
    schedule.said["a1"] = {"revision": revision}

    report = world.sync()

    assert report.fatal is None
    assert report.errors == []
    assert set(world.events()) == {event_id_for(NS, "s1")}
    [warning] = skipped(report, "item", "a1")
    assert warning == f"item a1 was skipped: it was not sent: {why}"
    assert report.counts == {"remote.created": 1}
    # every later run says so again, and sends nothing for it
    again = world.sync()
    assert (again.writes, again.errors) == (0, [])
    assert skipped(again, "item", "a1") == [warning]
    assert set(world.store.mappings(NS, Channel.CALENDAR)) == {"s1"}


@pytest.mark.parametrize(("revision", "why"), BAD_REVISIONS)
def test_an_edit_under_a_revision_that_cannot_be_kept_leaves_the_event_and_its_pair(
    world: World, schedule: SaysOfItems, revision: Any, why: str
) -> None:
    schedule.add(USER, appointment("a1", title="Dentist"))
    world.sync()
    event = world.events()[event_id_for(NS, "a1")]
    schedule.edit(USER, "a1", title="Dentist (moved)")
    schedule.said["a1"] = {"revision": revision}

    report = world.sync()

    assert (report.fatal, report.errors, report.writes) == (None, [], 0)
    assert skipped(report, "item", "a1") == [f"item a1 was skipped: it was not sent: {why}"]
    assert world.events()[event_id_for(NS, "a1")] == event  # neither updated nor deleted
    assert set(world.store.mappings(NS, Channel.CALENDAR)) == {"a1"}
    # the host mends the revision: the edit goes out to the same event
    del schedule.said["a1"]
    mended = world.sync()
    assert mended.counts == {"remote.updated": 1}
    fields = world.events()[event_id_for(NS, "a1")].fields
    assert fields is not None
    assert fields.title == "Dentist (moved)"


def test_a_huge_revision_is_kept_and_a_second_run_is_quiet(
    world: World, schedule: SaysOfItems
) -> None:
    schedule.add(USER, appointment("a1", title="Dentist"))
    schedule.said["a1"] = {"revision": "r" * 2_000_000}

    assert world.sync().counts == {"remote.created": 1}
    quiet = world.sync()
    assert (quiet.writes, quiet.warnings) == (0, [])


@pytest.mark.parametrize(("revision", "why"), BAD_REVISIONS)
def test_a_client_whose_revision_cannot_be_kept_is_reported_and_never_sent(
    clients_world: World, revision: Any, why: str
) -> None:
    world = clients_world
    world.clients.add(USER, client("c0", "Good"), groups=[GROUP])
    world.clients.add(USER, client("c1", "Bad"), groups=[GROUP])
    said_of(world)["c1"] = {"revision": revision}

    report = world.sync()

    assert (report.fatal, report.errors) == (None, [])
    assert given_names(world) == ["Good"]
    assert skipped(report, "client", "c1") == [f"client c1 was skipped: it was not sent: {why}"]
    again = world.sync()
    assert (again.writes, again.errors) == (0, [])
    assert set(world.store.mappings(NS, Channel.CONTACTS)) == {"c0"}


def test_the_report_shows_no_part_of_a_bad_revision(
    world: World, schedule: SaysOfItems, caplog: pytest.LogCaptureFixture
) -> None:
    schedule.add(USER, appointment("a1", title="Dentist"))
    schedule.said["a1"] = {"revision": "Ann Smith \x00 +44 20 7946 0001"}

    with caplog.at_level(logging.DEBUG, logger="calsync"):
        report = world.sync()

    assert skipped(report, "item", "a1")
    shown = "\n".join([*report.warnings, report.summary(), str(report.to_dict())])
    assert "Ann Smith" not in shown
    assert "Ann Smith" not in caplog.text


# -- modification times ----------------------------------------------------------------


def a_true_conflict_on_an_unlinked_appointment(world: World, schedule: SaysOfItems) -> str:
    """An event made in Google comes back as an unlinked appointment; then both sides
    retitle it. Returns the appointment's host id."""
    world.options(conflict_policy=newest_wins)
    made = world.calendar.external_create(CAL, EventFields(title="Venue visit", when=timed(4, 9)))
    world.sync()
    [unlinked] = schedule.items(USER).values()
    schedule.edit(USER, unlinked.id, title="Venue visit (studio)")
    world.clock.advance(minutes=5)
    world.calendar.external_update(CAL, made.id, title="Venue visit (google)")
    return unlinked.id


@pytest.mark.parametrize(("updated", "why"), BAD_TIMES)
def test_an_item_changed_at_a_time_without_a_zone_is_reported_and_the_rest_syncs(
    world: World, schedule: SaysOfItems, updated: Any, why: str
) -> None:
    """Before, ``newest_wins`` raised comparing it with Google's time, and the whole
    calendar sync of the user failed on every run."""
    host_id = a_true_conflict_on_an_unlinked_appointment(world, schedule)
    schedule.said[host_id] = {"updated": updated}
    schedule.add(USER, appointment("a2", title="New booking"))

    report = world.sync()

    assert (report.fatal, report.errors) == (None, [])
    assert skipped(report, "item", host_id) == [
        f"item {host_id} was skipped: it was not sent: {why}"
    ]
    assert event_id_for(NS, "a2") in world.events()  # the new booking went out
    titles = {e.fields.title for e in world.events().values() if e.fields is not None}
    assert titles == {"Venue visit (google)", "New booking"}  # the conflict is left alone
    assert schedule.items(USER)[host_id].title == "Venue visit (studio)"
    # once the host says when, in a zone, newest_wins decides (Google's edit is newer)
    del schedule.said[host_id]
    decided = world.sync()
    assert (decided.fatal, decided.errors) == (None, [])
    assert schedule.items(USER)[host_id].title == "Venue visit (google)"


@pytest.mark.parametrize(("updated", "why"), BAD_TIMES)
def test_a_client_changed_at_a_time_without_a_zone_is_reported_and_the_rest_syncs(
    clients_world: World, updated: Any, why: str
) -> None:
    world = clients_world
    world.options(conflict_policy=newest_wins)
    world.clients.add(USER, client("c1", "Ann"), groups=[GROUP])
    world.sync()
    [contact_id] = world.contacts.contacts()
    world.clients.edit(USER, "c1", given_name="Anne")
    world.contacts.external_update(contact_id, given_name="Annie")
    said_of(world)["c1"] = {"updated": updated}
    world.clients.add(USER, client("c2", "Bea"), groups=[GROUP])

    report = world.sync()

    assert (report.fatal, report.errors) == (None, [])
    assert skipped(report, "client", "c1") == [f"client c1 was skipped: it was not sent: {why}"]
    names = sorted(given_names(world))
    assert names == ["Annie", "Bea"]
    assert world.clients.contacts(USER)["c1"].fields.given_name == "Anne"  # not overwritten


def test_an_item_at_an_aware_time_in_any_zone_is_kept(world: World, schedule: SaysOfItems) -> None:
    schedule.add(USER, appointment("a1", title="Dentist"))
    schedule.said["a1"] = {
        "updated": datetime(2031, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))
    }

    report = world.sync()

    assert (report.counts, report.warnings) == ({"remote.created": 1}, [])


# -- newest_wins itself --------------------------------------------------------------------


def conflict(host: Any, remote: Any) -> FieldConflict:
    return FieldConflict("a1", "title", "a", "b", "c", host, remote)


@pytest.mark.parametrize(
    ("host", "remote"),
    [
        (datetime(2031, 3, 1, 12, 0), NOW),
        (NOW, datetime(2031, 3, 1, 12, 0)),
        ("2031-03-01T12:00Z", NOW),
        (NOW.date(), NOW),
    ],
    ids=["naive host time", "naive remote time", "text", "a date"],
)
def test_newest_wins_abstains_on_a_time_it_cannot_compare_and_says_so(
    host: Any, remote: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: whatever reaches it, a bad time is never a run's failure."""
    with caplog.at_level(logging.WARNING, logger="calsync.policies"):
        assert newest_wins(conflict(host, remote)) is None
        assert resolve(newest_wins, conflict(host, remote)) is Side.HOST
    assert "newest_wins cannot tell which side of a1 (title) changed last" in caplog.text


def test_newest_wins_compares_aware_times_in_any_zones_as_instants() -> None:
    five_ahead = timezone(timedelta(hours=5))
    later = (NOW + timedelta(minutes=1)).astimezone(five_ahead)
    assert newest_wins(conflict(later, NOW)) is Side.HOST
    assert newest_wins(conflict(NOW, later)) is Side.REMOTE
    assert newest_wins(conflict(NOW.astimezone(five_ahead), NOW.astimezone(UTC))) is None


# -- the pair of a skipped item ------------------------------------------------------------


def test_a_google_edit_to_an_item_the_host_cannot_read_waits_until_it_can(
    world: World, schedule: SaysOfItems
) -> None:
    """The pair of a skipped host item takes no part in the run: a Google edit is neither
    written over the host item calsync could not see (before, it was: over an edit the host
    made, when the item was skipped for its revision or time) nor lost — the cursors stay,
    and it comes in once the item can be read."""
    world.calendar.external_create(CAL, EventFields(title="Venue visit", when=timed(4, 9)))
    world.sync()
    [unlinked] = schedule.items(USER).values()
    [event_id] = world.events()
    schedule.add_corrupt(USER, unlinked, "its end is before its start")
    world.calendar.external_update(CAL, event_id, title="Venue visit (google)")

    for _ in range(2):
        report = world.sync()
        assert (report.fatal, report.errors, report.writes) == (None, [], 0)
        assert f"item {unlinked.id} could not be read, so it was skipped" in report.warnings[0]

    schedule.repair(USER, unlinked)
    mended = world.sync()
    assert (mended.fatal, mended.errors) == (None, [])
    assert schedule.items(USER)[unlinked.id].title == "Venue visit (google)"

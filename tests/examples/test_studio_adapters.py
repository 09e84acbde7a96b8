"""The studio example's adapters: calsync's contract suites, the studio's own rules, and a
whole sync of the seeded studio through the sync processor."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from studio.adapters import StudioClients, StudioProfiles, StudioSchedule, client_key, span_of
from studio.db import (
    GooglePrefs,
    Span,
    Studio,
    User,
    appointment_key,
    parse_item_key,
    session_key,
)
from studio.seed import WEDDINGS, SeededStudio, seed_demo_studio
from studio_rows import corrupt_client, corrupt_row

from calsync import (
    AllDay,
    ClientInfo,
    Contact,
    ContactFields,
    ContactUpdate,
    EventFields,
    InvalidHostItem,
    ItemKind,
    ItemUpdate,
    MemoryStateStore,
    Phone,
    ProfileStatus,
    ScheduleItem,
    SourceError,
    SyncEngine,
    SyncProfile,
    Timed,
    TimeRange,
)
from calsync.processor import Connection, SyncProcessor
from calsync.testing import MemoryCalendarBackend, MemoryContactsBackend
from calsync.testing.contracts.sources import (
    ContactHarness,
    ContactSourceContract,
    Defect,
    ScheduleHarness,
    ScheduleSourceContract,
)

NOW = datetime(2027, 5, 3, 8, 30, tzinfo=UTC)
MAY = TimeRange(datetime(2027, 5, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))


@pytest.fixture
def studio() -> Iterator[Studio]:
    with Studio(":memory:") as db:
        yield db


def _client_columns(fields: ContactFields) -> dict[str, str]:
    columns = {
        "first_name": fields.given_name,
        "last_name": fields.family_name,
        "organization": fields.organization,
        "notes": fields.notes,
    }
    if fields.phones:
        columns["phone"] = fields.phones[0].number
    if fields.emails:
        columns["email"] = fields.emails[0].address
    return columns


class StudioScheduleDriver:
    """What the contract suite needs staff to do, done through the studio's own methods."""

    def __init__(self, studio: Studio, source: StudioSchedule, path: Path | None = None) -> None:
        self.studio = studio
        self.source = source
        self.path = path

    def add(self, user_id: str, item: ScheduleItem) -> ScheduleItem:
        user, span = int(user_id), span_of(item.when)
        text = {"notes": item.description, "location": item.location}
        if item.kind is ItemKind.SESSION:
            assert item.client is not None
            client = self._client(item.client)
            key = session_key(
                self.studio.book_session(
                    user, client, item.session_type, span, title=item.title, **text
                )
            )
        elif item.kind is ItemKind.UNLINKED:
            origin = item.remote_id or f"driver-{item.id}"
            key = appointment_key(self.studio.add_unlinked(user, origin, item.title, span, **text))
        else:
            key = appointment_key(self.studio.add_appointment(user, item.title, span, **text))
        return self._get(user_id, key)

    def remove(self, user_id: str, item_id: str) -> None:
        key = parse_item_key(item_id)
        assert key is not None
        if key[0] == "session":
            self.studio.cancel_session(key[1])
        else:
            self.studio.delete_appointment(key[1])

    def convert(
        self,
        user_id: str,
        unlinked_id: str,
        *,
        client: ClientInfo,
        session_type: str,
        new_id: str | None = None,
    ) -> ScheduleItem:
        key = parse_item_key(unlinked_id)
        assert key is not None
        session_id = self.studio.convert_to_session(key[1], self._client(client), session_type)
        return self._get(user_id, session_key(session_id))

    def _client(self, info: ClientInfo) -> int:
        first, _, last = info.name.partition(" ")
        return self.studio.add_client(first, last, phone=info.phone, email=info.email)

    def add_corrupt(self, user_id: str, item: ScheduleItem, defect: Defect) -> str:
        existing = self.source.get_item(user_id, item.id) if parse_item_key(item.id) else None
        key = item.id if existing is not None else self.add(user_id, item).id
        assert self.path is not None, "corrupt rows need a studio file"
        corrupt_row(self.path, key, defect)
        return key

    def _get(self, user_id: str, key: str) -> ScheduleItem:
        item = self.source.get_item(user_id, key)
        assert isinstance(item, ScheduleItem)
        return item


class StudioClientDriver:
    def __init__(self, studio: Studio, source: StudioClients, path: Path | None = None) -> None:
        self.studio = studio
        self.source = source
        self.path = path

    def add(self, user_id: str, contact: Contact, groups: Iterable[str] = ()) -> Contact:
        client_id = self.studio.add_client(**_client_columns(contact.fields))
        for group in groups:
            group_id = self.studio.group_id(group) or self.studio.add_group(group)
            self.studio.add_to_group(group_id, client_id)
        stored = self.source.get_contact(user_id, client_key(client_id))
        assert isinstance(stored, Contact)
        return stored

    def add_corrupt(self, user_id: str, contact: Contact, groups: Iterable[str] = ()) -> str:
        added = self.add(user_id, contact, groups)
        assert self.path is not None, "corrupt rows need a studio file"
        corrupt_client(self.path, int(added.id.removeprefix("client-")))
        return added.id

    def remove(self, user_id: str, contact_id: str) -> None:
        self.studio.delete_client(int(contact_id.removeprefix("client-")))


@pytest.fixture
def studio_file(tmp_path: Path) -> Iterator[tuple[Studio, Path]]:
    """A studio on a file, so a test can also write to it as another program would."""
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as db:
        yield db, path


class TestStudioScheduleContract(ScheduleSourceContract):
    @pytest.fixture
    def schedule_harness(self, studio_file: tuple[Studio, Path]) -> ScheduleHarness:
        studio, path = studio_file
        ann, ben = studio.add_user("Ann"), studio.add_user("Ben")
        source = StudioSchedule(studio)
        driver = StudioScheduleDriver(studio, source, path)
        return ScheduleHarness(source, driver, str(ann), str(ben))


class TestStudioClientsContract(ContactSourceContract):
    @pytest.fixture
    def contact_harness(self, studio_file: tuple[Studio, Path]) -> ContactHarness:
        studio, path = studio_file
        ann, ben = studio.add_user("Ann"), studio.add_user("Ben")
        source = StudioClients(studio)
        driver = StudioClientDriver(studio, source, path)
        harness = ContactHarness(source, driver, str(ann), str(ben))
        studio.add_group(harness.group)
        studio.add_group(harness.other_group)
        return harness

    @pytest.mark.skip(
        reason="studio clients and client groups are shared by all staff; each user only "
        "chooses which group to sync (see test_users_who_chose_the_same_group_both_sync_it)"
    )
    def test_users_do_not_see_each_others_clients(self, contact_harness: ContactHarness) -> None:
        """Not a studio rule: see the skip reason."""


def test_a_studio_file_keeps_its_data_when_reopened(tmp_path: Path) -> None:
    path = tmp_path / "studio.sqlite3"
    with Studio(path) as studio:
        ann = studio.add_user("Ann Avery", "ann@lumen-studio.example")

    with Studio(path) as studio:
        assert User(ann, "Ann Avery", "ann@lumen-studio.example") == studio.user(ann)


# -- the schedule ------------------------------------------------------------------------


@pytest.fixture
def seeded(studio: Studio) -> SeededStudio:
    return seed_demo_studio(studio, now=NOW)


def test_a_clients_new_phone_gives_their_sessions_a_new_revision_and_a_place_in_the_feed(
    studio: Studio, seeded: SeededStudio
) -> None:
    schedule = StudioSchedule(studio)
    ann = str(seeded.users["ann"])
    engagement = session_key(seeded.sessions[0])
    before = schedule.get_item(ann, engagement)
    cursor = schedule.change_cursor(ann)
    assert isinstance(before, ScheduleItem)
    assert cursor is not None

    studio.update_client(seeded.clients["harriet"], phone="+44 20 7946 0999")

    after = schedule.get_item(ann, engagement)
    assert isinstance(after, ScheduleItem)
    assert after.client is not None
    assert after.client.phone == "+44 20 7946 0999"
    assert before.revision != after.revision
    changed = schedule.changes_since(ann, cursor).changed
    assert [engagement] == [item.id for item in changed]


def test_cara_sees_her_session_for_the_same_client_change_in_her_own_feed(
    studio: Studio, seeded: SeededStudio
) -> None:
    schedule = StudioSchedule(studio)
    cara, ben = str(seeded.users["cara"]), str(seeded.users["ben"])
    cursors = {user: schedule.change_cursor(user) or "" for user in (cara, ben)}

    studio.update_client(seeded.clients["harriet"], last_name="Moss-Hale")

    assert [session_key(seeded.sessions[7])] == [
        item.id for item in schedule.changes_since(cara, cursors[cara]).changed
    ]
    assert schedule.changes_since(ben, cursors[ben]).changed == ()


def test_a_converted_appointment_becomes_a_session_that_replaces_it(studio: Studio) -> None:
    schedule = StudioSchedule(studio)
    ben = studio.add_user("Ben")
    client = studio.add_client("Sofia", "Marin", phone="+1 212 555 0147")
    start = datetime(2027, 5, 20, 15, tzinfo=UTC)
    fields = EventFields(
        "Call Sofia", "About the venue", "Phone", Timed(start, start + timedelta(hours=1), "UTC")
    )
    unlinked = schedule.create_unlinked(str(ben), fields, "google-event-1")
    cursor = schedule.change_cursor(str(ben))
    assert cursor is not None

    session_id = studio.convert_to_session(int(unlinked.id.split("-")[1]), client, "Consultation")

    session = schedule.get_item(str(ben), unlinked.id)
    assert isinstance(session, ScheduleItem)
    assert (session_key(session_id), ItemKind.SESSION, unlinked.id) == (
        session.id,
        session.kind,
        session.replaces,
    )
    assert (unlinked.when, unlinked.title, "Consultation") == (
        session.when,
        session.title,
        session.session_type,
    )
    assert [session.id] == [item.id for item in schedule.list_items(str(ben), MAY)]
    changes = schedule.changes_since(str(ben), cursor)
    assert ([session.id], (unlinked.id,)) == ([i.id for i in changes.changed], changes.deleted)


def test_only_unlinked_appointments_can_be_converted(studio: Studio) -> None:
    ann = studio.add_user("Ann")
    client = studio.add_client("Priya", "Shah")
    appointment = studio.add_appointment(
        ann, "Staff meeting", Span(date(2027, 5, 4), date(2027, 5, 5))
    )

    with pytest.raises(ValueError, match="not an unlinked appointment"):
        studio.convert_to_session(appointment, client, "Headshots")


def test_google_can_move_a_session_but_not_retitle_it(studio: Studio, seeded: SeededStudio) -> None:
    schedule = StudioSchedule(studio)
    ann, wedding = str(seeded.users["ann"]), session_key(seeded.sessions[2])
    moved = AllDay(date(2027, 6, 1), date(2027, 6, 3))

    with pytest.raises(InvalidHostItem, match="session templates"):
        schedule.update_item(
            ann,
            wedding,
            ItemUpdate(EventFields("Party!", when=moved), frozenset({"title", "when"})),
        )
    updated = schedule.update_item(
        ann, wedding, ItemUpdate(EventFields(when=moved), frozenset({"when"}))
    )

    assert (moved, "Wedding") == (updated.when, updated.session_type)


def test_timed_items_keep_their_zone_and_wall_clock_time(
    studio: Studio, seeded: SeededStudio
) -> None:
    schedule = StudioSchedule(studio)

    portraits = schedule.get_item(str(seeded.users["ben"]), session_key(seeded.sessions[4]))

    assert isinstance(portraits, ScheduleItem)
    assert isinstance(portraits.when, Timed)
    assert portraits.when.zone == "America/New_York"
    local = portraits.when.start.astimezone(ZoneInfo(portraits.when.zone))
    assert (NOW.date() + timedelta(days=2), 9, 30) == (local.date(), local.hour, local.minute)


def test_the_listing_finds_items_whose_local_date_is_not_their_utc_date(studio: Studio) -> None:
    schedule = StudioSchedule(studio)
    ann = studio.add_user("Ann")
    # 1 June 09:00 in Kiritimati (UTC+14) is still 31 May in UTC: inside May.
    kiribati = studio.add_appointment(
        ann,
        "Sunrise shoot",
        Span(datetime(2027, 6, 1, 9), datetime(2027, 6, 1, 10), "Pacific/Kiritimati"),
    )
    # 30 April 20:00 in Pago Pago (UTC-11) is 1 May in UTC: inside May too.
    samoa = studio.add_appointment(
        ann,
        "Sunset shoot",
        Span(datetime(2027, 4, 30, 20), datetime(2027, 4, 30, 21), "Pacific/Pago_Pago"),
    )
    # 1 June 09:00 in London is June in UTC: outside.
    studio.add_appointment(
        ann, "Too late", Span(datetime(2027, 6, 1, 9), datetime(2027, 6, 1, 10), "Europe/London")
    )

    listed = {item.id for item in schedule.list_items(str(ann), MAY)}

    assert {appointment_key(kiribati), appointment_key(samoa)} == listed


def test_an_unknown_user_is_an_error_never_an_empty_schedule(studio: Studio) -> None:
    with pytest.raises(SourceError):
        StudioSchedule(studio).list_items("404", MAY)


def test_a_trimmed_change_log_refuses_the_cursors_before_it(
    studio: Studio, seeded: SeededStudio
) -> None:
    schedule = StudioSchedule(studio)
    ann = str(seeded.users["ann"])
    old = schedule.change_cursor(ann)
    assert old is not None
    studio.add_appointment(int(ann), "Later", Span(date(2027, 5, 9), date(2027, 5, 10)))
    recent = schedule.change_cursor(ann)
    assert recent is not None

    studio.trim_change_log(studio.change_position())

    with pytest.raises(LookupError):
        schedule.changes_since(ann, old)
    assert schedule.changes_since(ann, recent).changed == ()


def test_the_change_feed_reports_an_item_edited_then_deleted_once_as_deleted(
    studio: Studio, seeded: SeededStudio
) -> None:
    schedule = StudioSchedule(studio)
    cara, holiday = str(seeded.users["cara"]), seeded.appointments[4]
    cursor = schedule.change_cursor(cara)
    assert cursor is not None

    studio.update_appointment(holiday, title="Holiday (Lisbon)")
    studio.delete_appointment(holiday)

    changes = schedule.changes_since(cara, cursor)
    assert ((), (appointment_key(holiday),)) == (changes.changed, changes.deleted)


# -- clients -----------------------------------------------------------------------------


def test_users_who_chose_the_same_group_both_sync_it(studio: Studio, seeded: SeededStudio) -> None:
    clients = StudioClients(studio)
    ann, ben = str(seeded.users["ann"]), str(seeded.users["ben"])

    members = {user: {c.id for c in clients.list_group(user, WEDDINGS)} for user in (ann, ben)}

    expected = {client_key(seeded.clients[name]) for name in ("harriet", "oliver", "sofia")}
    assert {ann: expected, ben: expected} == members


def test_a_client_made_from_google_carries_its_origin_for_that_user_only(
    studio: Studio, seeded: SeededStudio
) -> None:
    clients = StudioClients(studio)
    ann, ben = str(seeded.users["ann"]), str(seeded.users["ben"])
    fields = ContactFields(given_name="Mia", family_name="Lund", phones=[Phone("+44 7700 900123")])

    made = clients.create_contact(ann, WEDDINGS, fields, "people/c42")

    assert ("people/c42", fields) == (made.remote_id, made.fields)
    seen_by_ben = clients.get_contact(ben, made.id)
    assert isinstance(seen_by_ben, Contact)
    assert seen_by_ben.remote_id is None


def test_a_google_contact_with_two_phone_numbers_is_refused(
    studio: Studio, seeded: SeededStudio
) -> None:
    clients = StudioClients(studio)
    ann, oliver = str(seeded.users["ann"]), client_key(seeded.clients["oliver"])
    fields = ContactFields(phones=[Phone("+44 117 496 0744"), Phone("+44 7700 900456", "work")])

    with pytest.raises(InvalidHostItem, match="one phone number"):
        clients.update_contact(ann, oliver, ContactUpdate(fields, frozenset({"phones"})))


def test_a_google_contact_for_a_group_the_studio_does_not_have_is_refused(
    studio: Studio, seeded: SeededStudio
) -> None:
    clients = StudioClients(studio)

    with pytest.raises(InvalidHostItem, match="no client group"):
        clients.create_contact(str(seeded.users["ann"]), "Gone", ContactFields(), "people/c1")


# -- profiles ----------------------------------------------------------------------------


def _profiles(store: StudioProfiles) -> dict[str, SyncProfile]:
    return {profile.user_id: profile for profile in store.profiles()}


def test_profiles_are_built_from_each_users_google_prefs(
    studio: Studio, seeded: SeededStudio
) -> None:
    store = StudioProfiles(studio, "lumen")
    ann, ben, cara = (str(seeded.users[name]) for name in ("ann", "ben", "cara"))

    profiles = _profiles(store)

    assert {ann: f"lumen.{ann}", ben: f"lumen.{ben}", cara: f"lumen.{cara}"} == {
        user: p.id for user, p in profiles.items()
    }
    a, b, c = profiles[ann], profiles[ben], profiles[cara]
    assert (
        a.calendar_id,
        a.enabled,
        a.options.initial_sync_pending,
    ) == ("ann@lumen-studio.example", True, True)
    assert (
        a.options.contacts,
        a.options.client_group,
        a.options.inbound_contacts,
    ) == (True, WEDDINGS, False)
    assert (
        a.options.notifications.warnings_and_errors,
        a.options.notifications.verbose,
    ) == (True, False)
    assert (b.options.inbound_calendar, b.options.contacts) == (True, False)
    assert (
        c.options.inbound_calendar,
        c.options.contacts,
        c.options.client_group,
    ) == (False, False, None)
    assert {ProfileStatus.OK} == {p.status for p in profiles.values()}


def test_initial_sync_done_switches_first_time_off(studio: Studio, seeded: SeededStudio) -> None:
    store = StudioProfiles(studio, "lumen")
    ann = seeded.users["ann"]

    store.initial_sync_done(f"lumen.{ann}")

    assert not studio.google_prefs(ann).first_time
    assert not _profiles(store)[str(ann)].options.initial_sync_pending


def test_calendar_gone_clears_the_calendar_and_starts_over_once_one_is_chosen(
    studio: Studio, seeded: SeededStudio
) -> None:
    store = StudioProfiles(studio, "lumen")
    ben = seeded.users["ben"]
    store.initial_sync_done(f"lumen.{ben}")

    store.set_status(f"lumen.{ben}", ProfileStatus.CALENDAR_GONE, "Your calendar was deleted")

    gone = _profiles(store)[str(ben)]
    assert (
        gone.status,
        gone.calendar_id,
        gone.options.initial_sync_pending,
    ) == (ProfileStatus.CALENDAR_GONE, None, True)
    assert studio.google_prefs(ben).status_message == "Your calendar was deleted"
    studio.set_google_prefs(
        ben, dataclasses.replace(studio.google_prefs(ben), calendar_id="new-cal")
    )
    again = _profiles(store)[str(ben)]
    assert (
        again.status,
        again.calendar_id,
        again.options.initial_sync_pending,
    ) == (ProfileStatus.OK, "new-cal", True)


def test_needs_reauth_keeps_the_calendar_until_the_user_authorises_again(
    studio: Studio, seeded: SeededStudio
) -> None:
    store = StudioProfiles(studio, "lumen")
    cara = seeded.users["cara"]

    store.set_status(f"lumen.{cara}", ProfileStatus.NEEDS_REAUTH, "Google refused the token")
    refused = _profiles(store)[str(cara)]
    store.set_status(f"lumen.{cara}", ProfileStatus.OK, "")

    assert (
        refused.status,
        refused.calendar_id,
    ) == (ProfileStatus.NEEDS_REAUTH, "cara@lumen-studio.example")
    assert ProfileStatus.OK is _profiles(store)[str(cara)].status


def test_one_users_unusable_preferences_leave_out_only_that_user(
    studio: Studio, seeded: SeededStudio, caplog: pytest.LogCaptureFixture
) -> None:
    store = StudioProfiles(studio, "lumen")
    studio.set_sync_status(seeded.users["ben"], "paused-by-admin", "")

    users = set(_profiles(store))

    assert {str(seeded.users["ann"]), str(seeded.users["cara"])} == users
    assert "unusable" in caplog.text


def test_the_studio_refuses_contacts_sync_without_a_group(studio: Studio) -> None:
    ann = studio.add_user("Ann")

    with pytest.raises(ValueError, match="client sync group"):
        studio.set_google_prefs(ann, GooglePrefs(sync_on=True, sync_contacts=True))


# -- the whole sync ----------------------------------------------------------------------


def test_the_seeded_studio_syncs_through_the_processor_and_follows_a_conversion(
    studio: Studio,
) -> None:
    seeded = seed_demo_studio(studio, now=datetime.now(UTC))
    profiles = StudioProfiles(studio, "lumen")
    calendars = MemoryCalendarBackend(calendars=[p.calendar_id or "" for p in profiles.profiles()])
    contacts = {user: MemoryContactsBackend() for user in map(str, seeded.users.values())}
    engine = SyncEngine(MemoryStateStore(), StudioSchedule(studio), StudioClients(studio))
    processor = SyncProcessor(
        engine,
        profiles,
        lambda profile: Connection(calendars, contacts[profile.user_id]),
        interval=0,
        workers=3,
    )
    ann, ben = str(seeded.users["ann"]), str(seeded.users["ben"])

    first = processor.run_once()

    assert {True} == {run.report is not None and run.report.ok for run in first.values()}
    in_google = {p.user_id: len(calendars.events(p.calendar_id or "")) for p in profiles.profiles()}
    assert in_google == {ann: 6, ben: 5, str(seeded.users["cara"]): 2}
    assert len(contacts[ann].contacts()) == 3
    assert {False} == {p.options.initial_sync_pending for p in profiles.profiles()}
    assert {0} == {run.report.writes for run in processor.run_once().values() if run.report}

    ben_calendar = "ben@lumen-studio.example"
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=4)
    made = calendars.external_create(
        ben_calendar,
        EventFields(
            "Call Sofia", when=Timed(start, start + timedelta(hours=1), "America/New_York")
        ),
    )
    processor.run_once()
    unlinked = [
        a
        for a in studio.appointments_between(int(ben), date(2000, 1, 1), date(2100, 1, 1))
        if a.kind == "unlinked"
    ]
    assert [made.id] == [a.google_event_id for a in unlinked]
    studio.convert_to_session(unlinked[0].id, seeded.clients["sofia"], "Consultation")
    processor.run_once()

    event = calendars.events(ben_calendar)[made.id]
    assert event.fields is not None
    assert event.fields.title == "Consultation - Sofia Marin"
    assert len(calendars.events(ben_calendar)) == 6

    calendars.delete_calendar(ben_calendar)
    processor.run_once()
    gone = {p.user_id: p for p in profiles.profiles()}[ben]
    assert (gone.status, gone.calendar_id) == (ProfileStatus.CALENDAR_GONE, None)

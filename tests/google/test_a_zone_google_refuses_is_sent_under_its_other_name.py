"""Google's time-zone database lags the IANA one: in August 2022, after tz 2022b renamed Kiev to
Kyiv, Google answered writes carrying ``Europe/Kyiv`` with 400 "Invalid time zone definition
for start time.", still naming the zone ``Europe/Kiev`` (OutlookGoogleCalendarSync issues
#1525, #1528, #1530). calsync sends the canonical name; a write Google refuses for it is sent
again under the zone's other name, and the backend remembers for the rest of its run which
names Google refused. The event comes back as ``Europe/Kiev``, which is read as ``Europe/Kyiv``:
no edit, no rewrite. A zone Google refuses under each of its names fails that item alone, with
an error naming the zone, and the next run asks again. On the emulator with
``refused_zones={"Europe/Kyiv"}`` and the real google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from google.oauth2.credentials import Credentials

from calsync import Side
from calsync.backends import CreateEvent, UpdateEvent
from calsync.google.account import GoogleAccount
from calsync.google.calendar import GoogleCalendarBackend, ZoneRefused
from calsync.google.markers import MARKER_ITEM
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.google.services import build_calendar_service
from calsync.google.translate import parse_time
from calsync.ids import event_id_for
from calsync.model import AllDay, Channel, EventFields, Marker
from calsync.testing.emulator import GoogleEmulator
from calsync.timezones import zone_names

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import CalendarUser, GoogleWorld, MakeWorld

pytestmark = pytest.mark.emulator

KYIV, KIEV, LONDON = "Europe/Kyiv", "Europe/Kiev", "Europe/London"
PROFILE = "studio.u7"


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[GoogleEmulator]:
    """An emulator whose time-zone database does not know ``Europe/Kyiv`` yet, as Google's
    did not in August 2022."""
    with GoogleEmulator(refused_zones={KYIV}) as google:
        yield google


def kyiv_session(studio: StudioBuilders, item_id: str, day: int = 3, hour: int = 10) -> Any:
    return studio.session(item_id, day=day, when=studio.timed(day, hour, zone=KYIV))


def event_of(w: GoogleWorld, host_id: str) -> dict[str, Any]:
    [event] = [
        e
        for e in w.events()
        if (e.get("extendedProperties") or {}).get("private", {}).get(MARKER_ITEM) == host_id
    ]
    return event


def zones(event: dict[str, Any]) -> tuple[str | None, str | None]:
    return event["start"].get("timeZone"), event["end"].get("timeZone")


def span(event: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    return parse_time(event["start"]["dateTime"]), parse_time(event["end"]["dateTime"])


def refusals(google: GoogleEmulator) -> int:
    statuses: dict[str, int] = google.stats()["statuses"]
    return statuses.get("400", 0)


def next_run(w: GoogleWorld, account_for: Callable[..., GoogleAccount]) -> None:
    """The next run: new backends, which know nothing of this run's refusals (as the
    processor connects anew for every run)."""
    w.account = account_for(w.token)


def backend(google: GoogleEmulator, token: str) -> GoogleCalendarBackend:
    """A new calendar backend (a new run) for ``token``."""
    service = build_calendar_service(Credentials(token=token), base_url=google.base_url)
    return GoogleCalendarBackend(service, pacer=unpaced(), retrying=no_wait_retrying())


def fields(studio: StudioBuilders, title: str, day: int = 3, zone: str = KYIV) -> EventFields:
    return EventFields(title, when=studio.timed(day, zone=zone))


def test_a_kyiv_session_is_made_as_europe_kiev_updated_and_then_left_quiet(
    world: MakeWorld, studio: StudioBuilders, account_for: Callable[..., GoogleAccount]
) -> None:
    w = world(contacts=False)
    w.schedule.add(studio.user, kyiv_session(studio, "s1"))
    w.schedule.add(studio.user, studio.session("s2", day=4))
    w.google.reset_stats()

    report = w.sync()

    assert report.ok, report.summary()
    assert not report.has_problems, report.summary()
    assert report.count(Side.REMOTE, "created") == 2
    made = event_of(w, "s1")
    assert zones(made) == (KIEV, KIEV)
    assert span(made) == studio.timed(3, zone=KYIV).bounds()
    assert zones(event_of(w, "s2")) == (LONDON, LONDON)
    assert refusals(w.google) == 1  # Europe/Kyiv, once; the London session went through

    next_run(w, account_for)
    w.schedule.edit(studio.user, "s1", when=studio.timed(5, 15, hours=2, zone=KYIV))
    w.google.reset_stats()
    report = w.sync()

    assert report.ok, report.summary()
    assert not report.has_problems, report.summary()
    assert report.count(Side.REMOTE, "updated") == 1
    moved = event_of(w, "s1")
    assert moved["id"] == made["id"]
    assert zones(moved) == (KIEV, KIEV)
    assert span(moved) == studio.timed(5, 15, hours=2, zone=KYIV).bounds()
    assert refusals(w.google) == 1  # a new run asks Google again, once
    assert w.items()["s1"].when == studio.timed(5, 15, hours=2, zone=KYIV)

    for _ in range(2):  # the same run, then the next one: Europe/Kiev reads as Europe/Kyiv
        w.google.reset_stats()
        report = w.sync()
        assert report.writes == 0, report.summary()
        assert not report.has_problems, report.summary()
        assert refusals(w.google) == 0
        assert event_of(w, "s1")["etag"] == moved["etag"]
        next_run(w, account_for)
    assert w.items()["s1"].when == studio.timed(5, 15, hours=2, zone=KYIV)


def test_later_writes_of_the_run_go_straight_to_the_name_google_took(
    google: GoogleEmulator, token: str, studio: StudioBuilders
) -> None:
    calendar = backend(google, token)
    google.reset_stats()

    first = calendar.create_event(
        "primary", event_id_for(PROFILE, "k1"), fields(studio, "K1"), Marker(PROFILE, "k1")
    )
    assert first.fields == fields(studio, "K1")  # read back from Europe/Kiev as Europe/Kyiv
    assert refusals(google) == 1

    results = calendar.write_events(
        "primary",
        [
            CreateEvent(event_id_for(PROFILE, "k2"), fields(studio, "K2"), Marker(PROFILE, "k2")),
            UpdateEvent(first.id, fields(studio, "K1", day=6), Marker(PROFILE, "k1"), first.etag),
        ],
    )
    assert [r.error for r in results] == [None, None]
    assert [r.item.fields if r.item else None for r in results] == [
        fields(studio, "K2"),
        fields(studio, "K1", day=6),
    ]
    calendar.update_event("primary", first.id, fields(studio, "K1", day=7), None, None)

    assert refusals(google) == 1  # never sent as Europe/Kyiv again in the run
    stored = google.account(token).calendar().live_events()
    assert sorted(zones(e) for e in stored) == [(KIEV, KIEV)] * 2


def test_a_batch_resends_the_parts_google_refused_for_their_zone_and_only_those(
    google: GoogleEmulator, token: str, studio: StudioBuilders
) -> None:
    calendar = backend(google, token)
    writes = [
        CreateEvent(
            event_id_for(PROFILE, f"b{n}"), fields(studio, f"B{n}"), Marker(PROFILE, f"b{n}")
        )
        for n in range(3)
    ]
    writes.append(
        CreateEvent(
            event_id_for(PROFILE, "l1"), fields(studio, "L1", zone=LONDON), Marker(PROFILE, "l1")
        )
    )
    day = AllDay.single(studio.now.date())
    writes.append(
        CreateEvent(event_id_for(PROFILE, "d1"), EventFields("D1", when=day), Marker(PROFILE, "d1"))
    )
    google.reset_stats()

    results = calendar.write_events("primary", writes)

    assert [r.error for r in results] == [None] * 5
    assert [r.item.fields if r.item else None for r in results] == [w.fields for w in writes]
    stats = google.stats()
    assert refusals(google) == 3
    assert stats["batch_requests"] == 2  # the three refused parts, sent again together
    assert stats["methods"]["calendar.events.insert"] == 5 + 3
    made = {e["summary"]: e for e in google.account(token).calendar().live_events()}
    assert {title: zones(made[title]) for title in ("B0", "B1", "B2", "L1")} == {
        "B0": (KIEV, KIEV),
        "B1": (KIEV, KIEV),
        "B2": (KIEV, KIEV),
        "L1": (LONDON, LONDON),
    }
    assert zones(made["D1"]) == (None, None)


def test_an_event_taken_over_after_a_409_is_confirmed_under_the_name_google_takes(
    google: GoogleEmulator, token: str, studio: StudioBuilders, calendar_user: CalendarUser
) -> None:
    event_id, marker = event_id_for(PROFILE, "r1"), Marker(PROFILE, "r1")
    made = backend(google, token).create_event("primary", event_id, fields(studio, "R1"), marker)
    calendar_user.external_delete("primary", made.id)
    google.reset_stats()

    revived = backend(google, token).create_event(
        "primary", event_id, fields(studio, "R1", day=8), marker
    )

    assert (revived.id, revived.fields) == (event_id, fields(studio, "R1", day=8))
    statuses = google.stats()["statuses"]
    assert (statuses.get("409"), statuses.get("400")) == (1, 1)
    [stored] = google.account(token).calendar().live_events()
    assert zones(stored) == (KIEV, KIEV)


def test_a_zone_refused_under_each_of_its_names_fails_its_items_alone_until_google_takes_one(
    world: MakeWorld, studio: StudioBuilders, account_for: Callable[..., GoogleAccount]
) -> None:
    w = world(contacts=False)
    w.google.set_refused_zones({KYIV, KIEV})
    w.schedule.add(studio.user, kyiv_session(studio, "s1"))
    w.schedule.add(studio.user, kyiv_session(studio, "s3", day=5))
    w.schedule.add(studio.user, studio.session("s2", day=4))
    w.schedule.add(studio.user, studio.appointment("a1"))
    w.google.reset_stats()

    report = w.sync()

    assert sorted(e.item for e in report.errors) == ["s1", "s3"]
    for error in report.errors:
        assert error.channel == Channel.CALENDAR, error
        assert error.action.startswith("create remote calendar item"), error
        assert "Google refuses time zone Europe/Kyiv" in error.message, error
        assert "(Europe/Kyiv, Europe/Kiev)" in error.message, error
    assert report.count(Side.REMOTE, "created") == 2
    assert zones(event_of(w, "s2")) == (LONDON, LONDON)
    assert event_of(w, "a1")["start"]["date"]
    assert refusals(w.google) == 4  # both sessions, under each name, once
    mappings = w.store.mappings(PROFILE, Channel.CALENDAR)
    assert {"s2", "a1"} <= set(mappings)
    assert not {"s1", "s3"} & set(mappings)

    w.google.reset_stats()  # the same backend: what Google refused is not asked again
    report = w.sync()
    assert sorted(e.item for e in report.errors) == ["s1", "s3"]
    assert refusals(w.google) == 0
    assert w.google.stats()["methods"].get("calendar.events.insert", 0) == 0

    w.google.set_refused_zones({KYIV})  # Google's database knows the old name again
    next_run(w, account_for)
    report = w.sync()
    assert report.ok, report.summary()
    assert report.count(Side.REMOTE, "created") == 2
    assert [zones(event_of(w, s)) for s in ("s1", "s3")] == [(KIEV, KIEV)] * 2
    assert w.sync().writes == 0


def test_one_call_of_several_batches_sends_a_refused_name_in_its_first_batch_only(
    google: GoogleEmulator, token: str, studio: StudioBuilders
) -> None:
    calendar = backend(google, token)
    writes = [
        CreateEvent(
            event_id_for(PROFILE, f"x{n}"),
            fields(studio, f"X{n}", day=1 + n % 28),
            Marker(PROFILE, f"x{n}"),
        )
        for n in range(120)
    ]
    google.reset_stats()

    results = calendar.write_events("primary", writes)

    assert [result.error for result in results] == [None] * 120
    refused = refusals(google)
    assert refused == calendar.batch_size  # the first batch's Kyiv parts; then Kiev at once
    assert google.stats()["methods"]["calendar.events.insert"] == 120 + refused


def test_a_calendar_in_a_zone_google_refuses_is_made_under_its_other_name(
    google: GoogleEmulator, token: str
) -> None:
    made = backend(google, token).create_calendar("Lumen sessions", KYIV)

    assert made.time_zone == KIEV
    assert google.account(token).calendars[made.id].time_zone == KIEV


def test_a_calendar_whose_zone_google_refuses_under_each_name_is_not_made(
    google: GoogleEmulator, token: str
) -> None:
    google.set_refused_zones({KYIV, KIEV})
    before = set(google.account(token).calendars)

    with pytest.raises(ZoneRefused, match=r"Europe/Kyiv under each of its names"):
        backend(google, token).create_calendar("Lumen sessions", "Europe/Kiev")

    assert set(google.account(token).calendars) == before


def test_a_zone_is_sent_under_its_canonical_name_then_the_legacy_names_of_the_same_zone() -> None:
    assert zone_names(KIEV) == zone_names(KYIV) == (KYIV, KIEV)  # not Uzhgorod: merged in 2022g
    assert zone_names("America/New_York") == ("America/New_York", "US/Eastern")
    assert zone_names("Asia/Shanghai") == ("Asia/Shanghai",)  # Chongqing, Harbin: merged
    assert "Etc/GMT" not in zone_names("UTC")  # a zone of its own (abbreviated GMT)
    assert zone_names(LONDON) == (LONDON, "GB", "GB-Eire")

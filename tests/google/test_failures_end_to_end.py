"""Crashes, injected faults, the quota and a revoked token: runs complete and nothing is lost
or duplicated (emulator, real client, through the engine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest
from google.oauth2.credentials import Credentials

from calsync import Side
from calsync.backends import ContactWrite, EventWrite
from calsync.google.account import connect
from calsync.google.calendar import GoogleCalendarBackend
from calsync.google.contacts import GoogleContactsBackend
from calsync.google.pacing import QuotaPacer
from calsync.google.retry import no_wait_retrying
from calsync.testing import SimulatedCrash

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld

pytestmark = pytest.mark.emulator


class CrashingCalendar(GoogleCalendarBackend):
    """Writes to Google, then "dies" before the engine can record the result."""

    def write_events(self, calendar_id: str, writes: Sequence[EventWrite]) -> Any:
        super().write_events(calendar_id, writes)
        raise SimulatedCrash("process died after the calendar batch")


class CrashingContacts(GoogleContactsBackend):
    def write_contacts(self, group_id: str, writes: Sequence[ContactWrite]) -> Any:
        super().write_contacts(group_id, writes)
        raise SimulatedCrash("process died after the contacts batch")


def crash_into(backend: Any, kind: type) -> Any:
    crashing: Any = object.__new__(kind)
    crashing.__dict__.update(backend.__dict__)
    return crashing


def test_a_crash_after_creating_before_the_state_commit_duplicates_nothing(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    for number in range(3):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
        w.clients.add(studio.user, studio.client(f"c{number}", f"Client{number}"), [studio.group])
    calendar, contacts = w.account.calendar, w.account.contacts

    with pytest.raises(SimulatedCrash):
        w.engine.sync(w.profile, crash_into(calendar, CrashingCalendar), contacts)
    assert len(w.events()) == 3
    with pytest.raises(SimulatedCrash):  # the calendar adopts its events; contacts crash
        w.engine.sync(w.profile, calendar, crash_into(contacts, CrashingContacts))
    assert (len(w.events()), len(w.group_members())) == (3, 3)

    report = w.sync()

    assert report.ok, report.summary()
    assert (report.count(Side.REMOTE, "created"), report.counts["adopted"]) == (0, 3)
    assert (len(w.events()), len(w.group_members())) == (3, 3)
    assert w.sync().writes == 0


def test_rate_limits_and_server_errors_are_retried_and_the_run_completes(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    for number in range(8):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
        w.clients.add(studio.user, studio.client(f"c{number}", f"Client{number}"), [studio.group])
    w.sync()
    for number in range(8):
        w.schedule.edit(studio.user, f"s{number}", title="moved", when=studio.timed(number + 2))
        w.clients.edit(studio.user, f"c{number}", notes="edited")
    google = w.google
    google.inject_fault(429, api_method="calendar.events.patch", count=3, retry_after=0)
    google.inject_fault(403, "userRateLimitExceeded", api_method="calendar.events.patch", count=2)
    google.inject_fault(500, api_method="calendar.events.patch", count=2)
    google.inject_fault(503, api_method="calendar.events.list", count=1)
    google.inject_fault(429, api_method="people.people.batchUpdateContacts", count=1)
    google.inject_fault(500, api_method="people.people.connections.list", count=1)

    report = w.sync()

    assert report.ok, report.summary()
    assert (report.count(Side.REMOTE, "updated"), google.stats()["faults_fired"]) == (16, 10)
    assert all(e["start"]["dateTime"] for e in w.events())
    assert {p["biographies"][0]["value"] for p in w.group_members().values()} == {"edited"}
    assert w.sync().writes == 0


def test_an_ambiguous_failure_of_a_contact_create_is_settled_on_the_next_run(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    for number in range(5):
        w.clients.add(studio.user, studio.client(f"c{number}", f"Client{number}"), [studio.group])
    w.google.inject_fault(500, api_method="people.people.batchCreateContacts", count=1)

    first = w.sync()
    second = w.sync()

    assert len(first.errors) == 5
    assert second.ok, second.summary()
    assert len(w.group_members()) == 5
    assert w.sync().writes == 0


def test_a_quota_exceeded_run_reports_and_loses_nothing(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    for number in range(4):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
    w.google.inject_fault(403, "quotaExceeded", api_method="calendar.events.insert", count=4)

    first = w.sync()
    second = w.sync()

    assert len(first.errors) == 4
    assert second.ok, second.summary()
    assert len(w.events()) == 4


def refreshable(w: Any) -> tuple[str, str]:
    """Connect ``w`` with credentials that refresh at Google's token endpoint; the tokens."""
    access, refresh = w.google.issue_tokens(f"{w.token}@example.com")
    credentials = Credentials(
        access,
        refresh_token=refresh,
        token_uri=f"{w.google.base_url}/token",
        client_id="calsync-tests",
        client_secret="not-a-secret",
    )
    w.account = connect(credentials, base_url=w.google.base_url, retrying=no_wait_retrying())
    return access, refresh


@pytest.mark.parametrize("status", [502, 403])  # (500 google-auth retries itself, slowly)
def test_a_token_service_failing_for_a_moment_is_a_passing_failure_not_a_refusal(
    world: MakeWorld, studio: StudioBuilders, status: int
) -> None:
    w = world()
    w.schedule.add(studio.user, studio.session("s1"))
    refreshable(w)
    assert w.sync().ok
    w.google.expire_access_tokens()
    # a proxy's error page, not an OAuth answer: Google refused nothing
    w.google.inject_fault(status, count=None, scope="http", path="^/token")

    failed = w.sync()
    w.google.clear_faults()
    again = w.sync()

    assert (failed.ok, failed.needs_reauth) == (False, False)
    assert "token service failed" in (failed.fatal or "")
    assert again.ok, again.summary()


def test_a_revoked_authorisation_asks_the_user_to_reauthorise(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world()
    w.schedule.add(studio.user, studio.session("s1"))
    access, refresh = refreshable(w)
    assert w.sync().ok
    before = w.items()

    w.google.revoke_refresh_token(refresh)
    w.google.expire_access_tokens()
    w.schedule.edit(studio.user, "s1", title="changed")
    report = w.sync()

    assert (report.needs_reauth, report.writes) == (True, 0)
    assert report.fatal is not None
    assert "re-authenticate" in report.fatal
    assert w.items().keys() == before.keys()
    assert refresh not in report.summary()
    assert access not in report.summary()


def test_a_large_sync_paced_under_the_quota_is_never_refused(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    for number in range(150):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=1 + number % 300))
    w.google.set_quota(100, 1.0)
    pacer = QuotaPacer(100, 1.0)
    w.account = connect(
        Credentials(token=w.token),
        base_url=w.google.base_url,
        pacer=pacer,
        retrying=no_wait_retrying(attempts=1),
    )

    report = w.sync()

    assert report.ok, report.summary()
    stats = w.google.stats()
    assert (stats["quota_rejections"], len(w.events())) == (0, 150)
    # the pacer held the run back (by its own count, not a wall-clock measurement)
    assert pacer.waited > 0

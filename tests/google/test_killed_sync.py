"""A sync process killed with SIGKILL at any moment, as a user ending the desktop program or
the operating system may: the next run finishes the job with nothing duplicated or lost, and
the run after it writes nothing. A process paused past its lease (SIGSTOP: a computer put to
sleep, a stalled worker) stops before it writes more once it wakes.

The processes are real: the sync processor under the profile's lease in a SQLite state file,
the real Google client over HTTP to the emulator (tests/support/killed_sync_child.py). Where a
process dies is wherever it was when the test saw enough of its writes reach Google: inside a
batch, between a batch and its record, in the middle of a commit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from calsync.google.account import connect
from calsync.google.markers import MARKER_ITEM
from calsync.google.pacing import unpaced
from calsync.ids import event_id_for
from calsync.testing.emulator import GoogleEmulator

pytestmark = pytest.mark.emulator

SUPPORT = Path(__file__).resolve().parents[1] / "support"
ITEMS, CLIENTS = 240, 450  # five calendar batches; three People batches of 200
GROUP = "Weddings"  # the child's sync group
INSERT = "calendar.events.insert"
PATCH = "calendar.events.patch"
DELETE = "calendar.events.delete"
CREATE_CONTACTS = "people.people.batchCreateContacts"
UPDATE_CONTACTS = "people.people.batchUpdateContacts"
DELETE_CONTACTS = "people.people.batchDeleteContacts"


@pytest.fixture
def calendar(google: GoogleEmulator, token: str) -> str:
    account = connect(Credentials(token=token), base_url=google.base_url, pacer=unpaced())
    return account.calendar.create_calendar("Studio", "Europe/London").id


class Runner:
    """Starts the child sync processes of one studio user and reads what they did."""

    def __init__(self, google: GoogleEmulator, token: str, calendar: str, state: Path):
        self.google, self.token, self.calendar, self.state = google, token, calendar, state
        self.started: list[subprocess.Popen[str]] = []

    def start(self, variant: str = "base", lease_seconds: float = 600) -> subprocess.Popen[str]:
        """A run of the studio's data as ``variant`` has it (see killed_sync_child)."""
        args = [self.google.base_url, self.token, self.calendar, str(self.state)]
        args += [str(ITEMS), str(CLIENTS), str(lease_seconds), variant]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), *sys.path])}
        process = subprocess.Popen(
            [sys.executable, "-m", "killed_sync_child", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.started.append(process)
        return process

    def calls(self, method: str) -> int:
        return int(self.google.stats()["methods"].get(method, 0))

    def kill_after(self, process: subprocess.Popen[str], method: str, calls: int) -> None:
        """SIGKILL ``process`` as soon as Google has served ``calls`` calls of ``method``."""
        self.signal_after(process, method, calls, signal.SIGKILL)
        process.wait(timeout=30)

    def signal_after(
        self, process: subprocess.Popen[str], method: str, calls: int, signum: int
    ) -> None:
        """Send ``signum`` to ``process`` as soon as Google has served ``calls`` calls of
        ``method``."""
        deadline = time.monotonic() + 60
        while self.calls(method) < calls:
            assert process.poll() is None, f"the run ended first: {process.communicate()}"
            assert time.monotonic() < deadline, f"{method} never reached {calls} calls"
            time.sleep(0.002)
        process.send_signal(signum)

    def writes(self) -> Counter[str]:
        """The write calls Google has served so far, by method."""
        methods = (INSERT, PATCH, DELETE, CREATE_CONTACTS, UPDATE_CONTACTS, DELETE_CONTACTS)
        return Counter({method: self.calls(method) for method in methods})

    def finish(self, process: subprocess.Popen[str]) -> dict[str, Any]:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        result: dict[str, Any] = json.loads(out.splitlines()[-1])
        return result

    def run(self, variant: str = "base") -> dict[str, Any]:
        return self.finish(self.start(variant))

    def events_by_item(self) -> Counter[tuple[str, str]]:
        """How many live events name each host item in their marker, by their place."""
        events = self.google.account(self.token).calendar(self.calendar).live_events()
        return Counter(
            (e["extendedProperties"]["private"][MARKER_ITEM], e.get("location", "")) for e in events
        )

    def contacts_by_client(self) -> Counter[tuple[str, str]]:
        """How many contacts in the sync group name each client in their marker, by their
        family name."""
        account = self.google.account(self.token)
        groups = [g for g, data in account.contact_groups.items() if data.get("name") == GROUP]
        assert len(groups) == 1, account.contact_groups
        found: Counter[tuple[str, str]] = Counter()
        for person in account.contacts.values():
            memberships = person.get("memberships", [])
            named = {
                m.get("contactGroupMembership", {}).get("contactGroupResourceName")
                for m in memberships
            }
            if groups[0] in named:
                data = {d["key"]: d["value"] for d in person.get("clientData", [])}
                family = person.get("names", [{}])[0].get("familyName", "")
                found[data.get(MARKER_ITEM, "(no marker)"), family] += 1
        return found

    def assert_everything_once(self, variant: str = "base") -> None:
        """Google holds each of the variant's items and clients once, as the variant has it."""
        kept = [n for n in range(max(ITEMS, CLIENTS)) if variant != "deleted" or n % 6]
        place, family = ("", "Avery") if variant == "base" else ("Town hall", "Avery-Jones")
        items, clients = [n for n in kept if n < ITEMS], [n for n in kept if n < CLIENTS]
        assert self.events_by_item() == Counter((f"s{n}", place) for n in items)
        assert self.contacts_by_client() == Counter((f"c{n}", family) for n in clients)
        live = self.google.account(self.token).calendar(self.calendar).live_events()
        assert {e["id"] for e in live} == {event_id_for("studio.u1", f"s{n}") for n in items}


@pytest.fixture
def runner(google: GoogleEmulator, token: str, calendar: str, tmp_path: Path) -> Iterator[Runner]:
    runner = Runner(google, token, calendar, tmp_path)
    yield runner
    for process in runner.started:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # (a paused one dies of SIGKILL all the same)
            process.kill()
        process.communicate()


@pytest.mark.parametrize(
    "kills",
    [
        [(INSERT, 1)],  # inside the first calendar batch
        [(INSERT, 130)],  # mid-way through the calendar
        [(INSERT, 40), (INSERT, 200)],  # killed twice: the second run dies too
        [(CREATE_CONTACTS, 1)],  # the calendar done; inside the contacts
        [(CREATE_CONTACTS, 2)],
    ],
    ids=["first-batch", "mid-calendar", "twice", "first-contacts", "mid-contacts"],
)
def test_a_run_killed_mid_sync_is_finished_by_the_next_with_nothing_duplicated_or_lost(
    runner: Runner, kills: list[tuple[str, int]]
) -> None:
    for method, calls in kills:
        runner.kill_after(runner.start(), method, calls)

    finished = runner.run()

    assert finished["ok"], finished
    runner.assert_everything_once()
    quiet = runner.run()
    assert (quiet["ok"], quiet["writes"]) == (True, 0), quiet
    runner.assert_everything_once()


@pytest.mark.parametrize(
    ("variant", "method", "calls"),
    [
        ("edited", PATCH, 1),
        ("edited", PATCH, 150),
        ("edited", UPDATE_CONTACTS, 1),
        ("deleted", DELETE, 1),
        ("deleted", DELETE, 25),
        ("deleted", DELETE_CONTACTS, 1),
    ],
    ids=[
        "first-patch",
        "mid-patches",
        "contact-updates",
        "first-delete",
        "mid-deletes",
        "contact-deletes",
    ],
)
def test_a_run_of_edits_or_deletions_killed_mid_sync_is_finished_by_the_next(
    runner: Runner, variant: str, method: str, calls: int
) -> None:
    assert runner.run()["ok"]
    runner.assert_everything_once()
    if variant == "deleted":  # (the items it deletes are the edited ones)
        assert runner.run("edited")["ok"]

    runner.kill_after(runner.start(variant), method, calls)
    finished = runner.run(variant)

    assert finished["ok"], finished
    runner.assert_everything_once(variant)
    quiet = runner.run(variant)
    assert (quiet["ok"], quiet["writes"]) == (True, 0), quiet


def test_a_run_killed_holding_the_lease_is_taken_over_by_the_one_waiting_for_it(
    runner: Runner,
) -> None:
    first = runner.start(lease_seconds=2)
    while runner.calls(INSERT) < 1:  # the first holds the lease and is writing
        assert first.poll() is None, first.communicate()
        time.sleep(0.002)
    second = runner.start(lease_seconds=2)  # "sync now" meanwhile: waits for the lease
    runner.kill_after(first, INSERT, 100)

    taken_over = runner.finish(second)

    assert taken_over["ok"], taken_over
    runner.assert_everything_once()
    assert runner.run()["writes"] == 0


def test_a_run_paused_past_its_lease_while_another_took_over_writes_no_more_once_it_wakes(
    runner: Runner,
) -> None:
    # its first two batches are slow (10 ms an insert), so it is surely asleep inside one,
    # waiting for Google, and holds no lock of the state file
    runner.google.inject_fault(api_method=INSERT, latency=0.01, count=100)
    paused = runner.start(lease_seconds=2)
    runner.signal_after(paused, INSERT, 60, signal.SIGSTOP)  # asleep in its second batch
    taken_over = runner.finish(runner.start(lease_seconds=2))  # runs once the lease expired
    assert taken_over["ok"], taken_over
    runner.assert_everything_once()
    before = runner.writes()

    paused.send_signal(signal.SIGCONT)
    woken = runner.finish(paused)

    assert woken["lease_lost"], woken
    assert "lost the profile's lease" in woken["stopped"]
    # at most the batch it was sending when it fell asleep reached Google, none of the stale
    # plan's batches after it (before the fix: 140 more inserts, each refused as a duplicate)
    after = runner.writes() - before
    assert set(after) <= {INSERT}, after
    assert after[INSERT] <= 50, after
    runner.assert_everything_once()
    assert runner.run()["writes"] == 0

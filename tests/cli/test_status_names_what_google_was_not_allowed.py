"""``calsync status`` says when a user's stored Google authorisation does not allow what their
profile syncs (contact sync on, Contacts not granted), and ``sync`` syncs the calendar and
says what the user must allow, instead of failing the user as "re-authenticate Google"."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import memory_host
import pytest

from calsync.cli import main
from calsync.model import Channel
from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore, StoredToken
from calsync.wording import DEFAULT_WORDING

pytestmark = pytest.mark.emulator

CALENDAR = "https://www.googleapis.com/auth/calendar"
CONTACTS = "https://www.googleapis.com/auth/contacts"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def config(tmp_path: Path, google: GoogleEmulator, request: pytest.FixtureRequest) -> Path:
    """Ann connected Google with the calendar only and turned contact sync on; Ben's token
    was stored without its scopes (as an older calsync did)."""
    google.reset()
    tokens = SqliteTokenStore(tmp_path / "tokens.sqlite3")
    access, refresh = google.issue_tokens("ann@studio.example", CALENDAR)
    tokens.save("cli.ann", StoredToken(refresh, access, None, (CALENDAR,)))
    access, refresh = google.issue_tokens("ben@studio.example", f"{CALENDAR} {CONTACTS}")
    tokens.save("cli.ben", StoredToken(refresh, access))
    path = memory_host.write_config(tmp_path, request.node.name, google.base_url)
    host = memory_host.open_host({"name": request.node.name})
    assert host.contacts is not None
    ann = host.profiles.get("cli.ann")  # type: ignore[attr-defined]
    options = attrs.evolve(ann.options, contacts=True, client_group="VIP")
    host.profiles.put(attrs.evolve(ann, options=options))  # type: ignore[attr-defined]
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["-c", str(config), *args], out=out)
    return code, out.getvalue()


def test_status_names_the_channel_google_was_not_allowed_for(config: Path) -> None:
    code, out = run(config, "status", "--json")

    access = {row["profile"]: row["google access"] for row in json.loads(out)}
    assert code == 0
    assert access == {"cli.ann": "not allowed: contacts", "cli.ben": "scopes not recorded"}


def test_sync_writes_the_calendar_and_says_what_to_allow(
    config: Path, google: GoogleEmulator
) -> None:
    code, out = run(config, "sync", "cli.ann")

    assert code == 0, out
    assert f"warning: {DEFAULT_WORDING.not_authorised(Channel.CONTACTS)}" in out
    assert len(google.account("ann@studio.example").primary.live_events()) == 1
    assert not any(method.startswith("people.") for method in google.stats()["methods"])

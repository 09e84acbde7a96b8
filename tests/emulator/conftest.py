"""Fixtures for the emulator conformance suite.

Behaviour tests take ``target``: they run against the emulator and, when
``CALSYNC_REAL_GOOGLE_TOKEN`` holds an OAuth access token (calendar and contacts scopes),
against real Google too; ``test_real_google_variant_is_enabled`` reports the skip otherwise.
Tests of emulator-only controls (faults, quota, stats, token expiry) take ``emulator``
directly.  No calsync code runs in the loop except the service builders, which only load the
client's static discovery documents.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from calsync.testing.emulator import GoogleEmulator

from .emulator_support import Target

REAL_TOKEN = os.environ.get("CALSYNC_REAL_GOOGLE_TOKEN")


@pytest.fixture(scope="session")
def emulator() -> Iterator[GoogleEmulator]:
    """One emulator for the whole session; tests reset it."""
    with GoogleEmulator() as google:
        yield google


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: GoogleEmulator) -> None:
    emulator.reset()


@pytest.fixture(params=["emulator", "google"] if REAL_TOKEN else ["emulator"])
def target(request: pytest.FixtureRequest, emulator: GoogleEmulator) -> Iterator[Target]:
    """The service factory for the emulator or for real Google."""
    if request.param == "emulator":
        yield Target("emulator", f"user-{uuid.uuid4().hex[:8]}", emulator.base_url, emulator)
        return
    assert REAL_TOKEN is not None
    real = Target("google", REAL_TOKEN, None)
    yield real
    for cleanup in reversed(real.cleanups):
        with contextlib.suppress(HttpError):
            cleanup()


@pytest.fixture
def calendar(target: Target) -> Any:
    """A Calendar service for the target account."""
    return target.calendar()


@pytest.fixture
def calendar_id(target: Target, calendar: Any) -> str:
    """A calendar to write to: the primary one on the emulator, a scratch one on Google."""
    if target.emulator is not None:
        return "primary"
    created = calendar.calendars().insert(body={"summary": "calsync conformance"}).execute()
    cal_id = str(created["id"])
    target.cleanups.append(lambda: calendar.calendars().delete(calendarId=cal_id).execute())
    return cal_id


@pytest.fixture
def people(target: Target) -> Any:
    """A People service for the target account."""
    return target.people()

"""Fixtures for the push-notification tests: one emulator per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calsync.testing.emulator import GoogleEmulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as google:
        yield google


@pytest.fixture
def google(emulator_server: GoogleEmulator) -> GoogleEmulator:
    """The emulator, fresh: no accounts, channels, faults or counts."""
    emulator_server.reset()
    return emulator_server

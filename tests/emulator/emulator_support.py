"""Helpers shared by the emulator conformance tests (imported by the test modules)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import attrs
import pytest
from attrs import define
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError

from calsync.google.services import build_calendar_service, build_people_service
from calsync.testing.emulator import GoogleEmulator


@define
class Target:
    """Where the suite sends its requests: the emulator or real Google."""

    name: str
    token: str
    base_url: str | None
    emulator: GoogleEmulator | None = None
    cleanups: list[Any] = attrs.field(factory=list)

    def calendar(self, token: str | None = None) -> Any:
        """A Calendar v3 service acting as ``token`` (default: the target's account)."""
        return build_calendar_service(
            Credentials(token=token or self.token), base_url=self.base_url
        )

    def people(self, token: str | None = None) -> Any:
        """A People v1 service acting as ``token``."""
        return build_people_service(Credentials(token=token or self.token), base_url=self.base_url)

    def require_emulator(self) -> GoogleEmulator:
        """The emulator; skips the test on real Google."""
        if self.emulator is None:
            pytest.skip("needs the emulator's controls")
        return self.emulator


def new_event_id() -> str:
    """A valid client event id (base32hex)."""
    return uuid.uuid4().hex


def timed_event(
    start: str = "2030-01-07T09:00:00Z", end: str = "2030-01-07T10:00:00Z", **extra: Any
) -> dict[str, Any]:
    """A minimal timed event body."""
    return {"summary": "Session", "start": {"dateTime": start}, "end": {"dateTime": end}, **extra}


def reasons(error: HttpError) -> set[str]:
    """Every machine-readable reason in a Google error body (Calendar or People shape)."""
    body = json.loads(error.content.decode("utf-8"))["error"]
    found = {item.get("reason") for item in body.get("errors", [])}
    found |= {item.get("reason") for item in body.get("details", []) if isinstance(item, dict)}
    return {reason for reason in found if reason}


def error_body(error: HttpError) -> dict[str, Any]:
    """The decoded ``error`` object of an HttpError."""
    return dict(json.loads(error.content.decode("utf-8"))["error"])


def new_calendar(target: Target, calendar: Any, summary: str = "Studio") -> dict[str, Any]:
    """A secondary calendar of the target account, deleted again after a real-Google run."""
    created = dict(calendar.calendars().insert(body={"summary": summary}).execute())
    target.cleanups.append(lambda: calendar.calendars().delete(calendarId=created["id"]).execute())
    return created


def own_email(calendar: Any) -> str:
    """The account's email: the id of its primary calendar."""
    return str(calendar.calendars().get(calendarId="primary").execute()["id"])


def insert_primary(target: Target, calendar: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Insert into the primary calendar, deleting the event again after a real-Google run."""
    created = dict(calendar.events().insert(calendarId="primary", body=body).execute())
    target.cleanups.append(
        lambda: calendar.events().delete(calendarId="primary", eventId=created["id"]).execute()
    )
    return created

"""Google's 409 has two reasons: ``duplicate`` (the id exists) and ``conflict`` (a part that
clashed with another part of its batch). Only the first means the id is taken; a ``conflict``
part is sent again like any transient failure."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httplib2
import pytest
from googleapiclient.errors import HttpError

from calsync.errors import AlreadyExists, TransientError
from calsync.google.errors import error_for

if TYPE_CHECKING:
    from studio_world import StudioBuilders
    from tests.google.conftest import MakeWorld


def calendar_409(reason: str) -> HttpError:
    body = {"error": {"errors": [{"domain": "global", "reason": reason}], "code": 409}}
    return HttpError(httplib2.Response({"status": 409}), json.dumps(body).encode())


def test_409_conflict_is_transient_and_duplicate_is_a_taken_id() -> None:
    assert type(error_for(calendar_409("conflict"))) is TransientError
    assert type(error_for(calendar_409("duplicate"))) is AlreadyExists
    no_reason = HttpError(httplib2.Response({"status": 409}), b"")
    assert type(error_for(no_reason)) is AlreadyExists


@pytest.mark.emulator
def test_a_create_refused_with_409_conflict_in_its_batch_is_sent_again(
    world: MakeWorld, studio: StudioBuilders
) -> None:
    w = world(contacts=False)
    for number in range(3):
        w.schedule.add(studio.user, studio.session(f"s{number}", day=number + 1))
    w.google.inject_fault(409, "conflict", api_method="calendar.events.insert", count=1)

    report = w.sync()

    assert report.errors == [], report.summary()
    assert len(w.events()) == 3

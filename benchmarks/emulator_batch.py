"""1,000 event inserts through the emulator's Calendar batch endpoint, with the real client.

Prints the wall time (split into building the client requests and executing the batch), the
HTTP requests and API calls the emulator counted, and the calls per second.  The target is
under 5 s on a developer machine; it is measured here, never asserted.

Run: ``python benchmarks/emulator_batch.py [events]`` (default 1000, the batch maximum).
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from google.oauth2.credentials import Credentials

from calsync.google.services import build_calendar_service, new_batch_request
from calsync.testing.emulator import GoogleEmulator

MAX_BATCH = 1000


def event_body(index: int) -> dict[str, Any]:
    start = f"2030-01-{index % 28 + 1:02d}T{index % 10 + 8:02d}:00:00"
    end = f"2030-01-{index % 28 + 1:02d}T{index % 10 + 9:02d}:00:00"
    return {
        "id": uuid.uuid4().hex,
        "summary": f"Session {index}",
        "description": f"Client {index}",
        "start": {"dateTime": start, "timeZone": "Europe/London"},
        "end": {"dateTime": end, "timeZone": "Europe/London"},
        "extendedProperties": {"private": {"syncOwner": "bench"}},
    }


def run(count: int) -> None:
    """Insert ``count`` events in batches of at most 1,000 and print the figures."""
    with GoogleEmulator() as google:
        calendar = build_calendar_service(Credentials(token="bench"), base_url=google.base_url)
        failures: list[Exception] = []

        def collect(request_id: str, response: Any, error: Exception | None) -> None:
            if error is not None:
                failures.append(error)

        started = time.perf_counter()
        batches = []
        for first in range(0, count, MAX_BATCH):
            batch = new_batch_request(calendar, callback=collect)
            for index in range(first, min(first + MAX_BATCH, count)):
                insert = calendar.events().insert(
                    calendarId="primary", body=event_body(index), sendUpdates="none"
                )
                batch.add(insert)
            batches.append(batch)
        built = time.perf_counter()
        for batch in batches:
            batch.execute()
        finished = time.perf_counter()
        stats = google.stats()
        stored = len(google.account("bench").primary.events)

    total = finished - started
    print(f"events inserted        {stored} ({len(failures)} failed parts)")
    print(f"wall time              {total:.2f} s (target < 5 s)")
    print(f"  build client calls   {built - started:.2f} s")
    print(f"  execute batch        {finished - built:.2f} s")
    print(f"HTTP requests          {stats['http_requests']}")
    print(f"API calls              {stats['api_calls']}")
    print(f"calls per second       {stats['api_calls'] / total:.0f}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

"""calsync's Google side: building google-api-python-client services (and, later, the backend)."""

from __future__ import annotations

from calsync.google.services import (
    batch_uri,
    build_calendar_service,
    build_people_service,
    new_batch_request,
)

__all__ = ["batch_uri", "build_calendar_service", "build_people_service", "new_batch_request"]

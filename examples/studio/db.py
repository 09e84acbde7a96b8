"""The studio's database (stdlib ``sqlite3``): staff users, clients and client groups, sessions,
appointments, a change log, and each user's Google Sync preferences.

This is the studio application's own data layer and knows nothing about calsync; the adapters
in ``studio.adapters`` map it onto calsync's contracts. It reads in three layers:

* :mod:`studio.schema` — the tables and their conventions, and opening a connection;
* :mod:`studio.records` — what a row means (``Session``, ``Appointment``, ``Client``, …), the
  schedule keys (``session-12``), and ``UnreadableRow`` for a row that cannot be read;
* the queries, by concern — :mod:`studio.people` (users, clients, groups),
  :mod:`studio.schedule` (sessions and appointments as one schedule, and the change log) and
  :mod:`studio.prefs` (Google Sync preferences) — over :mod:`studio.database` (one connection,
  one transaction per public method, safe to share between threads).

:class:`Studio` is all of them in one object; import the records from here or from
:mod:`studio.records`.
"""

from __future__ import annotations

from studio.people import PeopleQueries
from studio.prefs import PreferenceQueries
from studio.records import (
    Appointment,
    Change,
    Client,
    GooglePrefs,
    LogRewound,
    ScheduleRecord,
    Session,
    Span,
    UnreadableRow,
    User,
    appointment_key,
    parse_item_key,
    session_key,
)
from studio.schedule import ScheduleQueries
from studio.schema import CLIENT_COLUMNS, SCHEMA_VERSION

__all__ = [
    "CLIENT_COLUMNS",
    "SCHEMA_VERSION",
    "Appointment",
    "Change",
    "Client",
    "GooglePrefs",
    "LogRewound",
    "ScheduleRecord",
    "Session",
    "Span",
    "Studio",
    "UnreadableRow",
    "User",
    "appointment_key",
    "parse_item_key",
    "session_key",
]


class Studio(PeopleQueries, ScheduleQueries, PreferenceQueries):
    """The studio database, opened on a file path or ``":memory:"`` (schema created on open)::

    with Studio("studio.sqlite3") as studio:
        ann = studio.add_user("Ann Avery", "ann@lumen-studio.example")
    """

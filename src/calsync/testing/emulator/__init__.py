"""A Google emulator: Calendar v3, People v1 and OAuth over HTTP for the real client.

The unchanged google-api-python-client talks to it on loopback, so tests exercise the very
requests production sends.  It depends on nothing else in calsync.

Starting it
-----------
In process (a threaded server on an ephemeral port)::

    from calsync.testing.emulator import GoogleEmulator

    with GoogleEmulator() as google:
        google.base_url            # "http://127.0.0.1:PORT"

Standalone: ``python -m calsync.testing.emulator --port 0`` prints the base URL as the first
line of stdout and serves until killed.

Layout under ``base_url``
-------------------------
``/calendar/v3/...`` Calendar, ``/batch/calendar/v3`` its batch endpoint, ``/v1/...`` People,
``/batch`` its batch endpoint, ``/token`` OAuth token endpoint (refresh-token and
authorization-code grants), ``/o/oauth2/auth`` consent (granted at once), ``/revoke``, and the
admin endpoints under ``/emulator/v1/`` (see :mod:`calsync.testing.emulator.admin`).
Build clients with :mod:`calsync.google.services` so that batches reach the emulator too.

Accounts
--------
Every distinct bearer token is its own account, created on first use with a primary calendar
(id = the account email) and an empty address book: token ``alice`` acts as
``alice@example.com``.  Tokens minted by :meth:`GoogleEmulator.issue_tokens` or ``/token``
map to their account and carry the scopes granted: a call they do not cover answers 403
``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` (:mod:`calsync.testing.emulator.scopes`); a request
without a token answers 401.

Python API (stable)
-------------------
``GoogleEmulator(host="127.0.0.1", port=0, *, quota_per_window=None,
quota_window_seconds=60.0, people_propagation_delay=0.0, instance_ids="dated",
people_listing_etags="accepted", refused_zones=())``
(``instance_ids="opaque"``: recurring events' instances get opaque ids, as Google's since
Q3 2026, instead of ``<series>_<start>``; ``people_listing_etags="refused"``: contact
listings give etags that updates refuse with 400 ``FAILED_PRECONDITION``, as Google's do;
``refused_zones={"Europe/Kyiv"}``: event writes in those zones are refused with 400 ``invalid``
"Invalid time zone definition for start time.", as Google's were in August 2022, and
calendar writes with "Invalid time zone definition.")

- ``start()`` / ``stop()`` / context manager; ``base_url``; ``port``.
- ``stats()`` → ``{"http_requests", "api_calls", "batch_requests", "token_requests",
  "faults_fired", "quota_rejections", "scope_rejections", "methods": {method_id: n},
  "statuses": {code: n}}``
  (a batch is one HTTP request and one API call per part); ``reset_stats()``.
- ``expire_sync_tokens()``: Calendar then answers 410 ``fullSyncRequired``, People 400
  ``FAILED_PRECONDITION``/``EXPIRED_SYNC_TOKEN``.
- ``advance_clock(seconds)``: time passes for sync tokens (People's contact tokens expire
  7 days after the full sync, incremental ones included; contact groups' 7 days after issue).
- ``inject_fault(status=None, reason=None, *, count=1, rate=None, method=None,
  api_method=None, path=None, latency=0.0, reset=False, scope="call", message=None,
  retry_after=None, seed=None, answer=None)`` → :class:`Fault` (``answer``: a 200 body of
  the test's choosing instead of an error); ``clear_faults()``.
- ``set_quota(calls, window_seconds=60.0, *, status=403)``: per-account sliding window over
  API calls (batch parts count one each).
- ``set_people_propagation_delay(seconds)``.
- ``set_refused_zones(zones)``: the zone names event writes are refused for (``reset()``
  puts back the constructor's).
- ``delete_calendar(token_or_account, calendar_id)``.
- ``issue_tokens(account_email, scopes=...)`` → ``(access_token, refresh_token)`` (by
  default granted ``calendar`` and ``contacts``, which cover every call);
  ``revoke_refresh_token(refresh_token)``; ``expire_access_tokens()``.
- ``account(token_or_email)`` → :class:`AccountSnapshot` (calendars with every stored event,
  cancelled ones included; contacts; deleted contacts; contact groups).
- ``reset()``: no accounts, tokens, faults or counts; constructor quota and delay.
- ``push``: Calendar push notifications (:class:`~calsync.testing.emulator.push.PushHub`):
  ``channels()``, ``expire(channel_id)``, ``fail_deliveries(n, drop=False)``,
  ``delay_deliveries(seconds)``, ``deliveries()``. A loopback ``http://`` address is accepted.

All methods are thread-safe.
"""

from __future__ import annotations

from calsync.testing.emulator.core import EmulatorCore
from calsync.testing.emulator.faults import Fault
from calsync.testing.emulator.server import GoogleEmulator
from calsync.testing.emulator.snapshot import AccountSnapshot, CalendarSnapshot

__all__ = ["AccountSnapshot", "CalendarSnapshot", "EmulatorCore", "Fault", "GoogleEmulator"]

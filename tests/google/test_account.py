"""One user's Google connection: both backends, one pacer, sockets released when closed."""

from __future__ import annotations

from google.oauth2.credentials import Credentials

from calsync.google import connect, shared_pacer
from calsync.testing import GoogleEmulator


def open_connections(service: object) -> int:
    http = service._http  # type: ignore[attr-defined]  # AuthorizedHttp around httplib2.Http
    return len(http.http.connections)


def test_closing_an_account_releases_both_services_connections(google: GoogleEmulator) -> None:
    account = connect(Credentials("ann@studio.example"), base_url=google.base_url)
    account.calendar.list_writable_calendars()
    account.contacts.ensure_group("Weddings 2031")
    assert open_connections(account.calendar.service) == 1
    assert open_connections(account.contacts.service) == 1

    account.close()

    assert open_connections(account.calendar.service) == 0
    assert open_connections(account.contacts.service) == 0


def test_both_backends_of_a_user_share_the_process_wide_pacer(google: GoogleEmulator) -> None:
    pacer = shared_pacer("studio.ann-session-test", calls_per_window=600)
    account = connect(Credentials("ann@studio.example"), base_url=google.base_url, pacer=pacer)

    assert account.pacer is pacer
    assert shared_pacer("studio.ann-session-test") is pacer
    assert account.calendar.caller.pacer is account.contacts.caller.pacer is pacer

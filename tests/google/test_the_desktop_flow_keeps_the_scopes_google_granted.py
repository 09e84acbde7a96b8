"""The desktop flow (``calsync authorize``) when the user unticks a scope on Google's consent
page: the token is kept with what was granted when the profile does not need the missing
scope, and refused, naming it, when it does. oauthlib raised a bare ``Warning`` ("Scope has
changed") for any difference, so the command died with a traceback either way."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest
from oauth_client import emulator_client

from calsync.google.auth import (
    CONTACTS,
    DEFAULT_SCOPES,
    ClientConfig,
    ScopesNotGranted,
    run_desktop_flow,
)
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore

pytestmark = pytest.mark.emulator

WITHOUT_CONTACTS = [scope for scope in DEFAULT_SCOPES if scope != CONTACTS]


@pytest.fixture
def client(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> ClientConfig:
    return emulator_client(google, monkeypatch, "calsync-desktop.apps.googleusercontent.com")


def consenting_to(granted: list[str]) -> Callable[[str], None]:
    """A browser whose user grants only ``granted`` on the consent page."""

    def browser(url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query), scope=" ".join(granted))
        consent = parts._replace(query=urllib.parse.urlencode(query)).geturl()

        def visit() -> None:
            with urllib.request.urlopen(consent, timeout=10) as answer:
                answer.read()

        threading.Thread(target=visit, daemon=True).start()

    return browser


def test_contacts_left_unticked_connect_a_profile_that_does_not_need_them(
    client: ClientConfig,
) -> None:
    store = MemoryTokenStore()

    run_desktop_flow(
        client,
        store,
        "p1",
        open_url=consenting_to(WITHOUT_CONTACTS),
        timeout_seconds=10,
        required=WITHOUT_CONTACTS,
    )

    saved = store.load("p1")
    assert saved is not None
    assert set(saved.scopes) == set(WITHOUT_CONTACTS)


def test_contacts_left_unticked_do_not_connect_a_profile_that_syncs_contacts(
    client: ClientConfig,
) -> None:
    store = MemoryTokenStore()

    with pytest.raises(ScopesNotGranted, match="Google Contacts") as refused:
        run_desktop_flow(
            client,
            store,
            "p1",
            open_url=consenting_to(WITHOUT_CONTACTS),
            timeout_seconds=10,
        )

    assert refused.value.missing == (CONTACTS,)
    assert store.load("p1") is None

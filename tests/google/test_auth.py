"""OAuth helpers and token storage: both flows run unattended against the emulator."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from oauth_client import emulator_client

from calsync.google.account import connect, shared_pacer
from calsync.google.auth import (
    CALENDAR_APP_CREATED,
    CALENDAR_EVENTS,
    CALENDAR_LIST_READONLY,
    CONTACTS,
    DEFAULT_SCOPES,
    ClientConfig,
    connect_account,
    finish_web_flow,
    load_credentials,
    run_desktop_flow,
    scopes_for,
    start_web_flow,
)
from calsync.google.pacing import unpaced
from calsync.google.retry import no_wait_retrying
from calsync.profile import ProfileStatus, SyncProfile
from calsync.testing import MemoryProfileStore
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore, SqliteTokenStore, StoredToken, TokenStore

TOKEN = StoredToken("1//refresh", "ya29.access", datetime(2031, 1, 1, 12, tzinfo=UTC), ("a", "b"))


@pytest.fixture(params=["memory", "sqlite"])
def token_store(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    return SqliteTokenStore(tmp_path / "tokens.sqlite3")


@pytest.fixture
def client(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> ClientConfig:
    return emulator_client(google, monkeypatch, "calsync-tests.apps.googleusercontent.com")


def test_the_default_scopes_are_the_narrow_ones() -> None:
    assert DEFAULT_SCOPES == (
        CALENDAR_EVENTS,
        CALENDAR_LIST_READONLY,
        CALENDAR_APP_CREATED,
        CONTACTS,
    )
    assert scopes_for(choose_calendar=False, contacts=False) == (CALENDAR_APP_CREATED,)
    assert all(not s.endswith("/auth/calendar") for s in DEFAULT_SCOPES)


def test_a_token_store_saves_replaces_and_forgets(token_store: TokenStore) -> None:
    assert token_store.load("p1") is None

    token_store.save("p1", TOKEN)
    token_store.save("p1", StoredToken("1//newer"))
    token_store.save("p2", TOKEN)
    token_store.delete("p2")

    assert token_store.load("p1") == StoredToken("1//newer")
    assert token_store.load("p2") is None


def test_a_refreshed_token_is_stored_only_over_the_row_it_was_refreshed_from(
    token_store: TokenStore,
) -> None:
    token_store.save("p1", TOKEN)
    refreshed = StoredToken(TOKEN.refresh_token, "ya29.fresh")

    assert token_store.save_refreshed("p1", refreshed, TOKEN.refresh_token)
    assert token_store.load("p1") == refreshed
    # the user connected again meanwhile: the new grant stays
    token_store.save("p1", StoredToken("1//new-grant", "ya29.new"))
    assert not token_store.save_refreshed("p1", refreshed, TOKEN.refresh_token)
    assert token_store.load("p1") == StoredToken("1//new-grant", "ya29.new")
    # the user disconnected meanwhile: nothing comes back
    token_store.delete("p1")
    assert not token_store.save_refreshed("p1", refreshed, "1//new-grant")
    assert token_store.load("p1") is None


def test_a_sqlite_token_store_keeps_tokens_across_instances(tmp_path: Path) -> None:
    SqliteTokenStore(tmp_path / "t.sqlite3").save("p1", TOKEN)

    assert SqliteTokenStore(tmp_path / "t.sqlite3").load("p1") == TOKEN


def test_a_stored_token_never_shows_its_secrets() -> None:
    assert "1//refresh" not in repr(TOKEN)
    assert "ya29" not in repr(TOKEN)


@pytest.mark.emulator
def test_a_refreshed_token_is_written_back_to_the_store(
    google: GoogleEmulator, client: ClientConfig, token_store: TokenStore
) -> None:
    access, refresh = google.issue_tokens("ann@example.com")
    token_store.save("p1", StoredToken(refresh, access, None, DEFAULT_SCOPES))
    credentials = load_credentials(token_store, "p1", client)
    assert credentials is not None
    google.expire_access_tokens()

    account = connect(
        credentials, base_url=google.base_url, pacer=unpaced(), retrying=no_wait_retrying()
    )
    calendars = account.calendar.list_writable_calendars()

    assert [c.id for c in calendars] == ["ann@example.com"]
    saved = token_store.load("p1")
    assert saved is not None
    assert (saved.refresh_token, saved.access_token != access) == (refresh, True)
    assert saved.expiry is not None
    assert saved.expiry > datetime.now(UTC)


@pytest.mark.emulator
@pytest.mark.parametrize("meanwhile", ["disconnected", "connected again"])
def test_a_token_refreshed_by_a_run_never_undoes_what_the_user_did_meanwhile(
    google: GoogleEmulator, client: ClientConfig, token_store: TokenStore, meanwhile: str
) -> None:
    access, refresh = google.issue_tokens("ann@example.com")
    token_store.save("p1", StoredToken(refresh, access, None, DEFAULT_SCOPES))
    credentials = load_credentials(token_store, "p1", client)  # a run starts
    assert credentials is not None
    newer = StoredToken("1//the-new-grant", "ya29.new", None, DEFAULT_SCOPES)
    if meanwhile == "disconnected":
        token_store.delete("p1")
    else:
        token_store.save("p1", newer)
    google.expire_access_tokens()

    account = connect(
        credentials, base_url=google.base_url, pacer=unpaced(), retrying=no_wait_retrying()
    )
    account.calendar.list_writable_calendars()  # the run refreshes its access token

    assert token_store.load("p1") == (None if meanwhile == "disconnected" else newer)


def test_no_credentials_before_the_user_connected(client: ClientConfig) -> None:
    assert load_credentials(MemoryTokenStore(), "p1", client) is None


def _follow_in_background(url: str) -> None:
    def visit() -> None:
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()

    threading.Thread(target=visit, daemon=True).start()


@pytest.mark.emulator
def test_the_desktop_flow_catches_the_redirect_and_stores_the_tokens(
    google: GoogleEmulator, client: ClientConfig
) -> None:
    store = MemoryTokenStore()
    seen: list[str] = []

    def browser(url: str) -> None:
        seen.append(url)
        _follow_in_background(url)

    credentials = run_desktop_flow(
        client, store, "p1", open_url=browser, login_hint="ann@example.com", timeout_seconds=10
    )

    query = urllib.parse.parse_qs(urllib.parse.urlparse(seen[0]).query)
    assert query["redirect_uri"][0].startswith("http://localhost:")
    assert (query["access_type"], query["code_challenge_method"]) == (["offline"], ["S256"])
    assert set(query["scope"][0].split()) == set(DEFAULT_SCOPES)
    saved = store.load("p1")
    assert saved is not None
    assert saved.refresh_token == credentials.refresh_token
    assert credentials.token is not None
    assert google.account(credentials.token).email == "ann@example.com"


@pytest.mark.emulator
def test_the_web_flow_gives_a_consent_url_then_exchanges_the_code(
    google: GoogleEmulator, client: ClientConfig
) -> None:
    store = MemoryTokenStore()
    redirect_uri = "https://studio.example/oauth/google"

    request = start_web_flow(client, redirect_uri, login_hint="bea@example.com")
    consent = urllib.request.Request(request.url)
    opener = urllib.request.build_opener(_NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(consent, timeout=10)
    location = redirected.value.headers["Location"]
    answer = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert location.startswith(redirect_uri)

    credentials = finish_web_flow(
        client,
        redirect_uri,
        request,
        code=answer["code"][0],
        state=answer["state"][0],
        store=store,
        key="p2",
    )

    assert credentials.token is not None
    assert google.account(credentials.token).email == "bea@example.com"
    assert store.load("p2") is not None


def test_the_web_flow_refuses_a_foreign_state(client: ClientConfig) -> None:
    request = start_web_flow(client, "https://studio.example/cb")

    with pytest.raises(ValueError, match="state"):
        finish_web_flow(
            client,
            "https://studio.example/cb",
            request,
            code="4/x",
            state="forged",
            store=MemoryTokenStore(),
            key="p",
        )


def test_one_pacer_per_user_for_the_whole_process() -> None:
    assert shared_pacer("user-a") is shared_pacer("user-a")
    assert shared_pacer("user-a") is not shared_pacer("user-b")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# -- connecting an account brings a waiting profile back -------------------------------------


def _waiting(profile_id: str, status: ProfileStatus) -> MemoryProfileStore:
    return MemoryProfileStore([SyncProfile(profile_id, "u1", "primary", status=status)])


@pytest.mark.emulator
def test_the_web_flow_with_the_profiles_sets_a_reauthorised_profile_back_to_ok(
    google: GoogleEmulator, client: ClientConfig
) -> None:
    profiles = _waiting("studio.bea", ProfileStatus.NEEDS_REAUTH)
    redirect_uri = "https://studio.example/oauth/google"
    request = start_web_flow(client, redirect_uri, login_hint="bea@example.com")
    with pytest.raises(urllib.error.HTTPError) as redirected:
        urllib.request.build_opener(_NoRedirect()).open(request.url, timeout=10)
    location = urllib.parse.urlparse(redirected.value.headers["Location"])
    answer = urllib.parse.parse_qs(location.query)

    finish_web_flow(
        client,
        redirect_uri,
        request,
        code=answer["code"][0],
        state=answer["state"][0],
        store=MemoryTokenStore(),
        key="studio.bea",
        profiles=profiles,
    )

    assert profiles.get("studio.bea").status is ProfileStatus.OK


@pytest.mark.emulator
def test_connect_account_stores_the_tokens_and_sets_the_profile_back_to_ok(
    google: GoogleEmulator, client: ClientConfig
) -> None:
    profiles = _waiting("studio.ann", ProfileStatus.NOT_CONNECTED)
    tokens = MemoryTokenStore()
    access, refresh = google.issue_tokens("ann@example.com")

    connect_account(tokens, "studio.ann", Credentials(access, refresh_token=refresh), profiles)

    saved = tokens.load("studio.ann")
    assert saved is not None
    assert saved.refresh_token == refresh
    assert profiles.get("studio.ann").status is ProfileStatus.OK
    assert load_credentials(tokens, "studio.ann", client) is not None

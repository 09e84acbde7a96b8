"""WebAuthorization's pending flows (one per profile, expiring, found without a scan) and
what it stores when the profile goes away or Google cannot answer, without a web server."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, MutableMapping

import pytest
from oauth_client import emulator_client

from calsync import SyncOptions, SyncProfile
from calsync.errors import AuthError, TransientError
from calsync.google.auth import ClientConfig
from calsync.google.web_auth import AuthorizationRefused, PendingAuthorization, WebAuthorization
from calsync.testing import MemoryProfileStore
from calsync.testing.emulator import GoogleEmulator
from calsync.tokens import MemoryTokenStore

from .test_web import Browser

BEA = SyncProfile("studio.bea", "bea", None, SyncOptions(), "bea@example.com")
CALLBACK = "https://sync.studio.example/oauth/google/callback"
OFFLINE = ClientConfig("calsync-web", "not-a-secret")  # its flows never reach Google


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountedPending(MutableMapping[str, PendingAuthorization]):
    """A pending mapping that counts the entries iterated over."""

    def __init__(self) -> None:
        self.entries: dict[str, PendingAuthorization] = {}
        self.iterated = 0

    def __getitem__(self, key: str) -> PendingAuthorization:
        return self.entries[key]

    def __setitem__(self, key: str, value: PendingAuthorization) -> None:
        self.entries[key] = value

    def __delitem__(self, key: str) -> None:
        del self.entries[key]

    def __iter__(self) -> Iterator[str]:
        for key in self.entries:
            self.iterated += 1
            yield key

    def __len__(self) -> int:
        return len(self.entries)


def authorization(
    profiles: MemoryProfileStore | None = None,
    *,
    client: ClientConfig = OFFLINE,
    pending: MutableMapping[str, PendingAuthorization] | None = None,
    clock: Clock | None = None,
) -> WebAuthorization:
    return WebAuthorization(
        client,
        CALLBACK,
        MemoryTokenStore(),
        profiles or MemoryProfileStore([BEA]),
        pending=pending,
        clock=clock or Clock(),
    )


def finish(auth: WebAuthorization, state: str, profile_id: str = "studio.bea") -> str:
    return auth.complete(state=state, code="4/code", browser_state=state, profile_id=profile_id)


def test_a_new_start_replaces_the_profiles_pending_flow() -> None:
    pending: dict[str, PendingAuthorization] = {}
    auth = authorization(pending=pending)

    first = auth.begin("studio.bea")
    for _ in range(99):
        auth.begin("studio.bea")

    assert list(pending) == ["studio.bea"]
    with pytest.raises(AuthorizationRefused, match="start again"):
        finish(auth, first.state)


def test_flows_older_than_the_ttl_are_forgotten_at_the_next_start() -> None:
    pending: dict[str, PendingAuthorization] = {}
    clock = Clock()
    auth = authorization(pending=pending, clock=clock)
    for n in range(50):
        auth.begin(f"studio.u{n}")

    clock.now += 601
    auth.begin("studio.bea")

    assert list(pending) == ["studio.bea"]


def test_a_flow_older_than_the_ttl_is_refused() -> None:
    clock = Clock()
    auth = authorization(clock=clock)
    started = auth.begin("studio.bea")

    clock.now += 601

    with pytest.raises(AuthorizationRefused, match="expired"):
        finish(auth, started.state)


def test_a_start_and_a_callback_look_at_no_other_profiles_flow() -> None:
    pending = CountedPending()
    auth = authorization(pending=pending)
    for n in range(1000):
        auth.begin(f"studio.u{n}")
    pending.iterated = 0

    started = auth.begin("studio.bea")
    with pytest.raises(AuthorizationRefused):
        finish(auth, started.state, profile_id="studio.u7")

    assert pending.iterated <= 1


class RemovedWhileGoogleAnswers(MemoryProfileStore):
    def account_connected(self, profile_id: str) -> None:
        self.remove(profile_id)
        super().account_connected(profile_id)


@pytest.fixture
def emulated(google: GoogleEmulator, monkeypatch: pytest.MonkeyPatch) -> ClientConfig:
    return emulator_client(google, monkeypatch)


def consent(auth: WebAuthorization, profile_id: str = "studio.bea") -> tuple[str, str]:
    """Start and consent at the emulated Google: the callback's (state, code)."""
    _, google_answer, _ = Browser().get(auth.begin(profile_id).url)
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(google_answer["Location"]).query))
    return answer["state"], answer["code"]


@pytest.mark.emulator
def test_a_profile_removed_while_google_answers_keeps_no_token(emulated: ClientConfig) -> None:
    auth = authorization(RemovedWhileGoogleAnswers([BEA]), client=emulated)
    state, code = consent(auth)

    with pytest.raises(AuthorizationRefused, match="no longer exists"):
        auth.complete(state=state, code=code, browser_state=state, profile_id="studio.bea")

    assert auth.tokens.load("studio.bea") is None


@pytest.mark.emulator
def test_google_unreachable_is_not_reported_as_a_refusal(
    google: GoogleEmulator, emulated: ClientConfig
) -> None:
    auth = authorization(client=emulated)
    state, code = consent(auth)
    google.inject_fault(path="^/token", reset=True, scope="http")

    with pytest.raises(TransientError) as raised:
        auth.complete(state=state, code=code, browser_state=state, profile_id="studio.bea")

    assert not isinstance(raised.value, AuthError)
    assert auth.tokens.load("studio.bea") is None


@pytest.mark.emulator
def test_a_code_google_refuses_is_reported_as_a_refusal(emulated: ClientConfig) -> None:
    auth = authorization(client=emulated)
    state, _ = consent(auth)

    with pytest.raises(AuthError, match="Google refused"):
        auth.complete(state=state, code="4/forged", browser_state=state, profile_id="studio.bea")

    assert auth.tokens.load("studio.bea") is None

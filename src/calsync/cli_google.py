"""The ``calsync`` commands that talk to a user's Google account: ``authorize`` (the desktop
OAuth flow) and ``calendars`` (list the writable calendars, or create one). See
:mod:`calsync.cli`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from calsync.errors import ConfigurationError
from calsync.google.auth import CONTACTS, DEFAULT_SCOPES, ClientConfig, run_desktop_flow
from calsync.google.calendar import GoogleCalendarBackend
from calsync.profile import ProfileStatus
from calsync.tokens import TokenStore

if TYPE_CHECKING:  # (cli imports this module for its commands)
    from calsync.cli import App

__all__ = ["authorize", "calendars"]


def _client(app: App) -> tuple[ClientConfig, TokenStore]:
    google = app.config.google
    if google is None:
        raise ConfigurationError("the configuration has no [google] section")
    client = ClientConfig(google.client_id, google.client_secret)
    if google.base_url:
        base = google.base_url.rstrip("/")
        client = ClientConfig(
            google.client_id, google.client_secret, f"{base}/o/oauth2/auth", f"{base}/token"
        )
    return client, app.config.token_store()


def _allow_loopback_http(base_url: str | None) -> None:
    """oauthlib insists on https; an emulator on this machine speaks plain http."""
    host = urlsplit(base_url or "").hostname
    if host in {"127.0.0.1", "localhost", "::1"}:
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


def authorize(app: App, args: argparse.Namespace) -> int:
    """Connect a user's Google account in a browser (the desktop flow)."""
    profile = app.profile(args.profile)
    client, tokens = _client(app)
    _allow_loopback_http(app.config.google.base_url if app.config.google else None)
    show = None
    if args.no_browser:

        def show(url: str) -> None:
            print(f"Open this address in a browser on this computer:\n{url}", file=app.out)
            app.out.flush()

    run_desktop_flow(
        client,
        tokens,
        profile.id,
        port=args.port,
        login_hint=profile.email or None,
        open_url=show,
        profiles=app.host.profiles,
        # contacts unticked on the consent page connect a user who does not sync them
        required=[s for s in DEFAULT_SCOPES if s != CONTACTS or profile.options.contacts],
    )
    status = app.profile(profile.id).status
    after = "the next round syncs this user" if status is ProfileStatus.OK else status.value
    print(f"{profile.id}: Google connected; {after}", file=app.out)
    return 0


def calendars(app: App, args: argparse.Namespace) -> int:
    """List the calendars the user can write to, or create one."""
    profile = app.profile(args.profile)
    connection = app.processor(mails=False).connect(profile)
    calendar = connection.calendar
    if not isinstance(calendar, GoogleCalendarBackend):
        raise ConfigurationError("listing calendars needs the Google backend")
    if args.create:
        info = calendar.create_calendar(args.create, args.zone)
        print(f"created {info.id}  {info.summary}", file=app.out)
        return 0
    for info in calendar.list_writable_calendars():
        mark = " (primary)" if info.primary else ""
        print(f"{info.id}  {info.summary}{mark}", file=app.out)
    return 0

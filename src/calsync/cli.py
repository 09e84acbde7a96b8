"""The ``calsync`` command, for administrators and troubleshooting.

    calsync --config calsync.toml run            # the sync processor, until interrupted
    calsync --config calsync.toml run --once     # one round over every user
    calsync --config calsync.toml status         # each profile's state
    calsync --config calsync.toml dry-run ID     # what a sync of one profile would do
    calsync --config calsync.toml sync ID        # sync one profile now (waits for a run)
    calsync --config calsync.toml reset ID       # start over: forget the profile's sync state
    calsync --config calsync.toml authorize ID   # connect a user's Google account (browser)
    calsync --config calsync.toml calendars ID   # the calendars the user can write to
    calsync --config calsync.toml web --public-url https://sync.example  # push (calsync[web])
    calsync emulator --port 8765                 # serve the Google emulator
    calsync generate-key                         # a new token encryption key
    calsync --config calsync.toml encrypt-tokens # encrypt tokens stored in plaintext
    calsync --config calsync.toml rotate-keys    # re-encrypt every token with the newest key
    calsync --config calsync.toml migrate        # bring the PostgreSQL schema up to date

See :mod:`calsync.config` for the configuration file.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from calsync.cli_google import authorize, calendars
from calsync.config import Config, Host, google_connector
from calsync.engine import SyncEngine, SyncReport
from calsync.errors import CalsyncError, ConfigurationError, NotConnected
from calsync.google.auth import channels_not_granted
from calsync.leases import ProfileLease
from calsync.model import Channel
from calsync.processor import MAX_INTERVAL, ProfileRun, SyncProcessor, default_holder
from calsync.profile import ProfileStatus, SyncProfile
from calsync.state import StateStore
from calsync.tokens import EncryptingTokenStore, TokenStore

__all__ = ["main"]

logger = logging.getLogger(__name__)

#: Libraries whose INFO or DEBUG records can carry secrets: the OAuth redirect's request line
#: (``GET /?code=…&state=…``, logged by google_auth_oauthlib's local server), token requests
#: and answers (oauthlib, requests-oauthlib), request lines with their query (urllib3,
#: httplib2). The command keeps them at WARNING, ``--verbose`` or not.
QUIET_LOGGERS = ("google_auth_oauthlib", "oauthlib", "requests_oauthlib", "urllib3", "httplib2")

#: How long ``sync`` and ``reset`` may be told to wait for a run in progress: a day.
MAX_WAIT = 24 * 3600.0
#: The lease ``reset`` holds while it forgets a profile's state (one transaction).
RESET_LEASE = timedelta(minutes=1)


class Progress:
    """Prints ``profile channel done/total`` lines, at most one per second per profile."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last: dict[str, float] = {}

    def __call__(self, profile_id: str, channel: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last.get(profile_id, 0.0) < 1.0:
            return
        self.last[profile_id] = now
        print(f"  {profile_id} {channel}: {done}/{total}", file=self.out, flush=True)


class App:
    """The loaded configuration and what it opens: ``store`` (default: the configured state
    store); with ``dry_run``, token stores that keep refreshed tokens in memory only."""

    def __init__(
        self, config: Config, out: TextIO, store: StateStore | None = None, *, dry_run: bool = False
    ) -> None:
        self.config = config
        self.out = out
        self.dry_run = dry_run
        self.host: Host = config.open_host()
        self.store: StateStore = store if store is not None else config.state_store()
        self.engine = SyncEngine(
            self.store, self.host.schedule, self.host.contacts, progress=Progress(sys.stderr)
        )

    def processor(self, *, mails: bool = True) -> SyncProcessor:
        """The processor of the configuration; with ``mails=False`` (a dry run, or only a
        connection to Google), one that sends no email and needs no SMTP password."""
        google = self.config.google
        if google is None:
            raise ConfigurationError("the configuration has no [google] section")
        tokens = self.config.dry_run_tokens() if self.dry_run else self.config.token_store()
        return SyncProcessor(
            self.engine,
            self.host.profiles,
            google_connector(google, tokens, pacer_for=self.config.pacer_for()),
            notifier=self.config.notifier() if mails else None,
            interval=self.config.interval,
            jitter=self.config.jitter,
            workers=self.config.workers,
            remind_every=self.config.remind_every,
        )

    def profile(self, profile_id: str) -> SyncProfile:
        for profile in self.host.profiles.profiles():
            if profile.id == profile_id:
                return profile
        known = ", ".join(p.id for p in self.host.profiles.profiles()) or "none"
        raise ConfigurationError(f"no profile {profile_id!r} (known: {known})")

    def print_report(self, report: SyncReport) -> None:
        print(report.summary(), file=self.out)

    def print_run(self, run: ProfileRun) -> None:
        if run.report is None:
            print(f"Profile {run.profile_id}: skipped, {run.skipped}", file=self.out)
        elif run.status is ProfileStatus.NOT_CONNECTED:
            print(f"Profile {run.profile_id}: not connected, {run.report.fatal}", file=self.out)
        else:
            self.print_report(run.report)


def _run(app: App, args: argparse.Namespace) -> int:
    processor = app.processor()
    if args.once:
        runs = processor.run_once()
        if not runs:
            print("no profile is due: none has sync on, status ok and a calendar", file=app.out)
        for run in runs.values():
            app.print_run(run)
        return 1 if any(run.failed for run in runs.values()) else 0
    print(f"syncing every {app.config.interval:.0f}s; Ctrl-C to stop", file=app.out)
    try:
        processor.serve()
    except KeyboardInterrupt:
        processor.stop()
    return 0


def _sync(app: App, args: argparse.Namespace) -> int:
    profile = app.profile(args.profile)
    run = app.processor().run_profile(
        profile, confirm_deletions=args.confirm_deletions, wait=args.wait
    )
    app.print_run(run)
    if run.report is None:  # skipped: sync off or nothing to sync is the user's choice, no
        # failure; giving up waiting for another runner's run is one
        return 0 if profile.held_back(status_too=False) is not None else 1
    return 1 if run.failed else 0


def _dry_run(app: App, args: argparse.Namespace) -> int:
    """Print what ``sync`` would do, writing nothing: ``app`` has a state store and tokens of
    its own for the run (:meth:`Config.dry_run_state`, :meth:`Config.dry_run_tokens`)."""
    profile = app.profile(args.profile)
    held_back = profile.held_back(status_too=False)
    if held_back is not None:  # as in sync: no run, so no plan
        print(f"Profile {profile.id}: skipped, {held_back}", file=app.out)
        return 0
    try:
        connection = app.processor(mails=False).connect(profile)
    except NotConnected:  # as in sync: this waits for the user, it is no failure
        wording = profile.options.wording
        print(f"Profile {profile.id}: not connected, {wording.not_connected}", file=app.out)
        return 0
    report = app.engine.sync(profile, connection.calendar, connection.contacts, dry_run=True)
    app.print_report(report)
    for line in report.planned:
        print(f"  would {line}", file=app.out)
    if report.planned_total > len(report.planned):
        print(f"  … and {report.planned_total - len(report.planned)} more", file=app.out)
    return 0 if report.ok else 1


def _status(app: App, args: argparse.Namespace) -> int:
    rows = []
    tokens = _token_store_for_status(app)
    for profile in app.host.profiles.profiles():
        lease = app.store.get_lease(profile.id)
        last_run = app.store.get_last_run(profile.id)
        notice = app.store.get_sent_notice(profile.id)
        rows.append(
            {
                "profile": profile.id,
                "user": profile.name or profile.user_id,
                "sync": "on" if profile.enabled else "off",
                "status": profile.status.value,
                "calendar": profile.calendar_id or "(none chosen)",
                "events": len(app.store.mappings(profile.id, Channel.CALENDAR)),
                "contacts": len(app.store.mappings(profile.id, Channel.CONTACTS)),
                "last run": last_run.isoformat() if last_run is not None else "never",
                "problem mailed": notice.sent_at.isoformat() if notice is not None else "-",
                "lease": lease.holder if lease is not None else "-",
                "push": _push_state(app.store, profile.id),
                "google access": _google_access(tokens, profile),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2), file=app.out)
        return 0
    if not rows:
        print(
            f"no profiles: the host ({app.config.host}) has no users with Google Sync set up",
            file=app.out,
        )
        return 0
    for row in rows:
        print("  ".join(f"{key}: {value}" for key, value in row.items()), file=app.out)
    return 0


def _token_store_for_status(app: App) -> TokenStore | None:
    """The token store, read as it is (no token file made), when the configuration has one
    that opens: ``status`` shows the rest without it."""
    try:
        return app.config.dry_run_tokens()
    except CalsyncError as exc:  # no [google] section, or keys missing: nothing to show
        logger.debug("status: no token store to read: %s", exc)
        return None


def _google_access(tokens: TokenStore | None, profile: SyncProfile) -> str:
    """What the stored Google authorisation gives the profile's channels, in a few words:
    ``ok``, the channels the user must reconnect Google to allow (``not allowed: contacts``),
    ``scopes not recorded`` (only a run can tell), ``-`` (nothing stored)."""
    try:
        token = tokens.load(profile.id) if tokens is not None else None
    except CalsyncError:  # (named by the token store's own error, logged by the commands)
        return "unreadable"
    if token is None:
        return "-"
    missing = channels_not_granted(token.scopes)
    if missing is None:
        return "scopes not recorded"
    synced = {Channel.CALENDAR} if profile.calendar_id is not None else set()
    synced |= {Channel.CONTACTS} if profile.options.contacts else set()
    lacking = sorted(channel.value for channel in missing & synced)
    return f"not allowed: {', '.join(lacking)}" if lacking else "ok"


def _push_state(store: StateStore, profile_id: str) -> str:
    """The profile's push channels in a few words ("-": none)."""
    channels = store.push_channels(profile_id)
    if not channels:
        return "-"
    latest = channels[-1]
    confirmed = "" if latest.confirmed_at is not None else ", unconfirmed"
    return f"channel until {latest.expires_at:%Y-%m-%d %H:%M}Z{confirmed}"


def _reset(app: App, args: argparse.Namespace) -> int:
    """Forget the profile's sync state under its lease: a run in progress (here or at another
    runner) would write part of the state back. Waits up to ``--wait`` for such a run."""
    profile = app.profile(args.profile)
    lease = ProfileLease(app.store, default_holder(), RESET_LEASE, lambda: datetime.now(UTC))
    with lease.hold(profile.id, wait=args.wait) as held:
        if held is None:
            print(
                f"{profile.id}: not reset: another runner is syncing this user (waited "
                f"{args.wait:.0f}s); nothing was forgotten, try again when its run has ended",
                file=app.out,
            )
            return 1
        held.check()
        app.store.forget_profile(profile.id)
    print(
        f"{profile.id}: sync state forgotten; the next sync lists both sides in full and "
        "adopts the events already in Google",
        file=app.out,
    )
    return 0


def _reseal_tokens(app: App, args: argparse.Namespace) -> int:
    tokens = app.config.token_store()
    if not isinstance(tokens, EncryptingTokenStore):
        raise ConfigurationError("this token store does not encrypt")
    rotate = args.command == "rotate-keys"
    changed = tokens.rotate_keys() if rotate else tokens.encrypt_plaintext()
    done = "re-encrypted with the newest key" if rotate else "encrypted"
    print(f"{changed} token(s) {done}", file=app.out)
    return 0


def _migrate(config: Config, out: TextIO) -> int:
    store = config.state_store(migrate=True)
    if config.server is not None and config.server.database:
        tokens = config.token_store()
        if hasattr(tokens, "migrate"):  # the PostgreSQL token store creates its table
            tokens.migrate()
    print(f"state schema at version {store.SCHEMA_VERSION}", file=out)
    return 0


def _web(app: App, args: argparse.Namespace) -> int:
    """The processor with push notifications, and calsync.web on uvicorn, until interrupted."""
    try:  # the web extra: imported here only, the core never needs it
        import uvicorn  # noqa: PLC0415

        from calsync.web import create_app  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigurationError(f"calsync web needs the web extra: {exc}") from exc
    from calsync.push import NotificationReceiver, PushChannels  # noqa: PLC0415

    public = args.public_url.rstrip("/")
    processor = app.processor()
    processor.push = PushChannels(app.store, f"{public}/google/notifications")
    processor.safety_interval = args.safety_interval
    receiver = NotificationReceiver(app.store, processor, debounce=args.debounce)
    serving = threading.Thread(target=processor.serve, name="calsync-processor", daemon=True)
    serving.start()
    print(
        f"serving on http://{args.host}:{args.port}; Google notifies {public}/google/notifications",
        file=app.out,
        flush=True,
    )
    try:
        uvicorn.run(create_app(receiver), host=args.host, port=args.port, log_level="warning")
    finally:
        processor.stop()
        serving.join(timeout=30)
    return 0


def _emulator(argv: Sequence[str]) -> int:
    # imported here: the emulator is test tooling, not loaded by every other command
    from calsync.testing.emulator.__main__ import main as emulator_main  # noqa: PLC0415

    return emulator_main(list(argv))


def _add_wait(command: argparse.ArgumentParser) -> None:
    """A command's ``--wait``: how long to wait for a run of the profile in progress."""
    command.add_argument(
        "--wait",
        type=_seconds(0, MAX_WAIT),
        default=600.0,
        metavar="SECONDS",
        help="how long to wait for a run of the profile in progress (default 600)",
    )


def _seconds(least: float, most: float) -> Callable[[str], float]:
    """An argument type: a number of seconds from ``least`` to ``most``."""

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not least <= value <= most:  # (also refuses NaN)
            raise argparse.ArgumentTypeError(
                f"must be a number of seconds from {least:g} to {most:.0f}, not {text!r}"
            )
        return value

    return seconds


def _port(text: str) -> int:
    """An argument type: a TCP port (0: any free one)."""
    if not (text.isdigit() and 0 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, not {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="calsync", description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="calsync.toml", help="configuration file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log DEBUG to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the sync processor")
    run.add_argument("--once", action="store_true", help="one round, then exit")
    status = commands.add_parser("status", help="show each profile's state")
    status.add_argument("--json", action="store_true")
    for name, text in (
        ("dry-run", "print the plan"),
        ("reset", "start over"),
        ("authorize", "connect Google"),
        ("calendars", "list calendars"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("profile")
        if name == "reset":
            _add_wait(sub)
        if name == "authorize":
            sub.add_argument("--port", type=_port, default=0, help="local redirect port")
            sub.add_argument(
                "--no-browser", action="store_true", help="print the consent address instead"
            )
        if name == "calendars":
            sub.add_argument("--create", metavar="NAME", help="create a dedicated calendar")
            sub.add_argument("--zone", default="UTC", help="time zone of a created calendar")
    sync = commands.add_parser("sync", help="sync one profile now")
    sync.add_argument("profile")
    sync.add_argument("--confirm-deletions", action="store_true", help="let held deletions happen")
    _add_wait(sync)
    web = commands.add_parser("web", help="sync with push notifications (needs calsync[web])")
    web.add_argument("--public-url", required=True, help="where Google reaches this server")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=_port, default=8080, help="port to listen on")
    web.add_argument(
        "--debounce", type=_seconds(0, 3600), default=1.0, help="seconds to gather a burst"
    )
    web.add_argument(
        "--safety-interval",
        type=_seconds(1, MAX_INTERVAL),
        default=3600.0,
        help="poll interval while push works",
    )
    commands.add_parser("emulator", help="serve the Google emulator (its own options follow)")
    commands.add_parser("generate-key", help="print a new token encryption key")
    commands.add_parser("encrypt-tokens", help="encrypt tokens stored in plaintext")
    commands.add_parser("rotate-keys", help="re-encrypt every token with the newest key")
    commands.add_parser("migrate", help="bring the state schema up to date (PostgreSQL)")
    return parser


COMMANDS = {
    "run": _run,
    "status": _status,
    "sync": _sync,
    "reset": _reset,
    "authorize": authorize,
    "calendars": calendars,
    "web": _web,
    "encrypt-tokens": _reseal_tokens,
    "rotate-keys": _reseal_tokens,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        return _emulator(argv[1:])
    if argv[:1] == ["generate-key"]:
        from calsync.crypto import generate_key  # noqa: PLC0415 - needs calsync[server]

        print(generate_key(), file=out or sys.stdout)
        return 0
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    out = out or sys.stdout
    try:
        config = Config.load(args.config)
        if args.command == "migrate":  # before App, which refuses a schema not yet current
            return _migrate(config, out)
        if args.command == "dry-run":  # written nowhere: its own state store and tokens
            with config.dry_run_state() as store:
                return _dry_run(App(config, out, store, dry_run=True), args)
        return COMMANDS[args.command](App(config, out), args)
    except CalsyncError as exc:
        print(f"calsync: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""What the operator-flow tests share: the demo studio set up as docs/cli.md does, the
``calsync`` command run as a subprocess, a mail server on loopback, and the consent step."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from mailbox import Inbox, serving
from pathlib import Path

from calsync.testing import GoogleEmulator
from calsync.tokens import SqliteTokenStore, StoredToken

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@contextmanager
def mail_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with serving(inbox) as port:
        yield inbox, port


class Demo:
    """The demo studio in ``directory``, set up by ``examples/init_demo.py``. Its users'
    ids are drawn when the studio is made: ``profile_ids`` and ``user_ids`` name them by the
    seed's short names (``"ann"``), ``accounts`` gives each profile's Google account."""

    def __init__(self, directory: Path, google: GoogleEmulator) -> None:
        from init_demo import init_demo
        from studio.seed import USERS

        self.directory = directory
        self.google = google
        self.profiles = init_demo(directory, google.base_url)  # in the seed's order of USERS
        self.profile_ids = dict(zip(USERS, self.profiles, strict=True))
        self.user_ids = {name: int(p.rpartition(".")[2]) for name, p in self.profile_ids.items()}
        self.accounts = {p: USERS[name][1] for name, p in self.profile_ids.items()}
        self.config = directory / "calsync.toml"
        self.tokens = SqliteTokenStore(directory / "tokens.sqlite3")

    def add_to_config(self, text: str) -> None:
        with self.config.open("a", encoding="utf-8") as config:
            config.write(text)

    def send_mail_to(self, port: int) -> None:
        self.add_to_config(
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'sender = "sync@lumen-studio.example"\n'
        )

    def connect(self, profile_id: str) -> None:
        """What the user's consent would store, without the browser."""
        access, refresh = self.google.issue_tokens(self.accounts[profile_id])
        self.tokens.save(profile_id, StoredToken(refresh, access))

    def events(self, profile_id: str) -> int:
        return len(self.google.account(self.accounts[profile_id]).primary.live_events())

    def calsync(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``calsync -c calsync.toml ARGS``, as the administrator types it."""
        return subprocess.run(
            [sys.executable, "-m", "calsync.cli", "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "calsync.cli", "-c", str(self.config), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def consent(process: subprocess.Popen[str]) -> str:
    """Play the user at ``calsync authorize --no-browser``: open the address it prints (the
    emulator approves at once and redirects to calsync's local server); its other output."""
    assert process.stdout is not None
    assert process.stdout.readline().startswith("Open this address")
    address = process.stdout.readline().strip()
    with urllib.request.urlopen(address, timeout=30) as answer:
        assert answer.status == 200
    out, _ = process.communicate(timeout=60)
    return out

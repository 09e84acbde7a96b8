"""Set up a directory to try the ``calsync`` command on the demo studio (docs/cli.md).

    python examples/init_demo.py demo --emulator http://127.0.0.1:8765

makes ``demo/studio.sqlite3`` (the studio example's database with the demo studio of
``studio/seed.py``: Ann, Ben and Cara, with sync on and their primary calendars chosen) and
``demo/calsync.toml`` (that studio as the host, state and tokens next to it, Google at the
emulator's address). Nobody has connected a Google account yet: ``calsync authorize`` does that.
An existing directory set up before is left alone.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from studio.db import Studio
from studio.seed import USERS, seed_demo_studio

EXAMPLES = Path(__file__).resolve().parent
STUDIO_NAME = "lumen"

CONFIG = """\
# The demo studio against the Google emulator (made by examples/init_demo.py).
state = "calsync.sqlite3"
host = "studio.host:open_host"
host_path = "{examples}"

[host_options]
database = "studio.sqlite3"
studio = "{studio}"

[google]
client_id = "lumen-desktop"
client_secret = "not-a-secret"
tokens = "tokens.sqlite3"
base_url = "{base_url}"

[processor]
interval = 300
"""


def init_demo(directory: Path, base_url: str, *, now: datetime | None = None) -> list[str]:
    """Write the demo studio and its configuration into ``directory``; the profile ids made.

    Raises:
        FileExistsError: ``directory`` already holds a configuration or a studio database.
    """
    config, database = directory / "calsync.toml", directory / "studio.sqlite3"
    for path in (config, database):
        if path.exists():
            raise FileExistsError(f"{path} exists already: use another directory")
    directory.mkdir(parents=True, exist_ok=True)
    with Studio(database) as studio:
        seeded = seed_demo_studio(studio, now=now or datetime.now(UTC))
    config.write_text(
        CONFIG.format(examples=EXAMPLES.as_posix(), studio=STUDIO_NAME, base_url=base_url),
        encoding="utf-8",
    )
    return [f"{STUDIO_NAME}.{user}" for user in seeded.users.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("directory", type=Path, help="where to put the studio and calsync.toml")
    parser.add_argument(
        "--emulator",
        default="http://127.0.0.1:8765",
        metavar="URL",
        help="the Google emulator's base URL (default http://127.0.0.1:8765)",
    )
    args = parser.parse_args(argv)
    try:
        profiles = init_demo(args.directory, args.emulator.rstrip("/"))
    except FileExistsError as exc:
        print(f"init_demo: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.directory / 'calsync.toml'} and {args.directory / 'studio.sqlite3'}")
    for profile, (name, email) in zip(profiles, USERS.values(), strict=True):
        print(f"  {profile}: {name} <{email}>, sync on, no Google account connected yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m calsync.testing.emulator --port PORT``: serve until killed.

The first line of stdout is the base URL (``--port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from types import FrameType
from typing import get_args

from calsync.testing.emulator.recurrence import InstanceIdStyle
from calsync.testing.emulator.server import GoogleEmulator
from calsync.testing.emulator.state import PeopleListingEtags

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m calsync.testing.emulator",
        description="Serve the Google Calendar/People/OAuth emulator on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--quota", type=int, default=None, help="API calls per window and user")
    parser.add_argument("--quota-window", type=float, default=60.0, help="quota window seconds")
    parser.add_argument(
        "--people-propagation-delay", type=float, default=0.0, help="seconds before sync sees"
    )
    parser.add_argument(
        "--instance-ids",
        choices=get_args(InstanceIdStyle),
        default="dated",
        help="ids of recurring events' instances: <series>_<start> (dated) or opaque",
    )
    parser.add_argument(
        "--people-listing-etags",
        choices=get_args(PeopleListingEtags),
        default="accepted",
        help="whether updates accept the etags of contact listings (Google's: refused)",
    )
    parser.add_argument(
        "--refuse-zone",
        action="append",
        default=[],
        metavar="ZONE",
        dest="refused_zones",
        help="refuse event writes in this time zone, as Google refused Europe/Kyiv (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    emulator = GoogleEmulator(
        args.host,
        args.port,
        quota_per_window=args.quota,
        quota_window_seconds=args.quota_window,
        people_propagation_delay=args.people_propagation_delay,
        instance_ids=args.instance_ids,
        people_listing_etags=args.people_listing_etags,
        refused_zones=args.refused_zones,
    )
    with emulator:
        sys.stdout.write(emulator.base_url + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

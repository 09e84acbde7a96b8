"""How fast a change made in Google reaches the host with push notifications, and what push
saves in Google API calls, against the emulator with real sockets.

* **Latency.** ``--users`` staff users (default 20), each with a dedicated calendar synced back
  to the host (inbound on) and a watch channel; ``--edits`` events (default 100) created in
  Google by random users, spread over ``--spread`` seconds. For each edit: the time from the
  ``events.insert`` call to the host's unlinked appointment existing. The path is the real one:
  the emulator POSTs to ``calsync.web`` on uvicorn, the receiver debounces (default 1 s) and
  wakes the ``SyncProcessor``, which lists incrementally through google-api-python-client.
  Target: p95 under 3 s with the default debounce.
* **Quiet-day cost.** Calendar API calls per user per day with nothing changing: 5-minute
  polling lists 288 times; push keeps an hourly safety-net poll plus channel renewals. The
  per-poll and per-renewal call counts are measured; the day is computed from the schedule
  (printed with its arithmetic). Target: 30 or fewer with push.

Run: ``python benchmarks/push_latency.py [--users 20] [--edits 100] [--spread 20]``.
Measured here, never asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

# the end-to-end harness the tests use: emulator, calsync.web on uvicorn, processor
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from push_world import PushStudio, wait_until

from calsync.testing.emulator import GoogleEmulator

POLL_INTERVAL = 300.0  # seconds: the processor's default
SAFETY_INTERVAL = 3600.0
TTL, RENEW_BEFORE = timedelta(days=7), timedelta(days=1)
DAY = 86400.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Arrivals:
    """Watches the host for the edits' titles and records when each appeared."""

    def __init__(self, studio: PushStudio) -> None:
        self.studio = studio
        self.expected: dict[str, str] = {}  # title -> user
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def expect(self, title: str, user: str) -> None:
        with self.lock:
            self.expected[title] = user

    def _watch(self) -> None:
        while not self.done.is_set():
            with self.lock:
                waiting = {t: u for t, u in self.expected.items() if t not in self.seen}
            for user in set(waiting.values()):
                titles = self.studio.host_titles(user)
                now = time.monotonic()
                for title in [t for t, u in waiting.items() if u == user and t in titles]:
                    self.seen[title] = now
            time.sleep(0.005)


def measure_latency(google: GoogleEmulator, users: int, edits: int, spread: float) -> None:
    studio = PushStudio(
        google,
        users,
        debounce=1.0,
        interval=POLL_INTERVAL,
        safety_interval=SAFETY_INTERVAL,
        ttl=TTL,
        renew_before=RENEW_BEFORE,
    )
    names = sorted(studio.tokens)
    with studio.running():
        setup = wait_until(lambda: all(studio.healthy(u) for u in names), timeout=60)
        print(f"{users} users: channels open and confirmed after {setup:.1f}s")
        runs_before = len(studio.runs)
        arrivals = Arrivals(studio)
        started: dict[str, float] = {}
        rng = random.Random(7)
        gap = spread / edits
        for n in range(edits):
            user, title = rng.choice(names), f"Edit {n}"
            arrivals.expect(title, user)
            started[title] = time.monotonic()
            studio.edit_in_google(title, user)
            time.sleep(max(0.0, gap * rng.uniform(0.2, 1.8)))
        wait_until(lambda: len(arrivals.seen) == edits, timeout=30)
        arrivals.done.set()
        syncs = len(studio.runs) - runs_before
    latencies = [arrivals.seen[t] - started[t] for t in started]
    delivered = [d for d in google.push.deliveries() if d.state == "exists"]
    print(
        f"{edits} edits over {spread:.0f}s: latency p50 {statistics.median(latencies):.2f}s, "
        f"p95 {_percentile(latencies, 0.95):.2f}s, max {max(latencies):.2f}s "
        f"(debounce 1.0s; target p95 < 3s)"
    )
    print(
        f"  {len(delivered)} exists notifications delivered, {syncs} syncs run "
        f"(bursts per user coalesced), 0 polls (the next poll was {POLL_INTERVAL:.0f}s away)"
    )


def measure_quiet_day(google: GoogleEmulator) -> None:
    google.reset()
    studio = PushStudio(
        google,
        1,
        interval=POLL_INTERVAL,
        safety_interval=SAFETY_INTERVAL,
        ttl=TTL,
        renew_before=RENEW_BEFORE,
    )
    with studio.running():
        wait_until(studio.healthy)
        time.sleep(0.2)
        profile = studio.profile()
        google.reset_stats()
        studio.processor.run_profile(profile)  # a quiet poll
        poll = google.stats()["api_calls"]
        google.reset_stats()
        six_and_a_half_days_on = studio.push.clock() + timedelta(days=6.5)
        studio.push.clock = lambda: six_and_a_half_days_on  # past the renewal point
        studio.processor.run_profile(profile)  # renewal: watch, stop, + a poll
        renewal = google.stats()["api_calls"] - poll
        methods = google.stats()["methods"]
    polls_polling = DAY / POLL_INTERVAL
    polls_push = DAY / SAFETY_INTERVAL
    renewals = DAY / (TTL - RENEW_BEFORE).total_seconds()
    polling = polls_polling * poll
    push = polls_push * poll + renewals * (renewal + poll)
    print("quiet day, Calendar API calls per user:")
    print(f"  a quiet poll costs {poll} call(s); a renewal {renewal} more")
    print(f"  (the renewal run made: {_names(methods)})")
    minutes = POLL_INTERVAL / 60
    print(f"  polling every {minutes:.0f} min: {polls_polling:.0f} x {poll} = {polling:.0f}")
    print(
        f"  push: {polls_push:.0f} safety-net polls x {poll} + renewals every "
        f"{(TTL - RENEW_BEFORE).days} days ({renewals:.3f}/day) x ({renewal} + a poll's {poll}) "
        f"= {push:.2f} (target <= 30)"
    )


def _names(methods: dict[str, int]) -> str:
    return ", ".join(f"{n} x{c}" for n, c in sorted(methods.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds the edits span")
    args = parser.parse_args()
    with GoogleEmulator() as google:
        measure_latency(google, args.users, args.edits, args.spread)
        measure_quiet_day(google)


if __name__ == "__main__":
    main()

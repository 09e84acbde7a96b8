"""Planner cost: CPU time and peak memory for 1k / 10k / 100k mapped items.

Two shapes of run, each with 0 and 100 changed items:

* **full listing** — the host has no change feed, so every host item is in the snapshot and
  the planner skips unchanged pairs by revision and etag;
* **change feed** — the host reports only what changed, so the snapshot holds the changes.

Prints numbers; asserts nothing. Run: ``python benchmarks/engine_plan.py [sizes...]``.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from calsync.engine import HostRecord, PlanRules, RemoteRecord, Snapshot, plan
from calsync.engine.fields import encode_base
from calsync.ids import event_id_for
from calsync.model import Channel, EventFields, Marker, RecordKind, Timed
from calsync.policies import DeletionRules, FieldRules, host_wins
from calsync.state.base import MappingRow

NS = "bench.user"
T0 = datetime(2027, 1, 1, tzinfo=UTC)


def item_fields(i: int, *, edited: bool = False) -> EventFields:
    start = T0 + timedelta(hours=i)
    title = f"Session {i}" + (" (moved)" if edited else "")
    return EventFields(
        title,
        f"Client {i}\nPhone: 555-{i:04d}",
        "Studio A",
        Timed(start, start + timedelta(hours=1), "Europe/London"),
    )


def build(n: int, changes: int, feed: bool) -> tuple[Snapshot, dict[str, MappingRow]]:
    mapping: dict[str, MappingRow] = {}
    host: dict[str, HostRecord] = {}
    remote: dict[str, RemoteRecord] = {}
    for i in range(n):
        host_id = f"s{i}"
        base = item_fields(i)
        remote_id = event_id_for(NS, host_id)
        mapping[host_id] = MappingRow(
            NS,
            Channel.CALENDAR,
            host_id,
            remote_id,
            RecordKind.SESSION,
            encode_base(base),
            "1",
            '"1"',
            T0,
        )
        changed = i < changes
        if changed or not feed:
            view = item_fields(i, edited=changed)
            host[host_id] = HostRecord(host_id, RecordKind.SESSION, view, "2" if changed else "1")
        if changed:  # the remote side saw an etag-only bump for the same items
            remote[remote_id] = RemoteRecord(remote_id, '"2"', base, Marker(NS, host_id))
    return Snapshot(host=host, remote=remote), mapping


def measure(n: int, changes: int, feed: bool) -> tuple[float, float, int]:
    snapshot, mapping = build(n, changes, feed)
    rules = PlanRules(
        channel=Channel.CALENDAR,
        fields_cls=EventFields,
        namespace=NS,
        inbound=True,
        field_rules=FieldRules(),
        conflict_policy=host_wins,
        deletion_rules=DeletionRules(),
        remote_id_for=lambda host_id: event_id_for(NS, host_id),
    )
    gc.collect()
    tracemalloc.start()
    cpu = time.process_time()
    result = plan(snapshot, mapping, rules)
    cpu = time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the inputs themselves (what the snapshot phase holds in memory)
    tracemalloc.start()
    again = build(n, changes, feed)
    inputs, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del again
    return cpu, (peak + inputs) / 2**20, len(result.actions)


def main(sizes: list[int]) -> None:
    header = ("items", "changes", "host side", "plan CPU s", "peak MB", "actions")
    print("{:>8} {:>8} {:>12} {:>11} {:>9} {:>8}".format(*header))
    for n in sizes:
        for changes in (0, 100):
            for feed in (False, True):
                cpu, peak, actions = measure(n, min(changes, n), feed)
                shape = "change feed" if feed else "full listing"
                print(f"{n:>8} {changes:>8} {shape:>12} {cpu:>11.3f} {peak:>9.1f} {actions:>8}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])

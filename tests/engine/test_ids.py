"""Deterministic event ids never change: an id computed today must be the id of every earlier
create (a changed id would duplicate every event after an upgrade)."""

from __future__ import annotations

import base64
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from calsync.ids import event_id_for, is_event_id


def reference_id(namespace: str, host_id: str) -> str:
    """The id as calsync has always derived it: base32hex of the SHA-256, unpadded, lower."""
    digest = hashlib.sha256(f"calsync\0{namespace}\0{host_id}".encode()).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def test_event_ids_are_the_unpadded_lower_base32hex_of_the_sha256_of_the_item() -> None:
    for namespace in ("studio.u1", "bench.u1", "", "ünïcode"):
        for number in range(2_000):
            host_id = f"s{number}" if number % 3 else f"item/{number}\0x"
            assert reference_id(namespace, host_id) == event_id_for(namespace, host_id)


@given(st.text(), st.text())
def test_any_namespace_and_host_id_give_the_reference_id(namespace: str, host_id: str) -> None:
    assert event_id_for(namespace, host_id) == reference_id(namespace, host_id)


def test_an_event_id_is_52_characters_google_accepts_as_a_client_id() -> None:
    event_id = event_id_for("studio.u1", "s1")
    assert (len(event_id), is_event_id(event_id)) == (52, True)

"""The value objects calsync keeps one of per item (per event, per contact, per mapping row)
carry no ``__weakref__`` slot: eight bytes each, which pymalloc rounds to sixteen for most of
them, on every item a 100k-item state or in-memory Google holds. Nothing in calsync takes a
weak reference to them (the engine's actions and records, which a test watches being let go
batch by batch, keep theirs)."""

from __future__ import annotations

import attrs
import pytest

from calsync import model, sources
from calsync.backends import (
    CreateEvent,
    DeleteEvent,
    RemoteContact,
    RemoteEvent,
    UpdateEvent,
    WriteResult,
)
from calsync.engine.actions import CreateRemote
from calsync.engine.records import HostRecord
from calsync.google import wire
from calsync.state.rows import MappingRow, PendingCreate

PER_ITEM = [
    model.AllDay,
    model.Timed,
    model.ClientInfo,
    model.ScheduleItem,
    model.EventFields,
    model.Phone,
    model.Email,
    model.PostalAddress,
    model.ContactFields,
    model.Contact,
    model.Marker,
    MappingRow,
    PendingCreate,
    RemoteEvent,
    CreateEvent,
    UpdateEvent,
    DeleteEvent,
    WriteResult,
    RemoteContact,
    sources.Unreadable,
    *[value for value in vars(wire).values() if attrs.has(value)],
]


@pytest.mark.parametrize("cls", PER_ITEM, ids=lambda cls: cls.__qualname__)
def test_a_per_item_value_object_has_no_weak_reference_slot(cls: type) -> None:
    assert cls.__weakrefoffset__ == 0


@pytest.mark.parametrize("cls", [CreateRemote, HostRecord], ids=lambda cls: cls.__qualname__)
def test_the_engines_actions_and_records_can_still_be_watched_being_let_go(cls: type) -> None:
    assert cls.__weakrefoffset__ != 0

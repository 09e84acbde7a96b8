"""The rows of a run with a full host listing, read as they are used (``LazyHeads``): the
revisions answer what a quiet run asks, a row asked for is read whole, and going through all of
them reads every head once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from read_log import ReadLog

from calsync.engine.context import LazyHeads, MappingLoader
from calsync.model import Channel
from calsync.state import MappingRow, StoredHead
from calsync.testing.contracts.state_support import make_mapping_row

CAL = Channel.CALENDAR


@pytest.fixture
def store() -> ReadLog:
    store = ReadLog()
    store.put_mappings([make_mapping_row(f"h{n}", host_revision=f"v{n}") for n in range(5)])
    store.forget_reads()
    return store


def lazy(store: ReadLog) -> LazyHeads:
    loader = MappingLoader(store, "alice", CAL, empty=False)
    assert loader.revisions() == {f"h{n}": f"v{n}" for n in range(5)}
    heads = loader.all()
    assert isinstance(heads, LazyHeads)
    return heads


def test_its_keys_size_and_members_are_the_revisions_with_no_other_read(
    store: ReadLog,
) -> None:
    heads = lazy(store)

    assert (len(heads), sorted(heads), "h3" in heads, "h9" in heads) == (
        5,
        [f"h{n}" for n in range(5)],
        True,
        False,
    )
    assert store.reads == ["revisions"]


def test_a_row_asked_for_is_read_whole_once_and_an_unmapped_id_reads_nothing(
    store: ReadLog,
) -> None:
    heads = lazy(store)

    row = heads.get("h2")
    again = heads["h2"]
    missing = heads.get("h9")

    assert isinstance(row, MappingRow)
    assert again is row
    assert missing is None
    with pytest.raises(KeyError):
        heads["h9"]
    assert store.reads == ["revisions", "rows of ['h2'] []"]


def test_the_rows_a_run_acts_on_are_read_in_one_read_less_those_read_whole_already(
    store: ReadLog,
) -> None:
    heads = lazy(store)
    heads.get("h1")

    heads.fetch(["h1", "h2", "h3", "h9"], ["r-h1", "r-h4"])
    heads.fetch(["h2"], ["r-h4"])

    assert store.reads == ["revisions", "rows of ['h1'] []", "rows of ['h2', 'h3'] ['r-h4']"]
    assert all(isinstance(heads[h], MappingRow) for h in ("h1", "h2", "h3", "h4"))


def test_going_through_every_row_reads_every_head_once_and_keeps_the_whole_rows(
    store: ReadLog,
) -> None:
    heads = lazy(store)
    whole = heads["h0"]

    rows = dict(heads.items())
    values = list(heads.values())

    assert store.reads == ["revisions", "rows of ['h0'] []", "heads"]
    assert rows["h0"] is whole
    assert isinstance(rows["h1"], StoredHead)
    assert len(values) == len(heads) == 5
    assert "h4" in heads
    heads.fetch(["h1"])  # a head read whole when the run acts on its pair
    assert isinstance(heads["h1"], MappingRow)


def test_a_new_key_reads_every_head_first_so_the_keys_stay_whole(store: ReadLog) -> None:
    heads = lazy(store)

    heads["h7"] = make_mapping_row("h7")

    assert store.reads == ["revisions", "heads"]
    assert sorted(heads) == [*(f"h{n}" for n in range(5)), "h7"]
    del heads["h7"]
    assert len(heads) == 5


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("get"), st.integers(0, 7)),
        st.tuples(st.just("contains"), st.integers(0, 7)),
        st.tuples(st.just("fetch"), st.lists(st.integers(0, 7), max_size=4)),
        st.tuples(st.just("fetch_remote"), st.lists(st.integers(0, 7), max_size=4)),
        st.tuples(st.just("values"), st.just(0)),
        st.tuples(st.just("put"), st.integers(0, 7)),
        st.tuples(st.just("delete"), st.integers(0, 4)),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(rows=st.integers(0, 5), operations=OPERATIONS)
def test_whatever_it_is_asked_it_answers_as_the_rows_themselves_would(
    rows: int, operations: list[tuple[str, Any]]
) -> None:
    """Model: the rows as a plain dict. ``h0``..``h4`` may exist; ``h5``..``h7`` never do
    until put."""
    store = ReadLog()
    store.put_mappings([make_mapping_row(f"h{n}", host_revision=f"v{n}") for n in range(rows)])
    model: dict[str, MappingRow] = store.mappings("alice", CAL)
    heads = lazy_of(store)

    for operation, argument in operations:
        if operation == "get":
            host_id = f"h{argument}"
            found, expected = heads.get(host_id), model.get(host_id)
            assert (found is None) == (expected is None)
            if found is not None and expected is not None:
                assert (found.remote_id, found.host_revision) == (
                    expected.remote_id,
                    expected.host_revision,
                )
        elif operation == "contains":
            assert (f"h{argument}" in heads) == (f"h{argument}" in model)
        elif operation == "fetch":
            heads.fetch([f"h{n}" for n in argument])
        elif operation == "fetch_remote":
            heads.fetch([], [f"r-h{n}" for n in argument])
        elif operation == "values":
            assert sorted(h.host_id for h in heads.values()) == sorted(model)
        elif operation == "put":
            row = make_mapping_row(f"h{argument}", host_revision="new")
            heads[row.host_id] = model[row.host_id] = row
        elif f"h{argument}" in model:
            del heads[f"h{argument}"], model[f"h{argument}"]
        assert len(heads) == len(model)
        assert sorted(heads) == sorted(model)


def lazy_of(store: ReadLog) -> LazyHeads:
    loader = MappingLoader(store, "alice", CAL, empty=False)
    loader.revisions()
    heads = loader.all()
    assert isinstance(heads, LazyHeads)
    return heads

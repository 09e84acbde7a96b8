"""A title template drops only its own separators, and only those an empty field left
dangling ("Wedding - " is "Wedding"): the text of a title or a client's name reaches Google as
the studio typed it, dashes and colons at either end included."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from studio_world import USER, World, appointment, session

from calsync import ClientInfo, ItemTemplate, TemplateSet
from calsync.model import EventFields, ItemKind, ScheduleItem

MARKS = "-:\N{EN DASH}"


@pytest.mark.parametrize(
    "title",
    [
        "-5°C outdoor shoot",
        "Follow-up:",
        "--",
        "\N{EN DASH} keep free \N{EN DASH}",
        "Re: invoice -",
    ],
)
def test_an_appointments_own_title_reaches_google_as_typed(world: World, title: str) -> None:
    world.schedule.add(USER, appointment("a1", title))

    world.sync()

    [event] = world.events().values()
    assert event.fields is not None
    assert event.fields.title == title


def test_a_session_title_keeps_the_end_of_the_clients_name(world: World) -> None:
    client = ClientInfo("c9", "Studio-")
    world.schedule.add(USER, session("s1", client=client, session_type="Portrait"))

    world.sync()

    [event] = world.events().values()
    assert event.fields is not None
    assert event.fields.title == "Portrait - Studio-"


def rendered_title(
    template: str, session_type: str = "", client_name: str = "", status: str = ""
) -> str:
    templates = TemplateSet(session=ItemTemplate(title=template))
    client = ClientInfo("c1", client_name)
    item = session("s1", client=client, session_type=session_type, status=status)
    return templates.render(item).title


@pytest.mark.parametrize(
    ("session_type", "client_name", "expected"),
    [
        ("Wedding", "Ann Smith", "Wedding - Ann Smith"),
        ("Wedding", "", "Wedding"),
        ("", "Ann Smith", "Ann Smith"),
        ("", "", ""),
        ("  ", " ", ""),
    ],
)
def test_the_stock_session_title_drops_the_separator_an_empty_field_leaves(
    session_type: str, client_name: str, expected: str
) -> None:
    got = rendered_title(
        "{session_type} - {client.name}", session_type=session_type, client_name=client_name
    )

    assert got == expected


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("Session: {client.name}", {}, "Session"),
        ("{client.name} - Portrait", {}, "Portrait"),
        ("{session_type} - {client.name} - {status}", {"status": "Booked"}, "Booked"),
        (
            "{session_type} - {client.name} - {status}",
            {"session_type": "Wedding", "status": "Booked"},
            "Wedding - Booked",
        ),
        (
            "{session_type} {client.name}: {status}",
            {"session_type": "Wedding", "status": "Booked"},
            "Wedding: Booked",
        ),
        ("- {session_type} -", {"session_type": "Wedding"}, "- Wedding -"),
    ],
)
def test_a_custom_title_drops_only_its_own_separators_next_to_an_empty_field(
    template: str, values: dict[str, str], expected: str
) -> None:
    assert rendered_title(template, **values) == expected


def old_stock_title(session_type: str, client_name: str) -> str:
    """The stock session title as calsync rendered it before titles kept their own marks."""
    return f"{session_type} - {client_name}".strip().strip(MARKS).strip()


own_text = st.text(
    st.sampled_from(f"Ab {MARKS}\t\n\r") | st.characters(codec="utf-8", exclude_categories=["Cs"]),
    max_size=12,
)


@given(session_type=own_text, client_name=own_text)
def test_the_stock_session_title_is_unchanged_where_no_value_ends_in_a_mark(
    session_type: str, client_name: str
) -> None:
    """Stock titles of values that neither begin nor end with a dash or colon render as they
    always did, so an upgrade rewrites no event."""
    for value in (session_type.strip(), client_name.strip()):
        assume(not value or (value[0] not in MARKS and value[-1] not in MARKS))
    item = ScheduleItem(
        "s1",
        ItemKind.SESSION,
        session("x").when,
        client=ClientInfo("c1", client_name),
        session_type=session_type,
    )

    got = TemplateSet().render(item).title

    assert got == EventFields(title=old_stock_title(session_type, client_name)).title


title_pieces = st.lists(
    st.sampled_from(["{session_type}", "{client.name}", "{status}", " - ", ": ", "-", " ", "x"]),
    max_size=7,
)
field_values = st.fixed_dictionaries(
    {name: st.sampled_from(["", " ", "Ann", "-x-"]) for name in ("session_type", "status")}
    | {"client_name": st.sampled_from(["", "Bo", ": "])}
)


@given(pieces=title_pieces, items=st.lists(field_values, min_size=1, max_size=8))
def test_one_title_template_renders_every_item_as_a_template_new_to_it_would(
    pieces: list[str], items: list[dict[str, str]]
) -> None:
    """A template works out which separators go once per set of empty fields and reuses it:
    the items it renders in any order come out as each would alone."""
    template = "".join(pieces)
    shared = TemplateSet(session=ItemTemplate(title=template))
    for values in items:
        item = session(
            "s1",
            client=ClientInfo("c1", values["client_name"]),
            session_type=values["session_type"],
            status=values["status"],
        )

        assert shared.render(item).title == rendered_title(template, **values)

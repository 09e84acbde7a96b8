"""The template allow-list is a security promise: templates reach only allow-listed fields,
and client data a template does not name never reaches Google."""

from __future__ import annotations

import pytest
from studio_world import USER, World, session

from calsync import ClientInfo, ItemTemplate, Template, TemplateError, TemplateSet
from calsync.templates import ALLOWED_FIELDS

SECRET = ClientInfo("client-4711", "Ann Smith", phone="+44 20 7946 0999", email="ann@private.ex")


@pytest.mark.parametrize(
    "source",
    [
        "{client.id}",
        "{client.__class__}",
        "{title.__class__.__mro__}",
        "{client[name]}",
        "{0}",
        "{}",
        "{password}",
        "{title!r}",
        "{title:>400}",
        "Call {client.phone",
    ],
)
def test_a_template_naming_anything_outside_the_allow_list_is_refused_when_built(
    source: str,
) -> None:
    with pytest.raises(TemplateError) as refused:
        Template(source)

    assert repr(source) in str(refused.value)


def test_the_refusal_says_which_names_are_allowed() -> None:
    with pytest.raises(TemplateError, match=r"allowed: client\.email, client\.name"):
        ItemTemplate(title="{client.id}")


def test_every_allow_listed_name_is_accepted() -> None:
    template = Template(" ".join(f"{{{name}}}" for name in ALLOWED_FIELDS))

    assert template.names == frozenset(ALLOWED_FIELDS)


def test_client_details_a_template_does_not_name_never_reach_google(world: World) -> None:
    private = TemplateSet(session=ItemTemplate(title="{session_type}", description="{description}"))
    world.options(templates=private)
    world.schedule.add(USER, session("s1", client=SECRET, description="Bring the rings"))

    world.sync()

    [event] = world.events().values()
    shown = repr(event.fields)
    for detail in (SECRET.id, SECRET.name, SECRET.phone, SECRET.email):
        assert detail not in shown
    assert event.fields is not None
    assert (event.fields.title, event.fields.description) == ("Wedding", "Bring the rings")


def test_the_stock_session_template_shows_name_and_phone_but_never_email_or_id(
    world: World,
) -> None:
    world.schedule.add(USER, session("s1", client=SECRET))

    world.sync()

    [event] = world.events().values()
    shown = repr(event.fields)
    assert SECRET.name in shown
    assert SECRET.phone in shown
    assert SECRET.email not in shown
    assert SECRET.id not in shown

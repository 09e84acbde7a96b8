"""Description templates: what Google shows for each kind of host item.

Templates are data, not code. They use ``{name}`` placeholders, and a name must be one of
:data:`ALLOWED_FIELDS`; anything else — attribute access, indexing, conversions, format specs,
unknown names — is a :class:`~calsync.errors.TemplateError` when the template is *built*, never
in the middle of a sync. Literal braces are written ``{{`` and ``}}``.

The stock session template puts the client's name and phone number in the description so staff
can call a client from their phone.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from attrs import field, frozen

from calsync.errors import TemplateError
from calsync.model import EventFields, ItemKind, ScheduleItem

__all__ = [
    "ALLOWED_FIELDS",
    "DEFAULT_TEMPLATES",
    "ItemTemplate",
    "Template",
    "TemplateSet",
]

#: Every name a template may use, with what it shows.
ALLOWED_FIELDS: Mapping[str, str] = {
    "title": "the item's own title",
    "description": "the item's own notes",
    "location": "the item's location",
    "kind": "session / appointment / unlinked appointment",
    "session_type": "the session's type, e.g. Wedding",
    "status": "the booking status",
    "client.name": "the linked client's name",
    "client.phone": "the linked client's phone number",
    "client.email": "the linked client's email address",
}

_KIND_LABELS = {
    ItemKind.SESSION: "session",
    ItemKind.APPOINTMENT: "appointment",
    ItemKind.UNLINKED: "unlinked appointment",
}


def _parse(source: str) -> tuple[tuple[str, str | None], ...]:
    try:
        parts = list(string.Formatter().parse(source))
    except ValueError as exc:
        raise TemplateError(f"malformed template {source!r}: {exc}") from exc
    pieces: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parts:
        if name is not None:
            if name not in ALLOWED_FIELDS:
                allowed = ", ".join(sorted(ALLOWED_FIELDS))
                raise TemplateError(
                    f"template {source!r} names {{{name}}}, which is not allowed; "
                    f"allowed: {allowed}"
                )
            if spec or conversion:
                raise TemplateError(f"template {source!r}: {{{name}}} may not carry a format")
        pieces.append((literal, name))
    return tuple(pieces)


@frozen
class Template:
    """One validated template string. Build it with ``Template("...")``."""

    source: str
    _pieces: tuple[tuple[str, str | None], ...] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_pieces", _parse(self.source))

    @property
    def names(self) -> frozenset[str]:
        """The field names the template uses."""
        return frozenset(name for _, name in self._pieces if name is not None)

    def render(self, values: Mapping[str, str]) -> str:
        """Render with ``values`` (missing names render empty)."""
        return "".join(
            [literal + (values.get(name, "") if name else "") for literal, name in self._pieces]
        )


def _template(value: str | Template) -> Template:
    return value if isinstance(value, Template) else Template(value)


@frozen
class ItemTemplate:
    """The three templates for one kind of item."""

    title: Template = field(converter=_template)
    description: Template = field(default=Template("{description}"), converter=_template)
    location: Template = field(default=Template("{location}"), converter=_template)


def template_values(item: ScheduleItem) -> dict[str, str]:
    """The allow-listed values of ``item``, by template name."""
    client = item.client
    return {
        "title": item.title,
        "description": item.description,
        "location": item.location,
        "kind": _KIND_LABELS[item.kind],
        "session_type": item.session_type,
        "status": item.status,
        "client.name": client.name if client else "",
        "client.phone": client.phone if client else "",
        "client.email": client.email if client else "",
    }


def _collapse_separators(title: str) -> str:
    """Drop a dangling " - " left by an empty field, e.g. "Wedding - " → "Wedding"."""
    return title.strip().strip("-:\N{EN DASH}").strip()


@frozen
class TemplateSet:
    """Templates per item kind. Unlinked appointments are never templated: they are two-way."""

    session: ItemTemplate = ItemTemplate(
        title="{session_type} - {client.name}",
        description="Client: {client.name}\nPhone: {client.phone}\n\n{description}",
    )
    appointment: ItemTemplate = ItemTemplate(title="{title}")

    def render(self, item: ScheduleItem) -> EventFields:
        """What Google should show for ``item``."""
        if item.kind is ItemKind.UNLINKED:
            return EventFields(item.title, item.description, item.location, item.when)
        template = self.session if item.kind is ItemKind.SESSION else self.appointment
        values = template_values(item)
        return EventFields(
            title=_collapse_separators(template.title.render(values)),
            description=template.description.render(values),
            location=template.location.render(values),
            when=item.when,
        )

    def digest(self) -> str:
        """A stable text that changes whenever any template changes."""
        parts = (
            self.session.title,
            self.session.description,
            self.session.location,
            self.appointment.title,
            self.appointment.description,
            self.appointment.location,
        )
        return "\x1f".join(t.source for t in parts)


DEFAULT_TEMPLATES = TemplateSet()

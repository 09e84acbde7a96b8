"""Description templates: what Google shows for each kind of host item.

Templates are data, not code. They use ``{name}`` placeholders, and a name must be one of
:data:`ALLOWED_FIELDS`; anything else — attribute access, indexing, conversions, format specs,
unknown names — is a :class:`~calsync.errors.TemplateError` when the template is *built*, never
in the middle of a sync. Literal braces are written ``{{`` and ``}}``.

The stock session template puts the client's name and phone number in the description so staff
can call a client from their phone.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from attrs import define, field, frozen

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
    #: as a title: what it renders to for each set of its fields that are empty (see
    #: :func:`_title`), worked out the first time that set is met
    _title_plans: dict[tuple[bool, ...], _Plan] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_pieces", _parse(self.source))
        object.__setattr__(self, "_title_plans", {})

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


#: A title literal's separators: blanks, dashes and colons at either end ("Wedding - Ann").
_SEPARATORS = re.compile(r"^([\s\-:\N{EN DASH}]*)(.*?)([\s\-:\N{EN DASH}]*)$", re.DOTALL)


@define
class _Part:
    """A piece of a rendered title: a field's value (``name``), a literal's words, or a
    separator of the template's, which may stand next to a field that rendered empty."""

    text: str
    separator: bool = False
    by_empty: bool = False
    name: str | None = None


#: a title as it renders for one set of empty fields: (text, ``None``) for a literal's text
#: and ("", name) for the value of each field that is not empty
_Plan = tuple[tuple[str, str | None], ...]


def _title(template: Template, values: Mapping[str, str]) -> str:
    """``template`` rendered with ``values``, less the separators an empty field left
    dangling: ``"{session_type} - {client.name}"`` is ``"Wedding"`` without a client name and
    ``"Ann"`` without a session type. Only the template's own separators go; a value is never
    trimmed ("Follow-up:" stays as typed). Which separators go depends only on which fields
    are empty: that is worked out once per template and set of empty fields
    (:func:`_title_plan`), not once per item."""
    filled = tuple([bool(values.get(name, "").strip()) for _, name in template._pieces if name])
    if all(filled):
        return template.render(values)  # no field is empty: nothing dangles
    plan = template._title_plans.get(filled)
    if plan is None:
        plan = template._title_plans[filled] = _title_plan(template, filled)
    return "".join([values[name] if name else text for text, name in plan])


def _title_plan(template: Template, filled: tuple[bool, ...]) -> _Plan:
    """The pieces ``template`` renders to when its fields (in order) are ``filled`` or empty:
    its literals' words, the separators kept, and the filled fields' values."""
    parts: list[_Part] = []
    after_empty = False
    fields = iter(filled)
    for literal, name in template._pieces:
        parts += _literal_parts(literal, after_empty)
        after_empty = False
        if name is None:
            continue
        if next(fields):
            parts.append(_Part("", name=name))
            continue
        if parts and parts[-1].separator:
            parts[-1].by_empty = True
        after_empty = True
    return tuple([(p.text, p.name) for p in _joined(parts)])


def _literal_parts(literal: str, after_empty: bool) -> list[_Part]:
    """A literal as its leading separator, its words and its trailing separator."""
    found = _SEPARATORS.match(literal)
    assert found is not None  # every text matches
    lead, words, trail = found.groups()
    if not words:
        return [_Part(literal, True, after_empty)] if literal else []
    parts = [_Part(lead, True, after_empty)] if lead else []
    parts.append(_Part(words))
    return parts + ([_Part(trail, True)] if trail else [])


def _joined(parts: list[_Part]) -> list[_Part]:
    """``parts`` with the separators an empty field left at either end dropped, and one
    separator kept between two pieces of text (the one with a mark, the later of equals)."""
    kept: list[_Part] = []
    run: list[_Part] = []
    for part in parts:
        if part.separator:
            run.append(part)
            continue
        if run and kept:
            kept.append(max(reversed(run), key=lambda p: bool(p.text.strip())))
        elif run:
            kept += [p for p in run if not p.by_empty]
        kept.append(part)
        run = []
    return kept + [p for p in run if not p.by_empty]


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
            title=_title(template.title, values),
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

"""The ``fields`` partial-response selector (``items(id,etag),nextPageToken``)."""

from __future__ import annotations

import logging
import re
from typing import Any

from calsync.testing.emulator.errors import Api, invalid_parameter

logger = logging.getLogger(__name__)

#: A parsed selection: field name -> nested selection, or None for the whole value.
Selection = dict[str, "Selection | None"]

_TOKEN = re.compile(r"\s*([A-Za-z0-9_*@.$-]+|[(),/])")


def parse_fields(api: Api, text: str) -> Selection:
    """Parse a ``fields`` value; a malformed selector raises a 400 ``ApiError``."""
    tokens = _tokenize(api, text)
    selection, position = _selection(api, text, tokens, 0)
    if position != len(tokens):
        raise invalid_parameter(api, "fields", text, "Invalid field selection.")
    return selection


def _tokenize(api: Api, text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        found = _TOKEN.match(text, position)
        if not found:
            raise invalid_parameter(api, "fields", text, "Invalid field selection.")
        tokens.append(found.group(1))
        position = found.end()
    return tokens


def _selection(api: Api, text: str, tokens: list[str], pos: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while True:
        pos = _item(api, text, tokens, pos, selection)
        if pos < len(tokens) and tokens[pos] == ",":
            pos += 1
            continue
        return selection, pos


def _item(api: Api, text: str, tokens: list[str], pos: int, into: Selection) -> int:
    path: list[str] = []
    while True:
        if pos >= len(tokens) or tokens[pos] in "(),/":
            raise invalid_parameter(api, "fields", text, "Invalid field selection.")
        path.append(tokens[pos])
        pos += 1
        if pos < len(tokens) and tokens[pos] == "/":
            pos += 1
            continue
        break
    nested: Selection | None = None
    if pos < len(tokens) and tokens[pos] == "(":
        nested, pos = _selection(api, text, tokens, pos + 1)
        if pos >= len(tokens) or tokens[pos] != ")":
            raise invalid_parameter(api, "fields", text, "Invalid field selection.")
        pos += 1
    _merge_path(into, path, nested)
    return pos


def _merge_path(into: Selection, path: list[str], nested: Selection | None) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        existing = into.get(head, {})
        if nested is None or existing is None:
            into[head] = None
        else:
            into[head] = {**existing, **nested}
        return
    child = into.get(head)
    if head in into and child is None:
        return
    if child is None:
        child = {}
        into[head] = child
    _merge_path(child, rest, nested)


def apply_fields(value: Any, selection: Selection | None) -> Any:
    """Keep only the selected parts of a JSON value."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [apply_fields(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return {key: apply_fields(item, selection["*"]) for key, item in value.items()}
    return {
        key: apply_fields(value[key], nested) for key, nested in selection.items() if key in value
    }

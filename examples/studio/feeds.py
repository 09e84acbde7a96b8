"""The text of a change cursor over one of the studio's change logs (see
:mod:`studio.database`): the position of a change and its stamp, ``"1234.9f3a01bc"``. A
cursor of the schedule handed out by schema 3 is the position alone (``"1234"``)."""

from __future__ import annotations

__all__ = ["cursor_text", "read_cursor"]


def cursor_text(position: int, stamp: str) -> str:
    """The cursor at ``position``, whose change is stamped ``stamp`` (``""``: none to name)."""
    return f"{position}.{stamp}" if stamp else str(position)


def read_cursor(cursor: str) -> tuple[int, str]:
    """The position and stamp a cursor names.

    Raises:
        LookupError: not a studio change cursor.
    """
    seq, _, stamp = cursor.partition(".")
    if not seq.isdigit():
        raise LookupError(f"not a studio change position: {cursor!r}")
    return int(seq), stamp

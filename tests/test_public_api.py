"""The public API is what ``calsync.__all__`` says, and every name in it exists."""

from __future__ import annotations

import calsync


def test_every_exported_name_exists_and_is_listed_once() -> None:
    assert len(calsync.__all__) == len(set(calsync.__all__))
    missing = [name for name in calsync.__all__ if not hasattr(calsync, name)]
    assert missing == []


def test_public_classes_and_functions_are_exported() -> None:
    public = {
        name
        for name, value in vars(calsync).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", "").startswith("calsync")
    }
    assert public <= set(calsync.__all__)

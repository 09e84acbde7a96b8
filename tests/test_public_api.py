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


def test_every_exported_error_is_used_by_calsync_itself() -> None:
    """An error in the tree that nothing raises, maps to or catches misleads host developers."""
    from pathlib import Path

    import calsync.errors

    src = Path(calsync.errors.__file__).parent
    text = "\n".join(
        path.read_text()
        for path in src.rglob("*.py")
        if path.name != "__init__.py" and path != Path(calsync.errors.__file__)
    )

    def used(cls: type) -> bool:  # by name, or through a subclass that is (a base of a group)
        subclasses: list[type] = cls.__subclasses__()
        return cls.__name__ in text or any(used(sub) for sub in subclasses)

    unused = [name for name in calsync.errors.__all__ if not used(getattr(calsync.errors, name))]
    assert unused == []

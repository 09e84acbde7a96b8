"""The documentation stays true to the code."""

from __future__ import annotations

from pathlib import Path

from api_reference import DOC, render

ROOT = Path(__file__).resolve().parents[1]


def test_the_api_reference_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/api.md is out of date: run python tests/support/api_reference.py"
    )


def test_every_docs_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {page for page in pages if page not in nav} == set()

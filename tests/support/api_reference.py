"""Render docs/api.md from the public API's signatures and docstrings.

``python tests/support/api_reference.py`` rewrites the file; ``tests/test_docs.py`` fails when
it is out of date, so the reference can never drift from the code.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"

SECTIONS: list[tuple[str, str, list[str] | None]] = [
    ("Engine", "calsync.engine", ["SyncEngine", "SyncReport", "plan"]),
    ("Identities", "calsync.ids", None),
    ("Profiles and options", "calsync.profile", None),
    ("Model", "calsync.model", None),
    ("Policies", "calsync.policies", None),
    ("Templates", "calsync.templates", ["Template", "ItemTemplate", "TemplateSet"]),
    ("What a host implements", "calsync.host", None),
    ("Host adapters", "calsync.sources", None),
    ("Remote backends", "calsync.backends", None),
    ("State stores", "calsync.state", None),
    ("Sync processor", "calsync.processor", None),
    ("Push notifications", "calsync.push", None),
    ("Web application", "calsync.web", None),
    ("Notifications", "calsync.notify", None),
    ("Problem notices", "calsync.notices", None),
    ("Wording", "calsync.wording", None),
    ("Configuration", "calsync.config", None),
    ("Google", "calsync.google.account", None),
    ("Google authorisation", "calsync.google.auth", None),
    ("Google web authorisation", "calsync.google.web_auth", None),
    ("Token stores", "calsync.tokens", None),
    ("Testing", "calsync.testing", None),
    ("Errors", "calsync.errors", None),
]


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _signature(obj: object) -> str:
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    text = str(signature).replace("'", "")
    return text if len(text) < 160 else "(...)"


def render() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the code (`python tests/support/api_reference.py`); every entry's",
        "docstring has the details (`help(calsync.SyncEngine)`).",
        "",
    ]
    for title, module_name, names in SECTIONS:
        module = importlib.import_module(module_name)
        lines += [f"## {title}", "", f"`{module_name}`", ""]
        for name in names or sorted(getattr(module, "__all__", [])):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            kind = "class" if inspect.isclass(obj) else "def"
            lines.append(f"- **`{name}`** `{kind} {name}{_signature(obj)}`".replace("``", ""))
            summary = _summary(obj)
            if summary:
                lines.append(f"  {summary}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")

"""The import graph of calsync keeps its layers: no cycles, no upward or sideways edges."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: (importer prefix, imported prefix): an edge from the first to the second is forbidden.
FORBIDDEN = [
    ("calsync.engine", "calsync.google"),
    ("calsync.engine", "calsync.testing"),
    ("calsync.google", "calsync.engine"),
    ("calsync.model", "calsync.engine"),
    ("calsync.state", "calsync.engine"),
    ("calsync.model", "calsync.state"),
    ("calsync.ids", "calsync.engine"),
]

#: Imports from runtime code into calsync.testing that are allowed, and why.
ALLOWED_TESTING_IMPORTS = {
    # ``calsync emulator`` starts the emulator; imported inside that subcommand only.
    ("calsync.cli", "calsync.testing.emulator.__main__"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _in_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, *, top_level_only: bool) -> Iterator[str]:
    """The calsync modules ``path`` imports (names as written; submodules included)."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if _in_type_checking(node, parents):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("calsync"))
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.startswith("calsync")
        ):
            # ``from calsync.google import wire`` imports the submodule wire
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [name for name in submodules if _is_module(name)]
            yield from found or [node.module]


@functools.cache
def graph(*, top_level_only: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted((SRC / "calsync").rglob("*.py")):
        edges[module_name(path)] = set(imports_of(path, top_level_only=top_level_only))
    return edges


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_module_uses_relative_imports() -> None:
    relative = [
        module_name(path)
        for path in (SRC / "calsync").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_layers_never_import_against_the_flow(importer: str, imported: str) -> None:
    offending = sorted(
        (source, target)
        for source, targets in graph(top_level_only=False).items()
        for target in targets
        if _within(source, importer) and _within(target, imported)
    )
    assert offending == []


def test_runtime_code_never_imports_the_testing_package() -> None:
    offending = sorted(
        (source, target)
        for source, targets in graph(top_level_only=False).items()
        for target in targets
        if not _within(source, "calsync.testing")
        and _within(target, "calsync.testing")
        and (source, target) not in ALLOWED_TESTING_IMPORTS
    )
    assert offending == []


def test_module_imports_have_no_cycle() -> None:
    edges = graph(top_level_only=True)
    # an import of a package runs its __init__, and ``from pkg import sub`` names a submodule
    resolved = {
        source: {target for target in targets if target in edges and target != source}
        for source, targets in edges.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(resolved[node]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(resolved):
        if node not in state:
            visit(node)
    # a package importing its own submodules (its __init__ re-exporting them) is not a cycle
    real = [c for c in cycles if not all(_within(n, c[0]) or _within(c[0], n) for n in c)]
    assert real == []


def test_importing_the_command_line_does_not_load_the_emulator() -> None:
    import subprocess
    import sys

    code = (
        "import sys, calsync.cli; print(any(m.startswith('calsync.testing') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_in_memory_fakes_load_neither_the_emulator_nor_the_mail_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, calsync, calsync.testing; "
        "print(sorted(m for m in ('smtplib', 'ssl', 'http.server', 'calsync.testing.emulator') "
        "if m in sys.modules)); "
        "from calsync.testing import GoogleEmulator; print(GoogleEmulator.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["[]", "GoogleEmulator"]


#: Modules allowed to import the ``web`` extra (Starlette, uvicorn), and how.
WEB_EXTRA = ("starlette", "uvicorn")


def _third_party_imports(path: Path) -> tuple[set[str], set[str]]:
    """The top-level package names ``path`` imports: (anywhere, at import time)."""
    tree = ast.parse(path.read_text())
    anywhere: set[str] = set()
    at_import: set[str] = set()
    for node in ast.walk(tree):
        names: set[str] = set()
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {node.module.split(".")[0]}
        anywhere |= names
        if node in tree.body:
            at_import |= names
    return anywhere, at_import


def test_only_calsync_web_imports_the_web_extra_and_the_cli_only_lazily() -> None:
    everywhere, top_level = graph(top_level_only=False), graph(top_level_only=True)
    offending = []
    for path in sorted((SRC / "calsync").rglob("*.py")):
        name = module_name(path)
        anywhere, at_import = (found & set(WEB_EXTRA) for found in _third_party_imports(path))
        if name == "calsync.web":
            continue
        if name == "calsync.cli":
            if at_import or "calsync.web" in top_level[name]:
                offending.append(name)
        elif anywhere or "calsync.web" in everywhere[name]:
            offending.append(name)
    assert offending == []


def test_importing_the_core_and_the_command_line_does_not_load_starlette_or_uvicorn() -> None:
    import subprocess
    import sys

    code = (
        "import sys, calsync, calsync.cli, calsync.push, calsync.processor, calsync.google; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'uvicorn'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


#: The server extra, less cryptography: google-auth imports that itself (it is its dependency).
SERVER_EXTRA = ("psycopg", "psycopg_pool", "celery", "kombu", "redis", "prometheus_client")
#: Modules of calsync that may import the server extra (each documents it).
SERVER_MODULES = ("calsync.server", "calsync.celery", "calsync.metrics", "calsync.state.postgres",
                  "calsync.state.postgres_schema", "calsync.state.postgres_connection",
                  "calsync.google.redis_pacing",
                  "calsync.crypto", "calsync.celery_limits", "calsync.celery_setup")  # fmt: skip


@pytest.mark.parametrize("module", ["calsync", "calsync.cli", "calsync.google", "calsync.config"])
def test_the_core_works_without_the_server_extra(module: str) -> None:
    """With every package of the extra made unimportable, the core still imports."""
    import subprocess
    import sys

    code = f"import sys\nfor name in {SERVER_EXTRA!r}: sys.modules[name] = None\nimport {module}"
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_only_server_modules_import_the_server_extra_or_cryptography() -> None:
    extra = (*SERVER_EXTRA, "cryptography")
    offending = []
    for path in sorted((SRC / "calsync").rglob("*.py")):
        name = module_name(path)
        if any(_within(name, allowed) for allowed in SERVER_MODULES):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offending += [(name, n) for n in names if n.split(".")[0] in extra]
    assert offending == []

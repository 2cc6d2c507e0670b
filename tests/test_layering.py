"""Imports run one way, pages -> ui -> figures -> analysis -> core, and modules import no cycle: read from
the source with ast, so nothing is imported to check it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("pages", "ui", "figures", "analysis", "core")  # a module may import its own layer and lower ones
# Known exceptions, each with the reason it is still there (remove the entry when it is fixed).
ALLOWED: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p
        for layer in LAYERS
        if (ROOT / layer).is_dir()
        for p in (ROOT / layer).rglob("*.py")
    }


def _walk(node: ast.AST):
    """ast.walk without the bodies of `if TYPE_CHECKING:` (imports for type hints only never run)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
            continue
        yield from _walk(child)


def _imports(path: Path) -> set[str]:
    """Project modules `path` imports, at any depth (function-level imports count too)."""
    out = set()
    for node in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}  # `from core import process`
    return {m for m in out if m.split(".")[0] in LAYERS}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        deps = {m for m in _imports(path) if m in mods and m != name}
        graph[name.removesuffix(".__init__")] = {d.removesuffix(".__init__") for d in deps}
    return graph


def test_imports_run_from_pages_down_to_core():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = sorted(
        (a, b)
        for a, deps in _graph().items()
        for b in deps
        if rank[b.split(".")[0]] < rank[a.split(".")[0]] and (a, b) not in ALLOWED
    )
    assert upward == []


def test_no_import_cycles():
    graph = _graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_importing_the_engine_changes_no_process_setting():
    """glibc's malloc is tuned by core.process.setup() (called by app.py), never as an import side effect."""
    code = "import core.train, core.process, ui.boot; assert not core.process._SET_UP"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)

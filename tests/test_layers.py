"""The packages form layers that point one way, and no modules import each other in a circle.

    config, ops  <-  models  <-  documents, mail  <-  reporting  <-  portal, flows  <-  cli  <-  demo

A package imports only from layers below its own (never from a sibling on its layer) and
modules never form an import circle, inside a package or across packages. Every import counts:
module level, inside a function, or under ``TYPE_CHECKING``.

``KNOWN`` lists the imports that still break the rule while the house is being rebuilt
(issue 17). The list can only shrink: a new upward import fails, and so does an entry that no
longer exists, so whoever removes one also removes it here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS: dict[str, int] = {
    "config": 0,
    "ops": 0,
    "models": 1,
    "documents": 2,
    "mail": 2,
    "reporting": 3,
    "portal": 4,
    "flows": 4,
    "cli": 5,
    "demo": 6,
}

KNOWN: set[tuple[str, str]] = set()


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Every project module and the project modules it imports (``from a import b`` counts as
    ``a.b`` when ``a/b.py`` exists, else as ``a``)."""
    files = {
        module_name(path, root): path
        for package in LAYERS
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in files)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if name in files:
                        targets.add(name)
                    elif node.module in files:
                        targets.add(node.module)
        graph[module] = {t for t in targets if t != module}
    return graph


def upward_imports(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Imports of a sibling package on the same layer or of a higher layer."""
    wrong = set()
    for module, targets in graph.items():
        mine = module.split(".")[0]
        for target in targets:
            theirs = target.split(".")[0]
            if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
                wrong.add((module, target))
    return wrong


def circles(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def violations(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Upward imports, and every import between two modules of one circle."""
    wrong = upward_imports(graph)
    for component in circles(graph):
        wrong |= {(m, t) for m in component for t in graph[m] if t in component}
    return wrong


def test_layers_point_one_way_and_nothing_imports_in_a_circle():
    found = violations(import_graph(ROOT))
    assert found - KNOWN == set(), "imports against the layers (README, 'Layout')"
    assert KNOWN - found == set(), "fixed: remove these from KNOWN"


def test_the_check_sees_an_upward_import_and_a_circle():
    graph = {
        "models.orm": {"config.settings"},
        "models.cycles": {"models.orm"},
        "mail.compose": {"models.orm"},
        "documents.report": {"models.orm"},
    }
    assert violations(graph) == set()
    assert violations({**graph, "models.orm": {"mail.compose"}}) >= {("models.orm", "mail.compose")}
    assert violations({**graph, "mail.compose": {"documents.report"}}) == {
        ("mail.compose", "documents.report")
    }
    looped = {**graph, "models.orm": {"models.cycles"}}
    assert violations(looped) == {("models.orm", "models.cycles"), ("models.cycles", "models.orm")}

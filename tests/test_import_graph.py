"""rewardlab's import graph has no cycle, and engine/ imports no reward module.

The graph is read statically with ``ast`` from ``src/rewardlab``: an edge ``a -> b`` is an
``import b`` / ``from b import x`` in ``a`` (``from pkg import sub`` is an edge to the
submodule). Two graphs are checked:

* module level: imports that run when the module is imported (including those under
  ``try``/``if`` at module level, excluding ``if TYPE_CHECKING:``). No cycle is allowed.
* every import, including those deferred inside functions. A deferred import hides a cycle
  from the interpreter but not from a reader: the two modules still cannot be understood
  apart. Only the allow-listed cycles below may remain.

The implicit import of a parent package (``import a.b`` runs ``a/__init__``) is not an edge:
counting it would make every package ``__init__`` that re-exports its modules a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Cycles allowed to remain through deferred imports. Empty: the last one (models/llm.py's
# build_backend importing the backends that import it) went when backends became a name registry
# (issue 20). An entry added here must name a cycle that exists (test_allowed_cycles_still_exist).
ALLOWED_CYCLES: set[frozenset[str]] = set()

# What engine/ may import from rewardlab: the core nouns, nothing that scores.
ENGINE_MAY_IMPORT = {"rewardlab.types", "rewardlab.errors"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "rewardlab").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(body: list[ast.stmt], deferred: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue  # annotations only: never executed
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not deferred:
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _import_nodes([child], deferred)
            elif isinstance(child, ast.ExceptHandler):
                yield from _import_nodes(child.body, deferred)


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in MODULES}
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, node.module] if node.module else package)
    else:
        base = node.module or ""
    out = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            out.add(f"{base}.{alias.name}")
        elif base in MODULES:
            out.add(base)
    return out


def _graph(deferred: bool) -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = set().union(
            *(_targets(module, path, n) for n in _import_nodes(tree.body, deferred))
        )
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is a few hundred nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_package() -> None:
    graph = _graph(deferred=False)
    assert len(graph) > 100
    assert "rewardlab.types" in graph["rewardlab.reward"]
    # A relative import and a submodule named in `from pkg import sub` both resolve.
    assert "rewardlab.engine.pool" in graph["rewardlab.engine"]


def test_no_module_level_cycle() -> None:
    assert _cycles(_graph(deferred=False)) == []


def test_no_cycle_even_through_deferred_imports() -> None:
    cycles = [sorted(c) for c in _cycles(_graph(deferred=True)) if c not in ALLOWED_CYCLES]
    assert cycles == []


@pytest.mark.parametrize("cycle", sorted(ALLOWED_CYCLES, key=sorted), ids=lambda c: min(c))
def test_allowed_cycles_still_exist(cycle: frozenset[str]) -> None:
    # An allow-list entry for a cycle that is gone must be removed, not left to hide a new one.
    assert cycle in _cycles(_graph(deferred=True))


def test_engine_imports_no_reward_module() -> None:
    graph = _graph(deferred=True)  # deferred imports count: the worker used to hide one
    offending = {
        (module, target)
        for module, targets in graph.items()
        if module == "rewardlab.engine" or module.startswith("rewardlab.engine.")
        for target in targets
        if not target.startswith("rewardlab.engine") and target not in ENGINE_MAY_IMPORT
    }
    assert offending == set()


def test_cycle_finder_finds_a_cycle() -> None:
    # The finder itself can fail: a two-module loop and a self-import are both reported.
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [frozenset({"a", "b"})]
    assert _cycles({"a": {"a"}}) == [frozenset({"a"})]

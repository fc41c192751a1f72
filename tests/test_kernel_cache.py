"""numba's kernel cache lives in the per-user cache, never beside the installed package.

Kernels cached inside site-packages outlived `pip uninstall` and shadowed the editable install
the README's second command makes in the same venv (found from a fresh clone: every test that
starts the bot as a process failed with "No module named 'index.lexical.sentence_terms'").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

COMPILE = (
    "import numpy as np; from index.semantic.cosines import cosines; "
    "out = np.zeros(2, np.float32); "
    "cosines(np.ones((2, 3), np.int8), np.ones(3, np.float32), np.ones(2, np.float32), out); "
    "import os; print(os.environ['NUMBA_CACHE_DIR'])"
)


def _compile(tmp_path: Path, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env |= {"PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}
    done = subprocess.run(
        [sys.executable, "-c", COMPILE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.process
def test_kernels_are_cached_in_the_per_user_cache(tmp_path: Path) -> None:
    folder = Path(_compile(tmp_path))
    assert folder == tmp_path / "cache" / "newsbot" / "numba"
    assert any(folder.rglob("*cosines*.nbi")), "no kernel cached there"


@pytest.mark.process
def test_numba_cache_dir_still_wins(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    assert Path(_compile(tmp_path, NUMBA_CACHE_DIR=str(mine))) == mine
    assert any(mine.rglob("*cosines*.nbi"))
    assert not (tmp_path / "cache" / "newsbot").exists()

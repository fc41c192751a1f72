"""Ingestion, sentence splitting, analysis and the BM25 index; knows nothing of Telegram."""

import os

import platformdirs

# numba caches compiled kernels (`cache=True`) beside their source by default: inside
# site-packages for an installed copy, where `pip uninstall` leaves them behind as folders with no
# `__init__.py`, and those shadow an editable install of the same packages made later in that
# venv (the README's two commands: `pip install .`, then `pip install -e '.[test]'`). Set before
# any kernel module imports numba, the per-user cache holds them instead; NUMBA_CACHE_DIR wins.
os.environ.setdefault(
    "NUMBA_CACHE_DIR",
    os.path.join(platformdirs.user_cache_dir("newsbot", appauthor=False), "numba"),
)

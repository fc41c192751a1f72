"""Where sources and the index live: flags, then environment, then defaults."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

SOURCES_ENV = "NEWSBOT_SOURCES"
INDEX_DIR_ENV = "NEWSBOT_INDEX_DIR"


def default_sources() -> list[str]:
    """Return `$NEWSBOT_SOURCES` split on commas, else `["./seeds"]`."""
    raw = os.environ.get(SOURCES_ENV, "")
    sources = [s.strip() for s in raw.split(",") if s.strip()]
    return sources or ["./seeds"]


def default_index_dir() -> Path:
    """Return `$NEWSBOT_INDEX_DIR`, else the per-user data folder's `index`."""
    raw = os.environ.get(INDEX_DIR_ENV, "").strip()
    if raw:
        return Path(raw).expanduser()
    return Path(platformdirs.user_data_dir("newsbot", appauthor=False)) / "index"


def is_url(source: str) -> bool:
    """Return whether a source names a feed URL rather than a path."""
    return "://" in source

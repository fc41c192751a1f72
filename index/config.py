"""Where sources and the index live: flags, then environment, then defaults.

The one home of these defaults: `newsbot index`/`ask` (index/cli.py) and the bot's settings
(bot/settings.py) both read them from here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import platformdirs

SOURCES_ENV = "NEWSBOT_SOURCES"
INDEX_DIR_ENV = "NEWSBOT_INDEX_DIR"
SEMANTIC_ENV = "NEWSBOT_SEMANTIC"
# Values of NEWSBOT_SEMANTIC that turn the semantic layer off (case-insensitive); anything else,
# or nothing, leaves it on.
SEMANTIC_OFF = frozenset({"off", "0", "false", "no"})
DEFAULT_SOURCES = ("./seeds",)

# A scheme (RFC 3986: a letter, then letters, digits, '+', '-', '.') and '://' at the start.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def split_sources(raw: str) -> tuple[str, ...]:
    """Return the comma-separated sources in `raw`, stripped, empty ones left out."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def default_sources(env: Mapping[str, str] | None = None) -> list[str]:
    """Return `$NEWSBOT_SOURCES` split on commas, else `["./seeds"]`.

    Args:
        env: The environment to read; `os.environ` when None.
    """
    env = os.environ if env is None else env
    return list(split_sources(env.get(SOURCES_ENV, "")) or DEFAULT_SOURCES)


def default_index_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return `$NEWSBOT_INDEX_DIR`, else the per-user data folder's `index`.

    Args:
        env: The environment to read; `os.environ` when None.
    """
    env = os.environ if env is None else env
    raw = env.get(INDEX_DIR_ENV, "").strip()
    if raw:
        return Path(raw).expanduser()
    return Path(platformdirs.user_data_dir("newsbot", appauthor=False)) / "index"


def semantic_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Return False when `$NEWSBOT_SEMANTIC` is off/0/false/no: answers from BM25 alone.

    The one place this setting is read: `newsbot ask` and the bot (bot/newsroom.py) both ask here.

    Args:
        env: The environment to read; `os.environ` when None.
    """
    env = os.environ if env is None else env
    return env.get(SEMANTIC_ENV, "").strip().lower() not in SEMANTIC_OFF


def is_url(source: str) -> bool:
    """Return whether a source names a feed URL (`scheme://...`) rather than a path."""
    return _URL.match(source) is not None

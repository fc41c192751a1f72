"""Where sources and the index live: flags, then environment, then defaults.

The one home of these defaults: `newsbot index`/`ask` (index/cli.py) and the bot's settings
(bot/settings.py) both read them from here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

import platformdirs

SOURCES_ENV = "NEWSBOT_SOURCES"
INDEX_DIR_ENV = "NEWSBOT_INDEX_DIR"
SEMANTIC_ENV = "NEWSBOT_SEMANTIC"
# Values of NEWSBOT_SEMANTIC that turn the semantic layer off (case-insensitive); anything else,
# or nothing, leaves it on.
SEMANTIC_OFF = frozenset({"off", "0", "false", "no"})
DEFAULT_SOURCES = ("./seeds",)
RETENTION_ENV = "NEWSBOT_RETENTION"
MAX_REMOVAL_ENV = "NEWSBOT_MAX_REMOVAL"
# An update that would remove more than this share of the live articles (a source's files
# deleted; retention and `--remove` counted apart) commits nothing: a mistake costs nothing.
DEFAULT_MAX_REMOVAL = 0.2
RETENTION_USAGE = (
    f"{RETENTION_ENV} takes a duration such as 365d, 30d, 2w or 12h (or nothing: keep everything)"
)
MAX_REMOVAL_USAGE = f"{MAX_REMOVAL_ENV} takes a share such as 20% or 0.2 (between 0 and 100%)"
NO_SOURCES = (
    "no sources to read: name one (`newsbot index SOURCE`: a folder, a file or a feed URL) "
    f"or set {SOURCES_ENV}"
)
_RETENTION = re.compile(r"(\d+(?:\.\d+)?)\s*([hdw])")
_RETENTION_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

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


def canonical_source(source: str | Path) -> str:
    """Return a source as an index remembers it: a URL as given, a path made absolute.

    Absolute, so that `newsbot index` run from another folder reads the same sources.
    """
    text = str(source)
    return text if is_url(text) else os.path.abspath(os.path.expanduser(text))


def sources_to_read(
    named: Sequence[str],
    remembered: Sequence[str] | None,
    *,
    index_exists: bool,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Return the sources a run reads: named, else remembered, else `$NEWSBOT_SOURCES`, else seeds.

    `./seeds` only for an index folder that does not exist yet (the README's first command): an
    existing folder, even one holding only a stale `LOCK`, is never filled from it.

    Raises:
        ValueError: No source at all (`NO_SOURCES`).
    """
    env = os.environ if env is None else env
    if named:
        return list(named)
    if remembered:
        return list(remembered)
    configured = split_sources(env.get(SOURCES_ENV, ""))
    if configured:
        return list(configured)
    if not index_exists:
        return list(DEFAULT_SOURCES)
    raise ValueError(NO_SOURCES)


def retention(env: Mapping[str, str] | None = None) -> timedelta | None:
    """Return `$NEWSBOT_RETENTION` (`365d`, `30d`, `2w`, `12h`), or None: keep everything.

    Raises:
        ValueError: Not such a duration (`RETENTION_USAGE`).
    """
    env = os.environ if env is None else env
    raw = env.get(RETENTION_ENV, "").strip().lower()
    if raw in ("", "off", "0", "forever"):
        return None
    match = _RETENTION.fullmatch(raw)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"bad {RETENTION_ENV}={raw!r}: {RETENTION_USAGE}")
    return float(match.group(1)) * _RETENTION_UNITS[match.group(2)]


def max_removal(env: Mapping[str, str] | None = None) -> float:
    """Return `$NEWSBOT_MAX_REMOVAL` as a share (`20%` or `0.2`), else `DEFAULT_MAX_REMOVAL`.

    Raises:
        ValueError: Not a share between 0 and 1 (`MAX_REMOVAL_USAGE`).
    """
    env = os.environ if env is None else env
    raw = env.get(MAX_REMOVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_REMOVAL
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"bad {MAX_REMOVAL_ENV}={raw!r}: {MAX_REMOVAL_USAGE}")
    return share

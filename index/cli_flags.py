"""The flags of `newsbot index`, `ask` and `check`: names, help texts, defaults, argparse types.

The flags are a public contract: add, never rename. What each command does is `index.cli`'s.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from index.answers.check import DEFAULT_SAMPLE, DEFAULT_SEED, K
from index.answers.policy import MIN_COVERAGE
from index.config import SEMANTIC_ENV
from index.scale.shards import MAX_SHARDS
from index.text.timeframe import TIMEZONE_ENV

# Measured with `/usr/bin/time -v newsbot check --sample 20` on the 1M-sentence benchmark index
# (docs/benchmarks.md); rank_bm25 holds a dictionary per sentence and scans them all per term.
CHECK_COST = (
    "rank_bm25 keeps every sentence's term counts in memory and scores every sentence for "
    "every question term: at 1 million sentences, --sample 20 took 53 s of one core (63 s wall) "
    "and 1.0 GB of memory at its peak, and each further question adds about 0.8 s."
)


def add_index_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `newsbot index` and return its parser."""
    index: argparse.ArgumentParser = commands.add_parser(
        "index",
        help="build the index from sources, or bring it up to date",
        description=(
            "Read articles from files, folders and feed URLs into the index, an archive: an "
            "article once read stays until NEWSBOT_RETENTION or --remove removes it (a feed's "
            "items that scrolled away, or a source that fails to read, change nothing). An "
            "existing index is brought up to date: new and changed articles are appended as a "
            "segment and removed ones masked; --full indexes the whole archive again. Nothing "
            "is committed when every source fails, when nothing changed, or when more than "
            "NEWSBOT_MAX_REMOVAL of the articles would go (exit status 1)."
        ),
    )
    index.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="file, folder or feed URL, remembered by the index (default: the sources the index "
        "remembers, else $NEWSBOT_SOURCES, else ./seeds for a new index)",
    )
    index.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="SOURCE",
        help="forget a source and remove its articles (repeatable)",
    )
    index.add_argument(
        "--spooled",
        action="store_true",
        help="read feeds as the bot's poller last fetched them into the index folder's spool, "
        "fetching only those not yet spooled or due (the bot's builds use it); by default every "
        "feed is fetched now, conditionally",
    )
    _add_index_dir(index)
    index.add_argument(
        "--workers", type=int, default=0, help="processes for analysis (default: one per core)"
    )
    index.add_argument(
        "--full",
        action="store_true",
        help="index every article again instead of appending what changed",
    )
    index.add_argument(
        "--shards",
        type=_shards,
        default=None,
        metavar="N",
        help="also write N shards for serving over a Ray cluster, 0 for none (default: as many "
        "as the index has; docs/scale.md)",
    )
    add_ray_option(index)
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.add_argument(
        "--verbose",
        action="store_true",
        help="name every skipped file, line and entry (by default: a count per reason)",
    )
    return index


def add_ask_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `newsbot ask` and return its parser."""
    ask: argparse.ArgumentParser = commands.add_parser(
        "ask",
        help="answer a question from the index",
        description="Answer a question with the best-matching passages and their sources.",
    )
    ask.add_argument("question", metavar="QUESTION", help="the question, or - to read one per line")
    ask.add_argument("-k", type=_positive, default=3, help="answers per question (default: 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument(
        "--min-coverage",
        type=_share,
        default=MIN_COVERAGE,
        metavar="X",
        help="answer only when the best sentence matches this idf-weighted share of the "
        f"question (default: {MIN_COVERAGE}; 0 answers whenever a word matches)",
    )
    ask.add_argument(
        "--lexical-only",
        action="store_true",
        help=f"rank by BM25 alone, without sentence vectors (also: {SEMANTIC_ENV}=off)",
    )
    ask.add_argument(
        "--since",
        metavar="DATE",
        help="only articles dated on or after DATE (2026-02-01, '6 February', 'last week', "
        f"'3 days ago'; in ${TIMEZONE_ENV}, default UTC)",
    )
    ask.add_argument(
        "--until", metavar="DATE", help="only articles dated on or before DATE (that day included)"
    )
    _add_index_dir(ask)
    add_ray_option(ask)
    return ask


def add_check_parser(commands: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `newsbot check` and return its parser."""
    check: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="check the index's scores against rank_bm25",
        description="Build rank_bm25's BM25Okapi over the index's own analyzed sentences, ask "
        "both it and the index questions made from sentences drawn at random (seeded), and "
        "compare their top rows and scores. Exit status 0 when all agree, 1 on a disagreement.",
        epilog=CHECK_COST,
    )
    check.add_argument(
        "--sample",
        type=_positive,
        default=DEFAULT_SAMPLE,
        metavar="N",
        help=f"questions to ask (default: {DEFAULT_SAMPLE})",
    )
    check.add_argument("-k", type=_positive, default=K, help=f"rows compared (default: {K})")
    check.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"question draw (default: {DEFAULT_SEED})"
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    add_ray_option(check)
    _add_index_dir(check)
    return check


def add_ray_option(parser: argparse.ArgumentParser) -> None:
    """Add `--ray ADDRESS`: answer through the index's shards (embed, for index) on Ray."""
    parser.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="answer through the index's shards (index: embed as tasks) on the Ray cluster at "
        "ADDRESS: auto, HOST:PORT, "
        "ray://HOST:PORT, or local for a private one (default: $NEWSBOT_RAY_ADDRESS, else "
        "none; docs/scale.md)",
    )


def _add_index_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="index folder (default: $NEWSBOT_INDEX_DIR, else a per-user data folder)",
    )


def _positive(value: str) -> int:
    """Parse a whole number of at least 1 (argparse type)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {number}")
    return number


def _shards(value: str) -> int:
    """Parse a number of shards, 0 to `index.scale.shards.MAX_SHARDS` (argparse type)."""
    number = 0 if value == "0" else _positive(value)
    if number > MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_SHARDS} shards, got {number}")
    return number


def _share(value: str) -> float:
    """Parse a number of at least 0 (argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not (math.isfinite(number) and number >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {value}")
    return number

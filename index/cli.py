"""`newsbot index`, `ask` and `check`: a thin command line over the index library.

Each command is one library call between its flags (`index.cli_flags`) and what it prints
(`index.cli_output`); here are what it calls, the exit statuses, and the mistakes a user can fix
(`UsageError`). The flags, JSON output and environment variables are a public contract: add,
never rename.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from index.answers.check import EmptyIndexError, check_index
from index.answers.policy import WEAK_COVERAGE
from index.answers.search import NewsIndex
from index.cli_flags import add_ask_parser, add_check_parser, add_index_parser
from index.cli_output import (
    ask_json,
    print_answers,
    print_check,
    print_index_report,
    print_unavailable,
)
from index.config import (
    DEFAULT_SOURCES,
    canonical_source,
    default_index_dir,
    is_url,
    max_removal,
    retention,
    semantic_enabled,
    sources_to_read,
)
from index.progress import phases_for
from index.scale.sharded import ShardsUnavailable
from index.semantic.build_vectors import EmbedBlocks
from index.store.archiving import remembered_sources
from index.store.build import build_index
from index.store.build_report import BuildReport
from index.store.build_settings import BuildSettings
from index.store.generations import IndexMissingError, StoreError
from index.text.timeframe import Period, period_between, timezone_from_env

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
NO_INDEX = (
    "no index yet: index your own news with `newsbot index SOURCE` (a folder, a file or a feed "
    "URL; the index remembers it), or set NEWSBOT_SOURCES"
)


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `index`, `ask` and `check` subcommands."""
    add_index_parser(commands).set_defaults(handler=run_index)
    add_ask_parser(commands).set_defaults(handler=run_ask)
    add_check_parser(commands).set_defaults(handler=run_check)


def run_index(args: argparse.Namespace) -> int:
    """Bring the index up to date with its sources, print a summary; exit 1 when refused."""
    index_dir: Path = args.index_dir or default_index_dir()
    report = index_sources(
        args.sources,
        index_dir,
        args.workers,
        full=args.full,
        remove=args.remove,
        fetch_feeds=not args.spooled,
        shards=args.shards,
        ray=args.ray,
    )
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print_index_report(report, verbose=args.verbose)
    if report.refused is not None:
        print(f"newsbot: error: {report.summary()}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def index_sources(
    named: Sequence[str],
    index_dir: Path,
    workers: int = 0,
    *,
    full: bool = True,
    remove: Sequence[str] = (),
    fetch_feeds: bool = True,
    shards: int | None = None,
    ray: str | None = None,
) -> BuildReport:
    """Choose the sources, check the new ones, and build, telling its progress on stderr.

    The sources read are those named, else those the index remembers, else $NEWSBOT_SOURCES,
    else ./seeds for an index folder that does not exist yet (`index.config.sources_to_read`).
    With `full` false, an existing index is brought up to date (`index.store.update`). The library
    checks the result before committing it (`BuildReport.refused`).

    Raises:
        UsageError: A newly named source does not exist, a source to remove is not one, no
            source is known, a setting is malformed, or another build is running.
    """
    remembered = remembered_sources(index_dir)
    known = set(remembered or ())
    try:
        sources = sources_to_read(named, remembered, index_exists=index_dir.exists())
        settings = BuildSettings(
            workers=workers,
            # NEWSBOT_SEMANTIC=off: no vectors to serve, so none are computed (1.6 h at 1M).
            semantic=semantic_enabled(),
            retention=retention(),
            max_removal=max_removal(),
            shards=shards,
        )
        # Bars on a terminal, else a line every NEWSBOT_PROGRESS_INTERVAL s (a log, the bot).
        phases = phases_for(sys.stderr)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for source in sources:
        # A remembered folder that vanished is a source failing (its articles kept), not a typo.
        new = canonical_source(source) not in known
        if new and not is_url(source) and not Path(source).exists():
            raise UsageError(f"source not found: {source}")
    for source in remove:
        if canonical_source(source) not in known:
            raise UsageError(f"not a source of this index: {source}")
    try:
        return build_index(
            sources,
            index_dir,
            settings,
            progress=phases("articles analyzed", None),
            embedding_progress=lambda total: phases("sentences embedded", total),
            full=full,
            remove=remove,
            fetch_feeds=fetch_feeds,
            embed_blocks=cluster_embedding(ray),
        )
    except StoreError as exc:  # another build is running
        raise UsageError(str(exc)) from None
    finally:
        phases.close()


def run_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one per stdin line for `-`."""
    lexical_only = args.lexical_only or not semantic_enabled()
    zone, period = asked_time(args.since, args.until)
    news = open_index(args.index_dir, semantic=not lexical_only, ray=args.ray)
    questions: Iterable[str] = (
        (line.strip() for line in sys.stdin if line.strip())
        if args.question == "-"
        else [args.question]
    )
    for question in questions:
        try:
            found = news.ask(
                question,
                k=args.k,
                min_coverage=args.min_coverage,
                lexical_only=lexical_only,
                period=period,
                now=datetime.now(zone),
            )
        except ShardsUnavailable as exc:  # never a partial ranking passed off as complete
            print_unavailable(question, exc, args.json)
            continue
        if args.json:
            print(json.dumps(ask_json(question, found, news), ensure_ascii=False), flush=True)
        else:
            print_answers(question, found, sys.stdout, several=args.question == "-")
            if found.closest_exist and not found.closest:
                print(f"(Weak matches exist: add --min-coverage {WEAK_COVERAGE} to see them.)")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    """Compare the index with rank_bm25 on sampled questions; exit 1 on a disagreement."""
    folder: Path = args.index_dir or default_index_dir()
    try:
        news = load_index(folder, ray=args.ray)
    except StoreError as exc:  # a missing index too: checking is no reason to build one
        raise UsageError(str(exc)) from None
    try:
        phases = phases_for(sys.stderr)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        report = check_index(news, args.sample, k=args.k, seed=args.seed, phases=phases)
    except EmptyIndexError as exc:
        raise UsageError(str(exc)) from None
    finally:
        phases.close()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print_check(report, sys.stdout)
    return EXIT_OK if report.all_agree else EXIT_FAILURE


def open_index(
    index_dir: Path | None, *, semantic: bool = True, ray: str | None = None
) -> NewsIndex:
    """Load the index; build it from the default sources first when there is none yet.

    Without `semantic`, the sentence vectors and the model are not loaded: BM25 alone answers.
    With a cluster address (`ray`, else `NEWSBOT_RAY_ADDRESS`), its shards answer there.

    Raises:
        UsageError: An explicit `--index-dir` does not exist, or the index is unusable.
    """
    if index_dir is not None and not index_dir.is_dir():
        raise UsageError(f"index folder not found: {index_dir}")
    folder = index_dir or default_index_dir()
    try:
        return load_index(folder, semantic=semantic, ray=ray)
    except IndexMissingError:
        try:
            sources = sources_to_read([], None, index_exists=folder.exists())
        except ValueError:
            raise UsageError(NO_INDEX) from None
        if sources == list(DEFAULT_SOURCES) and not Path(DEFAULT_SOURCES[0]).exists():
            raise UsageError(NO_INDEX) from None
        print(f"No index yet; building it from {', '.join(sources)} ...", file=sys.stderr)
        report = index_sources(sources, folder)
        if report.refused is not None:
            raise UsageError(report.refused) from None
        print(f"Indexed {report.summary()}", file=sys.stderr)
        return load_index(folder, semantic=semantic, ray=ray)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def cluster_embedding(ray: str | None) -> EmbedBlocks | None:
    """Return the embedding as Ray tasks at `ray` (else `NEWSBOT_RAY_ADDRESS`), or None.

    Without an address Ray is not imported.

    Raises:
        UsageError: The cluster cannot be used.
    """
    from index.scale.ray_connect import ClusterError, ray_address

    address = ray_address(given=ray)
    if address is None:
        return None
    from index.scale.ray_build import ray_embed_blocks

    try:
        return ray_embed_blocks(address)
    except ClusterError as exc:
        raise UsageError(str(exc)) from None


def load_index(folder: Path, *, semantic: bool = True, ray: str | None = None) -> NewsIndex:
    """Load the index of `folder`, or its shards on a Ray cluster.

    `index.scale.cluster.load_index` decides which.

    Raises:
        index.store.generations.StoreError: The index is missing or unusable.
        UsageError: The cluster cannot be used.
    """
    from index.scale.cluster import load_index as load_served
    from index.scale.ray_connect import ClusterError

    try:
        index: NewsIndex = load_served(folder, semantic=semantic, address=ray)
    except (ClusterError, ShardsUnavailable) as exc:
        raise UsageError(str(exc)) from None
    return index


def asked_time(since: str | None, until: str | None) -> tuple[tzinfo, Period | None]:
    """Return $NEWSBOT_TIMEZONE, read once, and the period of `--since`/`--until` (or None).

    Raises:
        UsageError: A bad date or time zone, with what to fix.
    """
    try:
        zone = timezone_from_env()  # checked even without the flags: questions read times too
        if since is None and until is None:
            return zone, None
        return zone, period_between(since, until, datetime.now(zone))
    except ValueError as exc:
        raise UsageError(str(exc)) from None

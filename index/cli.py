"""`newsbot index`, `ask` and `check`: a thin command line over the index library.

The flags, JSON output and environment variables here are a public contract: add, never rename.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from index.answers.check import (
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
    CheckReport,
    EmptyIndexError,
    K,
    check_index,
)
from index.answers.excerpts import shown_passage
from index.answers.policy import MIN_COVERAGE, WEAK_COVERAGE
from index.answers.search import NewsIndex
from index.config import (
    DEFAULT_SOURCES,
    SEMANTIC_ENV,
    canonical_source,
    default_index_dir,
    is_url,
    max_removal,
    retention,
    semantic_enabled,
    sources_to_read,
)
from index.model import Answer, Article, Findings, Skipped
from index.progress import phases_for
from index.scale.sharded import UNAVAILABLE, ShardsUnavailable
from index.scale.shards import MAX_SHARDS
from index.store.archiving import remembered_sources
from index.store.build import BuildReport, BuildSettings, build_index
from index.store.generations import IndexMissingError, StoreError
from index.text.names import caveat, listed
from index.text.timeframe import TIMEZONE_ENV, Period, period_between, shown_date, timezone_from_env

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
# Files of many articles, one a record: an answer from one is named by its record's id.
RECORD_SUFFIXES = frozenset({".jsonl", ".json", ".csv"})
NOTHING_FOUND = "Nothing relevant found in the indexed news."
NOTHING_MENTIONS = "Nothing relevant found: the closest articles never mention {names}."
NOTHING_IN_PERIOD = "Nothing relevant found in the indexed news of that time."
NO_INDEX = (
    "no index yet: index your own news with `newsbot index SOURCE` (a folder, a file or a feed "
    "URL; the index remembers it), or set NEWSBOT_SOURCES"
)
# Measured with `/usr/bin/time -v newsbot check --sample 20` on the 1M-sentence benchmark index
# (docs/benchmarks.md); rank_bm25 holds a dictionary per sentence and scans them all per term.
CHECK_COST = (
    "rank_bm25 keeps every sentence's term counts in memory and scores every sentence for "
    "every question term: at 1 million sentences, --sample 20 took 53 s of one core (63 s wall) "
    "and 1.0 GB of memory at its peak, and each further question adds about 0.8 s."
)


class UsageError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `index`, `ask` and `check` subcommands."""
    index = commands.add_parser(
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
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.add_argument(
        "--verbose",
        action="store_true",
        help="name every skipped file, line and entry (by default: a count per reason)",
    )
    index.set_defaults(handler=run_index)

    ask = commands.add_parser(
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
    ask.set_defaults(handler=run_ask)

    check = commands.add_parser(
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
    check.set_defaults(handler=run_check)


def add_ray_option(parser: argparse.ArgumentParser) -> None:
    """Add `--ray ADDRESS`: answer through the index's shards on a Ray cluster."""
    parser.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="answer through the index's shards on the Ray cluster at ADDRESS: auto, HOST:PORT, "
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
    )
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for line in skip_lines(report.skipped, verbose=args.verbose):
            print(line, file=sys.stderr)
        for source in report.failed_sources if report.refused is None else ():
            print(f"failed to read {source}: its articles were kept", file=sys.stderr)
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        if report.committed:
            print(f"Indexed {report.summary()} into {report.folder.parent}")
        elif report.refused is None:
            print(report.summary().capitalize())
    if report.refused is not None:
        print(f"newsbot: error: {report.summary()}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def skip_lines(skipped: Sequence[Skipped], *, verbose: bool) -> list[str]:
    """Return one line per kind of skip, '239 skipped: no article text', most common first.

    The kind is the reason without its parenthesis (an error's details differ line by line);
    `verbose` adds each skipped item under its kind.
    """
    kinds: dict[str, list[Skipped]] = {}
    for item in skipped:
        kinds.setdefault(item.reason.split(" (", 1)[0], []).append(item)
    lines = []
    for kind, items in sorted(kinds.items(), key=lambda pair: -len(pair[1])):
        lines.append(f"{len(items):,} skipped: {kind}")
        lines.extend(f"  {item}" for item in items if verbose)
    return lines


def index_sources(
    named: Sequence[str],
    index_dir: Path,
    workers: int = 0,
    *,
    full: bool = True,
    remove: Sequence[str] = (),
    fetch_feeds: bool = True,
    shards: int | None = None,
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
        )
    except StoreError as exc:  # another build is running
        raise UsageError(str(exc)) from None
    finally:
        phases.close()


def _also(article: Article) -> dict[str, str | None]:
    """A copy of an answer's story, as `--json` lists it under `also`."""
    return {
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "date": article.date,
    }


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
            from index.follow.stories import copies_quoting  # datasketch: only for --json's `also`

            payload = {
                "question": question,
                "answers": [
                    a.to_json()
                    | {"also": [_also(c) for c in copies_quoting(news, a.article, a.sentence)]}
                    for a in found.answers
                ],
                "period": found.period.to_json() if found.period else None,
                "missing_names": list(found.missing_names),
                "closest": [a.to_json() for a in found.closest],
            }
            print(json.dumps(payload, ensure_ascii=False), flush=True)
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


def print_check(report: CheckReport, out: TextIO) -> None:
    """Print the verdict, then each disagreement (the first ten) for a person."""
    print(report.summary(), file=out)
    shown = report.disagreements()[:10]
    for c in shown:
        print(f"? {c.question}", file=out)
        print(f"   newsbot rows   {list(c.newsbot.rows)}", file=out)
        print(f"   rank_bm25 rows {list(c.rank_bm25.rows)}", file=out)
        print(f"   relative score difference {c.difference:.3g}", file=out)
    if len(report.disagreements()) > len(shown):
        print(f"... and {len(report.disagreements()) - len(shown):,} more", file=out)


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


def load_index(folder: Path, *, semantic: bool = True, ray: str | None = None) -> NewsIndex:
    """Load the index of `folder`, or its shards on a Ray cluster (`index.scale.cluster.load_index`).

    Raises:
        index.store.generations.StoreError: The index is missing or unusable.
        UsageError: The cluster cannot be used.
    """
    from index.scale.cluster import ClusterError
    from index.scale.cluster import load_index as load_served

    try:
        index: NewsIndex = load_served(folder, semantic=semantic, address=ray)
    except (ClusterError, ShardsUnavailable) as exc:
        raise UsageError(str(exc)) from None
    return index


def print_unavailable(question: str, exc: ShardsUnavailable, as_json: bool) -> None:
    """Say that part of the archive could not answer (`index.scale.sharded.UNAVAILABLE`)."""
    if as_json:
        payload = {"question": question, "answers": [], "unavailable_shards": list(exc.shards)}
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    else:
        print(UNAVAILABLE, flush=True)


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


def period_note(found: Findings) -> str:
    """Return what the answers say about the time the question named."""
    assert found.period is not None
    label = found.period.label()
    if found.elsewhere:
        return f"Nothing dated {label} answers this; these passages are from other dates."
    return f"{'Newest articles' if found.headlines else 'Only articles'} dated {label}."


def print_answers(question: str, found: Findings, out: TextIO, *, several: bool) -> None:
    """Print answers for a person: the period asked about, each passage, then its source.

    Passages are shown as the bot shows them, cut around their best sentence
    (`index.answers.excerpts.shown_passage`); `--json` has them whole. A question refused for names no
    article mentions gets its closest passages under the caveat that names them.
    """
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    answers = found.answers or found.closest
    if several:
        print(f"? {question}", file=out)
    if found.period is not None and found.answers:
        print(f"({period_note(found)})", file=out)
    if not found.answers:
        print(caveat(found.missing_names) if found.closest else nothing_found(found), file=out)
    for n, answer in enumerate(answers, 1):
        body = textwrap.fill(
            shown_passage(answer), width=width, initial_indent=f"{n}. ", subsequent_indent="   "
        )
        print(body, file=out)
        print(textwrap.indent(source_line(answer), "   — "), file=out)
        print(file=out)


def nothing_found(found: Findings) -> str:
    """Return what is printed when nothing answers: in the period asked about, or why not."""
    if found.period is not None:
        return NOTHING_IN_PERIOD
    if found.missing_names:
        return NOTHING_MENTIONS.format(names=listed(found.missing_names))
    return NOTHING_FOUND


def source_line(answer: Answer) -> str:
    """Return 'Title · Outlet · 6 Mar 1987 · link' with the parts that are known.

    Without a link, a JSON record is named by its id in its file (a file of 20,000 records
    named alone says little); any other file by its path. `--json` has every field as stored.
    """
    a = answer.article
    place = a.url or a.path
    if not a.url and a.path and Path(a.path).suffix.lower() in RECORD_SUFFIXES:
        place = f"{a.id} in {a.path}"
    parts = [a.title, a.source, shown_date(a.date), place]
    return " · ".join(p for p in parts if p)

"""`python -m bench.live_at_scale during-rebuild`: BM25 latency while the index changes.

A `bot.newsroom.Newsroom` in this process serves a copy of the 1M BM25 index; `time_questions`
times `NewsIndex.ask(lexical_only=True)` and `bm25.top_k` at a steady rate, quiet, during
`Newsroom.rebuild` (an append, a compaction or a full rebuild), and quiet again (`Timings`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.bot_load import OUT, read_questions
from bench.live_articles import drop_file, new_articles, without_some
from bench.live_bot import CORPUS_1M, ChildWatch, build_untimed, copy_serving, indexed_corpus, load1
from bench.question_load import percentile


@dataclass
class Timings:
    """Milliseconds of each `ask` and `top_k` in one phase, and the load average after it."""

    ask: list[float] = field(default_factory=list)
    top_k: list[float] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # when each question was asked (monotonic)
    load: float = 0.0
    seconds: float = 0.0

    def between(self, start: float, end: float) -> Timings:
        """The questions asked from `start` to `end` (monotonic); the same load average."""
        kept = [n for n, at in enumerate(self.at) if start <= at < end]
        return Timings(
            [self.ask[n] for n in kept],
            [self.top_k[n] for n in kept],
            [self.at[n] for n in kept],
            self.load,
            end - start,
        )


def time_questions(
    news: Callable[[], object], questions: Sequence[str], rate: float, until: Callable[[], bool]
) -> Timings:
    """Time `ask(lexical_only=True)` and `bm25.top_k` at `rate` questions/s until `until()`."""
    from index.answers.search import NewsIndex

    timings = Timings()
    started = time.monotonic()
    for n, question in enumerate(itertools.cycle(questions)):
        if until():
            break
        pause = started + n / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        index = news()
        assert isinstance(index, NewsIndex)
        terms = index.analyze(question).known
        timings.at.append(time.monotonic())
        t0 = time.perf_counter()
        index.ask(question, 3, lexical_only=True)
        t1 = time.perf_counter()
        index.bm25.top_k(terms, 10)
        t2 = time.perf_counter()
        timings.ask.append(1000 * (t1 - t0))
        timings.top_k.append(1000 * (t2 - t1))
    timings.seconds = time.monotonic() - started
    timings.load = load1()
    return timings


def timing_row(phase: str, t: Timings) -> str:
    """One Markdown row: p50 / p99 / max of ask and top_k, count, seconds, load."""

    def ms(values: list[float]) -> str:
        return " / ".join(
            f"{v:.2f}"
            for v in (
                percentile(values, 0.5),
                percentile(values, 0.99),
                max(values, default=math.nan),
            )
        )

    return (
        f"| {phase} | {len(t.ask):,} | {t.seconds:.1f} | {ms(t.ask)} | {ms(t.top_k)} | "
        f"{t.load:.2f} |"
    )


def during_rebuild(args: argparse.Namespace) -> int:
    """Measure 2: BM25 latency quiet, during `Newsroom.rebuild` of the 1M index, quiet again."""
    os.environ["NEWSBOT_SEMANTIC"] = "off"  # the rebuild child builds without vectors
    from bot.newsroom import Newsroom

    work = OUT / "live-during"
    index_dir, folder = work / "index", work / "sources"
    for old in (index_dir, folder):
        shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True)
    sources = [str(CORPUS_1M), str(folder)]
    notes = [f"index: a copy of {OUT / 'index-1m'} (BM25 only)"]
    if args.change == "compact":  # the corpus under a path of its own, then 30% of it removed
        corpus = work / "corpus.jsonl"
        shutil.copyfile(CORPUS_1M, corpus)
        sources = [str(corpus)]
        notes = [build_untimed(index_dir, sources, {"NEWSBOT_SEMANTIC": "off"})]
        without_some(CORPUS_1M, corpus, keep=0.7)
        # 30% of the articles leaving their file is this measure's point, not a mistake to refuse
        # (NEWSBOT_MAX_REMOVAL, 20% by default: docs/live.md).
        os.environ["NEWSBOT_MAX_REMOVAL"] = "100%"
    else:
        copy_serving(OUT / "index-1m", index_dir)
        sources[0] = str(indexed_corpus(index_dir))
    newsroom = Newsroom(sources, index_dir, semantic=False)
    questions = read_questions(CORPUS_1M.parent / "questions.jsonl")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="newsroom", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(newsroom.open(), loop).result()

    def index() -> object:  # whatever serves now: the rebuild swaps it
        return newsroom.index

    def for_seconds(seconds: float) -> Callable[[], bool]:
        end = time.monotonic() + seconds
        return lambda: time.monotonic() >= end

    time_questions(index, questions, args.rate, for_seconds(5))  # warm-up: JIT, page cache
    before = time_questions(index, questions, args.rate, for_seconds(args.quiet))
    generation = newsroom.generation
    if args.change == "append":
        drop_file(folder, "new.jsonl", new_articles(CORPUS_1M, 1000, 1000, 30))
    with ChildWatch(os.getpid()) as watch:
        asked = time.monotonic()
        full = args.change == "full"
        rebuild = asyncio.run_coroutine_threadsafe(newsroom.rebuild(full=full), loop)
        during = time_questions(index, questions, args.rate, rebuild.done)
        result = rebuild.result()
    child = watch.first_after(asked - 0.05)
    child_start, child_end = child if child else (asked, None)
    child_end = child_end or asked + during.seconds
    after = time_questions(index, questions, args.rate, for_seconds(args.quiet))
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    text = "\n".join(
        [
            f"Command: `python -m bench.live_at_scale {' '.join(sys.argv[1:])}`",
            "",
            *[f"- {note}" for note in notes],
            f"- served by `bot.newsroom.Newsroom` in this process; questions: "
            f"{len(questions)} from corpus-1m, cycled, {args.rate:g}/s on one thread",
            f"- the change ({args.change}): `Newsroom.rebuild(full={full})` = `newsbot index"
            f"{' --full' if full else ''}` over {', '.join(sources)} in a child process (both "
            f"cores), then the new generation loaded here and swapped in: {result.summary} "
            f"({result.seconds:.1f} s wall); generation {generation} -> {newsroom.generation}",
            "",
            "| phase | questions | s | ask(lexical_only) ms p50 / p99 / max | "
            "bm25.top_k ms p50 / p99 / max | load avg 1 min |",
            "|---|---|---|---|---|---|",
            timing_row("no rebuild (before)", before),
            timing_row("during the rebuild", during),
            timing_row("... its child process", during.between(child_start, child_end)),
            timing_row(
                "... then load + swap here", during.between(child_end, asked + during.seconds)
            ),
            timing_row("no rebuild (after)", after),
        ]
    )
    (OUT / "live-during.md").write_text(text + "\n")
    print(text)
    return 0

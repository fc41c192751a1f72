"""`python -m bench.live_at_scale answerable`: new articles on the 1M index, appeared -> answered.

A JSONL file of new articles is renamed into a source folder beside the 1M corpus while
`newsbot run` serves; a probe asks about one of them until answered, and each arrival is split
into its parts (`Arrival`) from the bot's log and its rebuild children.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bot_load import OUT, start_bot
from bench.live_articles import answers_about, drop_file, new_articles, question_about
from bench.live_bot import (
    CORPUS_1M,
    REFRESH_FLOOR,
    ChildWatch,
    Prober,
    build_untimed,
    copy_serving,
    graft_vectors,
    indexed_corpus,
    load1,
    log_events,
    rebuild_seconds,
    reply_time,
    stop_bot,
    wait_for_polling,
)
from tests.fake_telegram import FakeTelegramThread


@dataclass
class Arrival:
    """One file of new articles, from appearing to answered, with the parts in between."""

    appeared: float
    answered: float | None = None
    checked: float | None = None  # the refresher logged "sources changed"
    child: tuple[float, float | None] | None = None  # the rebuild child's start, exit
    swapped: float | None = None  # the newsroom logged "rebuilt the index"
    summary: str = ""
    probes: int = 0
    load: float = 0.0


async def probe_until_answered(
    prober: Prober, n: int, every: float, timeout: float, arrival: Arrival
) -> None:
    """Ask about article `n` every `every` seconds until a reply names its marker."""
    while time.monotonic() - arrival.appeared < timeout:
        started = time.monotonic()
        chat, text = await prober.ask_and_wait(question_about(n))
        arrival.probes += 1
        if answers_about(n, text):
            arrival.answered = reply_time(prober.server, chat)
            return
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


def explain(arrival: Arrival, log: Path, watch: ChildWatch) -> None:
    """Fill in the parts of an arrival from the bot's log and its children."""
    after = arrival.appeared
    checks = log_events(log, "bot.refresh", "sources changed", after)
    rebuilt = log_events(log, "bot.newsroom", "rebuilt the index", after)
    arrival.checked = checks[0].at if checks else None
    arrival.swapped = rebuilt[0].at if rebuilt else None
    arrival.summary = rebuilt[0].message if rebuilt else ""
    arrival.child = watch.first_after(after - 0.05)


def arrival_row(trial: int, a: Arrival) -> str:
    """One Markdown row: total and its parts in seconds, the load average."""

    def span(start: float | None, end: float | None) -> str:
        return f"{end - start:.1f}" if start is not None and end is not None else "?"

    child_start, child_end = a.child or (None, None)
    return (
        f"| {trial} | {span(a.appeared, a.answered)} | {span(a.appeared, a.checked)} | "
        f"{span(child_start, child_end)} ({rebuild_seconds(a.summary)} in the build) | "
        f"{span(child_end, a.swapped)} | {span(a.swapped, a.answered)} | {a.probes} | "
        f"{a.load:.2f} |"
    )


def answerable(args: argparse.Namespace) -> int:
    """Measure 1: new articles in a source folder beside the 1M corpus, until answered."""
    work = OUT / ("live-sem-1m" if args.semantic else "live-1m")
    sources_dir, index_dir = work / "sources", work / "index"
    shutil.rmtree(sources_dir, ignore_errors=True)
    sources_dir.mkdir(parents=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    if args.semantic:  # 1.6 h to embed 1M sentences: the shared index's vectors, grafted
        copy_serving(OUT / "index-1m", index_dir)
    corpus = indexed_corpus(index_dir)
    sources = [str(corpus), str(sources_dir)]
    settings = {
        "NEWSBOT_REFRESH": REFRESH_FLOOR,
        "NEWSBOT_SEMANTIC": "on" if args.semantic else "off",
    }
    notes = [f"sources: {corpus} and the folder {sources_dir} (empty at start)"]
    if args.semantic:
        notes.append(graft_vectors(OUT / "semantic-1m", index_dir))
    else:
        notes.append(build_untimed(index_dir, sources, settings))
    rng = random.Random(args.seed)
    rows = []
    log = OUT / f"{work.name}.log"
    with FakeTelegramThread() as fake:
        bot = start_bot(fake, index_dir, sources, log, settings)
        try:
            fake.run(wait_for_polling(fake.server, bot), timeout=None)
            prober = Prober(fake.server)
            fake.run(prober.ask_and_wait("What does the Kelbbbbox desk report?", 120), None)
            for trial in range(1, args.trials + 1):
                time.sleep(rng.uniform(0, float(REFRESH_FLOOR)))  # any phase of the schedule
                first = trial * args.articles
                articles = new_articles(CORPUS_1M, first, args.articles, args.sentences)
                with ChildWatch(bot.pid) as watch:
                    arrival = Arrival(drop_file(sources_dir, f"new-{trial}.jsonl", articles))
                    probe = probe_until_answered(
                        prober, first + args.articles // 2, args.probe_every, args.timeout, arrival
                    )
                    fake.run(probe, timeout=None)
                    arrival.load = load1()
                    time.sleep(0.5)  # the log line of the swap is written before the reply
                explain(arrival, log, watch)
                rows.append(arrival_row(trial, arrival))
                print(rows[-1], "|", arrival.summary, flush=True)
        finally:
            stop_bot(bot)
    kind = "with sentence vectors" if args.semantic else "BM25 only (NEWSBOT_SEMANTIC=off)"
    text = "\n".join(
        [
            f"Command: `python -m bench.live_at_scale {' '.join(sys.argv[1:])}`",
            "",
            f"- {kind}; `newsbot run` with NEWSBOT_REFRESH={REFRESH_FLOOR}; a change is an "
            "update (`newsbot index`: the new articles appended as a segment)",
            *[f"- {note}" for note in notes],
            f"- each trial: {args.articles:,} new articles of {args.sentences} sentences in one "
            f"new JSONL file, after a random wait of 0-{REFRESH_FLOOR} s; probe every "
            f"{args.probe_every} s; probes lost: {prober.lost}",
            "",
            "| trial | appeared -> answered s | waiting for the poll s | update child s | "
            "swap/load s | first answer s | probes | load avg 1 min |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    (OUT / f"{work.name}.md").write_text(text + "\n")
    print(text)
    return 0

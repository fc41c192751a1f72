"""Questions about time at 1M sentences: what restricting answers to a period costs.

    python -m bench.dated_questions                      # BM25 alone (bench/out/index-1m)
    python -m bench.dated_questions --semantic           # with vectors (bench/out/semantic-1m)

The 1M corpus (`python -m bench.speed` makes it) is Reuters-21578 repeated: 150,722 articles
dated January to December 1987. In a process pinned to CPU 0, `NewsIndex.ask` answers the
corpus's questions (bench/out/corpus-1m/questions.jsonl) with no period and with periods of a
day, a month and the whole year (`NewsIndex.ask(period=...)`, as `newsbot ask --since/--until`
gives them), and reports p50/p99 per period (each period's first question computes its
sentence flags, later ones reuse them), beside `NewsIndex.warm`, which reads every article's date
once per generation, as the bot does before serving it. Figures go to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.semantic_speed import percentiles, rss
from index.answers.search import NewsIndex
from index.text.timeframe import Period

OUT = Path(__file__).resolve().parent / "out"
QUESTIONS = OUT / "corpus-1m" / "questions.jsonl"
INDEXES = {False: OUT / "index-1m", True: OUT / "semantic-1m"}
PERIODS = {
    "none": None,
    "one day (1987-03-02)": (datetime(1987, 3, 2, tzinfo=UTC), datetime(1987, 3, 3, tzinfo=UTC)),
    "one month (1987-03)": (datetime(1987, 3, 1, tzinfo=UTC), datetime(1987, 4, 1, tzinfo=UTC)),
    "the year (1987)": (datetime(1987, 1, 1, tzinfo=UTC), datetime(1988, 1, 1, tzinfo=UTC)),
}


def measure(news: NewsIndex, questions: list[str], semantic: bool) -> dict[str, Any]:
    """Time `ask` per period; the first dated question separately."""
    figures: dict[str, Any] = {}
    for q in questions[:20]:  # warm-up: numba, onnxruntime, page cache
        news.ask(q, lexical_only=not semantic)
    started = time.perf_counter()
    news.warm(UTC)  # what the bot does before serving a generation: every article's date
    figures["warm_ms (reads every article's date)"] = round(
        (time.perf_counter() - started) * 1000, 1
    )
    for name, bounds in PERIODS.items():
        period = None if bounds is None else Period(*bounds, name)
        if period is not None:
            flagged = news.articles_in(period)
            figures[f"{name}: articles"] = int(flagged.sum())
        seconds, answered = [], 0
        for q in questions:
            t0 = time.perf_counter()
            found = news.ask(q, lexical_only=not semantic, period=period)
            seconds.append(time.perf_counter() - t0)
            answered += bool(found.answers)
        figures[name] = {**percentiles(seconds), "answered": answered}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semantic", action="store_true", help="with sentence vectors")
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    questions = [
        json.loads(line)["question"]
        for line in QUESTIONS.read_text().splitlines()[: args.questions]
    ]
    news = NewsIndex.load(INDEXES[args.semantic], semantic=args.semantic)
    figures = {
        "index": str(INDEXES[args.semantic]),
        "semantic": args.semantic and news.vectors is not None,
        "questions": len(questions),
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        **measure(news, questions, args.semantic),
        "rss_mb_after": rss(),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(figures, indent=1))
    name = "dated_questions_semantic.json" if args.semantic else "dated_questions.json"
    (OUT / name).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()

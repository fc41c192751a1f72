"""Leaks and bounds (issue 18): files after swaps, the analyzer's words, the time parser's CPU.

    python -m bench.leaks                       # on an index of the seeds, built in a temp folder
    python -m bench.leaks --index-dir DIR       # any index (e.g. bench/out/semantic-1m)
    python -m bench.leaks --lexical             # without the vectors and the model

Three measures, each printed as one line of JSON:

- `swaps`: the descriptors and memory maps this process holds on the index folder's files after 1
  and after 20 swaps (`Newsroom.open` loads the current generation and swaps it in, a question in
  flight over each swap, then questions that fill every cache), the cyclic garbage collector off
  so that only reference counting frees a swapped-out generation, as between the bot's collections.
- `strangers`: 1,000 messages of 4,096 characters of random words asked of the index
  (`NewsIndex.ask`, BM25 alone), after 100 to fill the caches: the analyzer's kept words
  (entries, and bytes measured with `sys.getsizeof`) and the process's RSS growth.
- `time_question`: CPU (`time.process_time`) of `index.text.timeframe.find_period` on
  4,096-character questions full of dates, p50 and max of 20 runs each.

It runs on the code it is started from, so the same command in a checkout of an older commit
measures that commit (it reads the analyzer's words from `Analyzer._cache`, as both keep them).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/leaks.py`
    sys.path.insert(0, str(ROOT))

from bot.newsroom import Newsroom  # noqa: E402
from index.answers.latest import latest  # noqa: E402
from index.answers.search import NewsIndex  # noqa: E402
from index.store.build import build_index  # noqa: E402
from index.text.timeframe import find_period  # noqa: E402

SEEDS = ROOT / "seeds"
QUESTION = "How much was trade between China and Russia in 2025?"
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
# Questions of 4,096 characters full of dates: each repeated unit is a time expression that
# dateparser must read (a future year, an impossible day, two dates, a date after "since").
TIME_QUESTIONS = {
    "in 2150": "in 2150 ",
    "on 31 February 2150": "on 31 February 2150, ",
    "between 2150 and 2160": "between 2150 and 2160 ",
    "between 1 March 2150 and 2 March 2150": "between 1 March 2150 and 2 March 2150 ",
    "since the 3rd of March 2150": "since the 3rd of March 2150 ",
}


def open_files(folder: Path) -> tuple[int, int]:
    """Return the descriptors and memory maps this process holds on files under `folder`."""
    prefix = str(folder.resolve())
    descriptors = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            descriptors += os.readlink(f"/proc/self/fd/{fd}").startswith(prefix)
        except OSError:
            continue
    with open("/proc/self/maps", encoding="utf-8") as maps:
        return descriptors, sum(prefix in line for line in maps)


async def swaps(index_dir: Path, semantic: bool, count: int = 20) -> dict[str, Any]:
    """Swap the index in `count` times, gc off; the files held after the first and the last."""
    newsroom = Newsroom([], index_dir, semantic=semantic, timezone=UTC)
    held: list[tuple[int, int]] = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            asked = asyncio.ensure_future(newsroom.ask(QUESTION, 3))
            await newsroom.open()
            await asked
            for question in ("What happened yesterday?", "Russia trade in 2025"):
                await newsroom.ask(question, 3)
            assert newsroom.index is not None
            latest(newsroom.index, "trade", now=NOW)
            newsroom.index.articles_newest_first(0, 10)
            held.append(open_files(index_dir))
    finally:
        gc.enable()
    return {
        "measure": "swaps",
        "descriptors": {"after 1": held[0][0], f"after {count}": held[-1][0]},
        "maps": {"after 1": held[0][1], f"after {count}": held[-1][1]},
    }


def random_message(rng: random.Random, size: int = 4096) -> str:
    """A stranger's message: `size` characters of random lowercase words."""
    words, length = [], 0
    while length < size:
        word = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 10)))
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


def resident_bytes() -> int:
    """Return this process's RSS."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def strangers(index_dir: Path, count: int = 1_000) -> dict[str, Any]:
    """Ask `count` random 4 KB messages; the analyzer's kept words and the RSS growth."""
    index = NewsIndex.load(index_dir, semantic=False)
    rng = random.Random(18)
    for _ in range(100):
        index.ask(random_message(rng))
    before = resident_bytes()
    started = time.process_time()
    for _ in range(count):
        index.ask(random_message(rng))
    seconds = time.process_time() - started
    words: dict[str, str | None] = index.analyzer._cache
    kept = sys.getsizeof(words) + sum(
        sys.getsizeof(k) + (sys.getsizeof(v) if v is not None else 0) for k, v in words.items()
    )
    return {
        "measure": "strangers",
        "questions": count,
        "analyzer_words": len(words),
        "analyzer_bytes": kept,
        "rss_growth_bytes": resident_bytes() - before,
        "cpu_ms_per_question": round(1000 * seconds / count, 2),
    }


def time_questions(runs: int = 20) -> list[dict[str, Any]]:
    """CPU of `find_period` on each 4,096-character question of dates, p50 and max of `runs`."""
    out = []
    for name, unit in TIME_QUESTIONS.items():
        question = (unit * 4096)[:4096]
        find_period(question, NOW)  # dateparser's first use loads its data
        cpu = []
        for _ in range(runs):
            started = time.process_time()
            find_period(question, NOW)
            cpu.append(1000 * (time.process_time() - started))
        out.append(
            {
                "measure": "time_question",
                "question": f"{name} x{len(question) // len(unit)}",
                "cpu_ms_p50": round(statistics.median(cpu), 2),
                "cpu_ms_max": round(max(cpu), 2),
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, help="an index; default: the seeds, built")
    parser.add_argument("--lexical", action="store_true", help="swaps without vectors")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir
        if index_dir is None:
            index_dir = Path(scratch) / "index"
            build_index([SEEDS], index_dir)
        results = [asyncio.run(swaps(index_dir, not args.lexical)), strangers(index_dir)]
        results += time_questions()
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

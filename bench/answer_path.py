"""The answer path around the BM25 kernel at 1M sentences (issue #20): `ask` against its `search`.

    python -m bench.answer_path inside [LABEL]        # ask k=10 vs the search inside it
    python -m bench.answer_path inside --profile      # and where ask's time goes (cProfile)
    python -m bench.answer_path outside [LABEL]       # newsbot ask --json - vs bm25s retrieve
    PYTHONPATH=OTHER python bench/answer_path.py inside before   # another checkout's code

`inside`: one process, the BM25 path (`semantic=False`, `lexical_only=True`), bench/out/index-1m
(see docs/benchmarks.md), pinned to CPU 0. Warms up on 50 questions, then times, question by
question, `NewsIndex.ask(question, k=10)` and the `search` it makes inside (`search(terms, 40)`:
`ask` asks BM25 for `max(4 * wanted, 20)` hits), on the first 400 questions of
bench/out/corpus-1m, three passes each, interleaved. Prints both medians (ms a question) and
their ratio.

`outside`: the whole `newsbot ask --json -k 10 -` process over the first 1,000 questions on
stdin (`NEWSBOT_SEMANTIC=off`, its output discarded) against a process that loads bm25s's index
of the same analyzed sentences (`bench.speed`'s bm25s build, kept in bench/out/bm25s-1m) and
calls `retrieve(k=10)` on each question's analyzed terms (numba backend); both timed from
outside as wall time, alternately, three times each, less the same process asked one question
(start-up, load and compilation out), medians and their ratio printed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
INDEX = OUT / "index-1m"
CORPUS = OUT / "corpus-1m"
BM25S = OUT / "bm25s-1m"
INSIDE_QUESTIONS = 400
OUTSIDE_QUESTIONS = 1000
K = 10
THREADS = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def questions(n: int) -> list[dict[str, object]]:
    """Return the first `n` questions of the 1M corpus (text and analyzed terms)."""
    lines = (CORPUS / "questions.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line) for line in lines]


def inside(label: str, profile: bool) -> None:
    """Time `ask` k=10 and the `search` inside it, question by question, in this process."""
    from index.search import NewsIndex

    os.sched_setaffinity(0, {0})
    news = NewsIndex.load(INDEX, semantic=False)
    news.warm()
    texts = [str(q["question"]) for q in questions(INSIDE_QUESTIONS)]
    depth = max(4 * K, 20)
    for text in texts[:50]:
        news.ask(text, k=K, lexical_only=True)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for text in texts:
            news.ask(text, k=K, lexical_only=True)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return
    asked, searched = [], []
    for _ in range(3):
        for text in texts:
            started = time.perf_counter()
            news.ask(text, k=K, lexical_only=True)
            middle = time.perf_counter()
            news.search(news.analyze(text), depth)
            asked.append(middle - started)
            searched.append(time.perf_counter() - middle)
    ask_ms, search_ms = statistics.median(asked) * 1000, statistics.median(searched) * 1000
    print(
        f"{label}: ask k={K} {ask_ms:.3f} ms, search inside {search_ms:.3f} ms, "
        f"ratio {ask_ms / search_ms:.2f}, load {os.getloadavg()[0]:.1f}"
    )


def bm25s_worker(n: int) -> None:
    """Load bm25s's 1M index and retrieve the first `n` questions' terms (a child process)."""
    import bm25s

    retriever = bm25s.BM25.load(str(BM25S), mmap=True, backend="numba")
    for q in questions(n):
        retriever.retrieve([list(q["terms"])], k=K, show_progress=False, n_threads=0)  # type: ignore[call-overload]


def ensure_bm25s() -> None:
    """Build bm25s's index of the 1M corpus's analyzed sentences once (as `bench.speed` does)."""
    if (BM25S / "params.index.json").exists():
        return
    from bench import corpus as corpora
    from bench.speed import build_engine

    BM25S.mkdir(parents=True, exist_ok=True)
    build_engine("bm25s", corpora.load("1m", OUT, refresh=False).token_lists(), BM25S)


def wall(command: list[str], stdin: bytes) -> float:
    """Run `command` with `stdin`, output discarded; return its wall seconds."""
    # The code timed is that of $PYTHONPATH (another checkout: "before"), else this one.
    code = os.environ.get("PYTHONPATH", str(ROOT))
    env = {**os.environ, **THREADS, "PYTHONPATH": code, "NEWSBOT_SEMANTIC": "off"}
    started = time.perf_counter()
    subprocess.run(command, input=stdin, stdout=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - started


def outside(label: str) -> None:
    """Time the whole `newsbot ask --json -` against bm25s's retrieve, alternately.

    Each side's figure is the wall time of a process asked 1,000 questions less that of one
    asked the first question alone: what 999 questions cost, start-up, load and compilation
    (numba's, for bm25s: seconds) left out on both sides.
    """
    ensure_bm25s()
    texts = [str(q["question"]) for q in questions(OUTSIDE_QUESTIONS)]
    ask = [sys.executable, "-m", "bot.cli", "ask", "--json", "-k", str(K)]
    ask += ["--index-dir", str(INDEX), "-"]
    retrieve = [sys.executable, str(Path(__file__).resolve()), "bm25s-worker", "--questions"]
    ours, theirs = [], []
    for _ in range(3):
        one, all_ = "".join(f"{t}\n" for t in texts[:1]), "".join(f"{t}\n" for t in texts)
        ours.append(wall(ask, all_.encode()) - wall(ask, one.encode()))
        theirs.append(wall([*retrieve, str(len(texts))], b"") - wall([*retrieve, "1"], b""))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"{label}: newsbot ask --json {a:.2f} s, bm25s retrieve {b:.2f} s "
        f"(999 questions), ratio {a / b:.2f}, "
        f"runs {[round(x, 2) for x in ours]} / {[round(x, 2) for x in theirs]}, "
        f"load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("inside", "outside", "bm25s-worker"))
    parser.add_argument("label", nargs="?", default="this checkout")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--questions", type=int, default=OUTSIDE_QUESTIONS)
    args = parser.parse_args()
    if args.mode == "inside":
        inside(args.label, args.profile)
    elif args.mode == "outside":
        outside(args.label)
    else:
        bm25s_worker(args.questions)


if __name__ == "__main__":
    main()

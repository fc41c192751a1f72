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

`outside`: the whole `newsbot ask --json -k 10 -` process over 1,000 questions (the corpus's
500 twice) on stdin (`NEWSBOT_SEMANTIC=off`, its output read and dropped) against a process that
loads bm25s's index of the same analyzed sentences (`bench.speed`'s bm25s build, kept in
bench/out/bm25s-1m) and calls `retrieve(k=10)` on each question's analyzed terms (numba
backend), printing a line each; both timed from outside, from the first answer's line to the
last (start-up, load and the first question, where numba compiles, left out), alternately,
three times each; medians and their ratio printed.
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
import threading
import time
from pathlib import Path
from typing import IO

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
    """Return `n` questions of the 1M corpus (text and analyzed terms): its 500, over again."""
    lines = (CORPUS / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(lines[i % len(lines)]) for i in range(n)]


def inside(label: str, profile: bool) -> None:
    """Time `ask` k=10 and the `search` inside it, question by question, in this process."""
    from index.answers.search import NewsIndex

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
    """Load bm25s's 1M index, retrieve the first `n` questions' terms, a line out after each."""
    import bm25s

    retriever = bm25s.BM25.load(str(BM25S), mmap=True, backend="numba")
    for q in questions(n):
        docs, _ = retriever.retrieve([list(q["terms"])], k=K, show_progress=False, n_threads=0)  # type: ignore[call-overload]
        print(json.dumps(docs[0].tolist()), flush=True)


def ensure_bm25s() -> None:
    """Build bm25s's index of the 1M corpus's analyzed sentences once (as `bench.speed` does)."""
    if (BM25S / "params.index.json").exists():
        return
    from bench import corpus as corpora
    from bench.speed import build_engine

    BM25S.mkdir(parents=True, exist_ok=True)
    build_engine("bm25s", corpora.load("1m", OUT, refresh=False).token_lists(), BM25S)


def streamed(command: list[str], stdin: bytes) -> float:
    """Run `command` with `stdin`; return the seconds from its first output line to its last.

    What the questions after the first cost, seen from outside: start-up, load and the first
    question (numba's compilation, for bm25s: seconds) are before the first line.
    """
    code = os.environ.get("PYTHONPATH", str(ROOT))  # another checkout's code: "before"
    env = {**os.environ, **THREADS, "PYTHONPATH": code, "NEWSBOT_SEMANTIC": "off"}
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert child.stdin is not None and child.stdout is not None
    feeder = threading.Thread(target=_feed, args=(child.stdin, stdin))
    feeder.start()
    first = child.stdout.readline()
    started = time.perf_counter()
    lines = 1 if first else 0
    for _ in child.stdout:
        lines += 1
    seconds = time.perf_counter() - started
    feeder.join()
    if child.wait() != 0 or lines != OUTSIDE_QUESTIONS:
        raise RuntimeError(f"{command[:3]} answered {lines} lines, exit {child.returncode}")
    return seconds


def _feed(pipe: IO[bytes], data: bytes) -> None:
    """Write `data` to a child's stdin and close it (a thread: the child's output may fill)."""
    pipe.write(data)
    pipe.close()


def outside(label: str) -> None:
    """Time the whole `newsbot ask --json -` against bm25s's retrieve, alternately (`streamed`)."""
    ensure_bm25s()
    stdin = "".join(f"{q['question']}\n" for q in questions(OUTSIDE_QUESTIONS)).encode()
    ask = [sys.executable, "-m", "bot.cli", "ask", "--json", "-k", str(K)]
    ask += ["--index-dir", str(INDEX), "-"]
    retrieve = [sys.executable, str(Path(__file__).resolve()), "bm25s-worker"]
    ours, theirs = [], []
    for _ in range(3):
        ours.append(streamed(ask, stdin))
        theirs.append(streamed(retrieve, b""))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"{label}: newsbot ask --json {a:.2f} s, bm25s retrieve {b:.2f} s "
        f"(questions 2-1000), ratio {a / b:.2f}, "
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

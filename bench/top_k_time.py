"""The BM25 kernel alone at 1M sentences, for before/after comparisons of `index.lexical.topk`.

    python -m bench.top_k_time after                      # this checkout
    cd OTHER && PYTHONPATH=OTHER python /path/to/bench/top_k_time.py before

Loads bench/out/index-1m (`python -m bench.speed` makes it) with `NewsIndex.load` (its BM25
segments), pins itself to CPU 0, warms up on 50 questions, then times `top_k(terms, 10)` on
the first 1,000 analyzed questions of bench/out/corpus-1m three times and prints p50/p99 with
the load average. Run two checkouts alternately, twice each, so both see the same machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
if not OUT.exists():  # run from another checkout: use this project's outputs
    OUT = Path("bench/out").resolve()


def main() -> None:
    from index.answers.search import NewsIndex

    os.sched_setaffinity(0, {0})
    index = NewsIndex.load(OUT / "index-1m", semantic=False).bm25
    lines = (OUT / "corpus-1m" / "questions.jsonl").read_text().splitlines()[:1000]
    questions = [json.loads(line)["terms"] for line in lines]
    for terms in questions[:50]:
        index.top_k(terms, 10)
    seconds = []
    for _ in range(3):
        for terms in questions:
            started = time.perf_counter()
            index.top_k(terms, 10)
            seconds.append(time.perf_counter() - started)
    p50, p99 = np.percentile(np.array(seconds) * 1000, [50, 99])
    label = sys.argv[1] if len(sys.argv) > 1 else "this checkout"
    print(f"{label}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

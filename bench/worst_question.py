"""The worst questions at 1M sentences: what the longest, costliest messages take to rank.

    python -m bench.worst_question                # 1M sentences (the corpus of `bench.corpus`)
    python -m bench.worst_question --size 100k    # a smaller corpus

Telegram carries at most 4,096 characters in a message, and every message in a private chat is a
question. Each kind below is a question of 4,096 characters (several seeded variants of each):

- typical: the questions of `bench.speed` (1 to 9 terms), for reference;
- the commonest words: the 4, 8, 12, 16, 24, 32 and 64 words whose terms are in the most
  sentences, each once (short, but the costliest questions per term);
- distinct common words: 4,096 characters of words drawn from the 2,000 commonest, each once;
- distinct rare words: words whose terms are in 1 to 10 sentences, each once;
- one common term repeated: one of the commonest words, over and over;
- every stopword: the analyzer's stopwords, round and round (analyzed to nothing);
- numbers: distinct numbers that are indexed, the commonest ones.

The index is built in memory from the corpus's analyzed terms (`BM25Index.from_token_ids`, a few
seconds at 1M) and questions are analyzed with the corpus's analyzer. Each question is asked once
untimed (numba's cache is loaded, pages come in), then `REPEATS` times, one thread; its time is
the median of those. Per kind: p50 and max over its questions of analysis, `BM25Index.top_k(terms,
10)` (Python and kernel), and both; the question's terms and distinct terms; and the bytes held by
the thread's kernel buffers after the kind (they never shrink). Figures go to stdout (Markdown)
and bench/out/worst_question.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/worst_question.py`
    sys.path.insert(0, str(ROOT))

from bench import corpus as corpora  # noqa: E402
from index.lexical.bm25 import BM25Index, BM25Params  # noqa: E402
from index.text.analysis import ENGLISH_STOPWORDS, Analyzer  # noqa: E402

OUT = ROOT / "bench" / "out"
MESSAGE_LIMIT = 4096  # characters in a Telegram message
K = 10
REPEATS = 5
VARIANTS = 10
TYPICAL = 200  # of the speed bench's questions
COMMONEST = (4, 8, 12, 16, 24, 32, 64)
_WORD = re.compile(r"[A-Za-z]+")


def fill(words: list[str], limit: int = MESSAGE_LIMIT) -> str:
    """Return `words` joined by spaces, cycling through them, up to `limit` characters."""
    out: list[str] = []
    size = -1
    for i in range(limit):
        word = words[i % len(words)]
        if size + 1 + len(word) > limit:
            break
        out.append(word)
        size += 1 + len(word)
    return " ".join(out)


def vocabulary_words(articles: Path, analyzer: Analyzer, index: BM25Index) -> list[tuple[str, int]]:
    """Return (word, doc freq of its term) for words of real articles, one word per term."""
    counts: Counter[str] = Counter()
    with articles.open(encoding="utf-8") as f:
        for line in f:
            counts.update(w.lower() for w in _WORD.findall(json.loads(line)["text"]))
    seen: set[str] = set()
    words = []
    for word, _ in counts.most_common():
        terms = analyzer.terms(word)
        if len(terms) != 1 or terms[0] in seen or terms[0] not in index.terms:
            continue
        seen.add(terms[0])
        words.append((word, index.doc_freq(index.terms[terms[0]])))
    return words


def question_kinds(
    corpus: corpora.Corpus, analyzer: Analyzer, index: BM25Index
) -> dict[str, list[str]]:
    """Return the questions of each kind (see the module doc)."""
    rng = random.Random(4096)
    words = vocabulary_words(corpus.folder / "articles.jsonl", analyzer, index)
    by_freq = sorted(words, key=lambda w: -w[1])
    common = [w for w, _ in by_freq[:2000]]
    rare = [w for w, df in words if df <= 10]
    numeric = [t for t in corpus.vocabulary if t[:1].isdigit() and t in index.terms]
    numeric.sort(key=lambda t: -index.doc_freq(index.terms[t]))
    stopwords = sorted(ENGLISH_STOPWORDS)

    def variants(pool: list[str]) -> list[str]:
        return [fill(rng.sample(pool, len(pool))) for _ in range(VARIANTS)]

    typical = [str(q["question"]) for q in corpus.questions[:TYPICAL]]
    return {
        "typical": typical,
        "the commonest words": [" ".join(common[:n]) for n in COMMONEST],
        "distinct common words": variants(common),
        "distinct rare words": variants(rare),
        "one common term repeated": [fill([w]) for w in common[:VARIANTS]],
        "every stopword": variants(stopwords),
        "numbers": variants(numeric[:2000]),
    }


def median_ms(call: Callable[[], object]) -> float:
    """Return the median of `REPEATS` timed calls, in milliseconds."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1e6


def buffer_bytes(index: BM25Index) -> int:
    """Return the bytes this thread's kernel buffers hold."""
    buffers = index._buffers()  # the bench looks inside on purpose
    return sum(a.nbytes for a in vars(buffers).values() if isinstance(a, np.ndarray))


def measure(index: BM25Index, analyzer: Analyzer, questions: list[str]) -> dict[str, Any]:
    """Time analysis and top-k of each question; return percentiles over the questions."""
    analyze, rank, terms, distinct = [], [], [], []
    for text in questions:
        found = analyzer.terms(text)
        index.top_k(found, K)  # warm-up
        analyze.append(median_ms(lambda text=text: analyzer.terms(text)))
        rank.append(median_ms(lambda found=found: index.top_k(found, K)))
        terms.append(len(found))
        distinct.append(len(set(found)))
    total = np.add(analyze, rank)

    def spread(values: Any) -> dict[str, float]:
        return {"p50": float(np.percentile(values, 50)), "max": float(np.max(values))}

    return {
        "questions": len(questions),
        "characters": max(len(q) for q in questions),
        "terms": spread(terms),
        "distinct terms": spread(distinct),
        "analyze_ms": spread(analyze),
        "top_k_ms": spread(rank),
        "total_ms": spread(total),
        "buffer_mb": buffer_bytes(index) / 2**20,
    }


def table(size: str, figures: dict[str, Any]) -> str:
    """Return the figures as a Markdown table."""
    lines = [
        f"**{size}**: {figures['sentences']:,} sentences; top {K}; median of {REPEATS} runs per "
        "question; p50 / max over the questions of a kind",
        "",
        "| kind | questions | chars max | distinct terms p50 / max | analyze ms | top_k ms "
        "| total ms | kernel buffers MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, f in figures["kinds"].items():
        cells = [f"{f[key]['p50']:.2f} / {f[key]['max']:.2f}" for key in _TIMES]
        lines.append(
            f"| {kind} | {f['questions']} | {f['characters']:,} "
            f"| {f['distinct terms']['p50']:.0f} / {f['distinct terms']['max']:.0f} | "
            + " | ".join(cells)
            + f" | {f['buffer_mb']:.1f} |"
        )
    return "\n".join(lines)


_TIMES = ("analyze_ms", "top_k_ms", "total_ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1m", help="corpus size: 100k or 1m (default 1m)")
    parser.add_argument("--out", type=Path, default=OUT, help="cache folder (default bench/out)")
    args = parser.parse_args()
    for name, value in {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}.items():
        os.environ.setdefault(name, value)
    corpus = corpora.load(args.size, args.out)
    print(f"[{args.size}] building the index", file=sys.stderr, flush=True)
    index = BM25Index.from_token_ids(
        corpus.vocabulary, corpus.token_ids, corpus.lengths, BM25Params()
    )
    analyzer = Analyzer()
    kinds = question_kinds(corpus, analyzer, index)
    figures: dict[str, Any] = {"sentences": index.n_docs, "kinds": {}}
    for kind, questions in kinds.items():
        print(f"[{args.size}] {kind}", file=sys.stderr, flush=True)
        figures["kinds"][kind] = measure(index, analyzer, questions)
    print(table(args.size, figures))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "worst_question.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

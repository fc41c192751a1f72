"""Standing questions against an update's new articles (`index.follow.percolate`), one core.

An index of Reuters-21578 articles is built once into `--work` (the `--articles` longest bodies
are "the update's new articles", `--base` others were there before); `--questions` standing
questions are made from the titles of further Reuters articles (lower-cased, as people type),
analyzed and embedded as `/follow` does. Then, pinned to one core with BLAS on one thread:

Seconds are given as wall time and as the process's CPU time (the machine is shared: under load
the wall time is several times the CPU time).

- compile: weighing the questions with the generation's statistics, the inverted index (once per
  generation);
- match: `Percolator.match` over the new articles' sentences: BM25 through the inverted index
  (`of_which_bm25_cpu_s`), cosines by blocks of whole articles in a matrix product reduced per
  article (`of_which_cosines_cpu_s`, `index.follow.cosine_floor`), the decision and the names
  check;
- memory: the process's peak RSS, and the Python heap's peak during match (tracemalloc).

    python -m bench.percolate                      # 10,000 questions x 1,000 articles
    python -m bench.percolate --lexical            # BM25 alone (an index without vectors)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REUTERS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "reuters21578" / "articles.jsonl"
)


def reuters_records() -> list[dict[str, object]]:
    with REUTERS.open(encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if r.get("body") and r.get("title")]


def prepare(work: Path, n_articles: int, n_base: int, semantic: bool) -> tuple[Path, list[str]]:
    """Build the index once; return its folder and the titles left for questions."""
    from index.store.build import build_index
    from index.store.build_settings import BuildSettings

    records = reuters_records()
    records.sort(key=lambda r: (-len(str(r["body"])), str(r["id"])))
    new, base, rest = (
        records[:n_articles],
        records[n_articles : n_articles + n_base],
        records[n_articles + n_base :],
    )
    index_dir = work / ("index" if semantic else "index-lexical")
    if not (index_dir / "CURRENT").exists():
        work.mkdir(parents=True, exist_ok=True)
        (work / "base.jsonl").write_text("".join(json.dumps(r) + "\n" for r in base))
        (work / "new.jsonl").write_text("".join(json.dumps(r) + "\n" for r in new))
        settings = BuildSettings(semantic=semantic)
        build_index([work / "base.jsonl"], index_dir, settings)
        build_index([work / "base.jsonl", work / "new.jsonl"], index_dir, settings, full=False)
    return index_dir, [str(r["title"]).lower() for r in rest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--base", type=int, default=1_000)
    parser.add_argument("--lexical", action="store_true", help="an index without vectors")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsbot-bench-percolate"))
    args = parser.parse_args()

    index_dir, titles = prepare(args.work, args.articles, args.base, not args.lexical)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from index.answers.policy import FUSION
    from index.answers.search import NewsIndex
    from index.follow.cosine_floor import floor_pairs
    from index.follow.percolate import Percolator, Standing, compile_questions, new_rows
    from index.follow.term_scores import bm25_scores
    from index.store.layout import load_array

    index = NewsIndex.load(index_dir, semantic=not args.lexical)
    index.warm()
    keys = load_array(index.folder, "article_keys")
    new_articles = list(range(len(keys) - args.articles, len(keys)))
    rows = new_rows(index, new_articles)
    texts = (titles * (args.questions // max(len(titles), 1) + 1))[: args.questions]
    started = time.perf_counter()
    vectors = (
        index.encoder.encode(texts)
        if index.encoder is not None and not args.lexical
        else [None] * len(texts)
    )
    embed_seconds = time.perf_counter() - started
    questions = [
        Standing(i, t, tuple(index.analyzer.terms(t)), v)
        for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
    ]
    percolator = Percolator(questions)

    started, cpu = time.perf_counter(), time.process_time()
    compile_questions(index, questions)
    compile_seconds = time.perf_counter() - started
    compile_cpu = time.process_time() - cpu
    percolator.match(index, new_articles[:10])  # compiles for this generation, warms numpy
    started, cpu = time.perf_counter(), time.process_time()
    matches = percolator.match(index, new_articles)
    match_seconds = time.perf_counter() - started
    match_cpu = time.process_time() - cpu
    tracemalloc.start()  # a second run for the heap's peak: tracing slows allocations down
    percolator.match(index, new_articles)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    compiled = compile_questions(index, questions)
    cpu = time.process_time()
    semantic = index.vectors is not None and compiled.vectors is not None
    bm25_scores(index, compiled.inverted, compiled.ideal, rows, shared=semantic)
    bm25_cpu = time.process_time() - cpu
    cpu = time.process_time()
    pairs_at_floor = 0
    if semantic:
        assert index.vectors is not None and compiled.vectors is not None
        found = floor_pairs(
            index.vectors,
            rows,
            index.archive.articles_of(rows),
            compiled.vectors,
            FUSION.min_similarity,
        )
        pairs_at_floor = len(found.position)
    cosine_cpu = time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "questions": len(questions),
        "new_articles": len(new_articles),
        "new_sentences": len(rows),
        "index_sentences": index.n_sentences,
        "semantic": index.vectors is not None,
        "embed_questions_s": round(embed_seconds, 2),
        "compile_wall_s": round(compile_seconds, 3),
        "compile_cpu_s": round(compile_cpu, 3),
        "match_wall_s": round(match_seconds, 3),
        "match_cpu_s": round(match_cpu, 3),
        "of_which_bm25_cpu_s": round(bm25_cpu, 3),
        "of_which_cosines_cpu_s": round(cosine_cpu, 3),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "sentence_question_pairs_at_cosine_floor": pairs_at_floor,
        "matches": len(matches),
        "questions_matched": len({m.standing_id for m in matches}),
        "match_heap_peak_mb": round(heap_peak / 2**20, 1),
        "max_rss_mb": round(rss, 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

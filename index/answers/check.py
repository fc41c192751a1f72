"""Check an index against the specification: rank_bm25's `BM25Okapi`, built over its sentences.

newsbot promises that its scores are rank_bm25's. `check_index` lets anyone verify that on their
own index: it analyzes every indexed sentence with the index's own analyzer, builds
`rank_bm25.BM25Okapi` over those terms with the index's parameters, makes questions from
sentences drawn at random (seeded) and asks both. newsbot answers from its postings (`top_k`,
the path the bot takes); rank_bm25 scores every sentence (`get_scores`), and its top k are the
best scores above zero, ties by row. They agree on a question when the rows are the same, in the
same order, and every score is within `TOLERANCE` of rank_bm25's.

rank_bm25 keeps a dictionary per sentence and walks all of them for every question term, so the
check costs time and memory in proportion to the index (see `newsbot check --help`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rank_bm25 import BM25Okapi

from index.answers.search import NewsIndex
from index.text.analyzing import Progress

# Relative score difference allowed: far above nothing (the scores are the same sums), far
# below any difference a ranking could notice.
TOLERANCE = 1e-9
DEFAULT_SAMPLE = 50
DEFAULT_SEED = 0
K = 10
# A question is a run of this many words (at most) of a drawn sentence.
_QUESTION_WORDS = (3, 8)


class EmptyIndexError(Exception):
    """The index holds no sentence: there is nothing to check."""


# Called as each phase starts, with its unit ("sentences", "questions") and its total; returns
# the callback that advances it.
Phases = Callable[[str, int], Progress]


@dataclass(frozen=True, slots=True)
class Ranking:
    """One engine's top k for a question: rows best first, and their scores."""

    rows: tuple[int, ...]
    scores: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        """Return the ranking as JSON-ready data."""
        return {"rows": list(self.rows), "scores": list(self.scores)}


@dataclass(frozen=True, slots=True)
class Comparison:
    """newsbot's and rank_bm25's answers to one question.

    Attributes:
        question: The question as asked.
        newsbot: newsbot's top k.
        rank_bm25: rank_bm25's top k.
        difference: Largest relative difference between newsbot's score of a row and
            rank_bm25's score of the same row, over the rows newsbot returned.
    """

    question: str
    newsbot: Ranking
    rank_bm25: Ranking
    difference: float

    @property
    def agrees(self) -> bool:
        """Same rows in the same order, and every score within `TOLERANCE`."""
        return self.newsbot.rows == self.rank_bm25.rows and self.difference <= TOLERANCE

    def to_json(self) -> dict[str, object]:
        """Return the comparison as JSON-ready data."""
        return {
            "question": self.question,
            "newsbot": self.newsbot.to_json(),
            "rank_bm25": self.rank_bm25.to_json(),
            "relative_difference": self.difference,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What a check found.

    Attributes:
        sentences: Sentences indexed (rank_bm25 was built over all of them).
        k: Rows compared per question.
        comparisons: One per question asked.
        seconds: Wall time of the whole check.
    """

    sentences: int
    k: int
    comparisons: tuple[Comparison, ...]
    seconds: float

    @property
    def agreed(self) -> int:
        """Number of questions on which both agree."""
        return sum(c.agrees for c in self.comparisons)

    @property
    def all_agree(self) -> bool:
        """Whether newsbot and rank_bm25 agree on every question."""
        return self.agreed == len(self.comparisons)

    @property
    def largest_difference(self) -> float:
        """Largest relative score difference over every question."""
        return max((c.difference for c in self.comparisons), default=0.0)

    def disagreements(self) -> list[Comparison]:
        """Return the comparisons on which newsbot and rank_bm25 differ."""
        return [c for c in self.comparisons if not c.agrees]

    def summary(self) -> str:
        """Return the one-line verdict the CLI prints."""
        return (
            f"{self.agreed:,} of {len(self.comparisons):,} questions agree with rank_bm25 "
            f"(top {self.k} rows and scores, {self.sentences:,} sentences); largest relative "
            f"score difference {self.largest_difference:.3g} (tolerance {TOLERANCE:g}); "
            f"{self.seconds:.1f} s"
        )

    def to_json(self) -> dict[str, object]:
        """Return the report as JSON-ready data."""
        return {
            "sentences": self.sentences,
            "k": self.k,
            "questions": len(self.comparisons),
            "agreed": self.agreed,
            "largest_relative_difference": self.largest_difference,
            "tolerance": TOLERANCE,
            "disagreements": [c.to_json() for c in self.disagreements()],
            "seconds": round(self.seconds, 3),
        }


def check_index(
    news: NewsIndex,
    sample: int = DEFAULT_SAMPLE,
    *,
    k: int = K,
    seed: int = DEFAULT_SEED,
    phases: Phases | None = None,
) -> CheckReport:
    """Ask `sample` questions of both newsbot and rank_bm25 built over `news`'s sentences.

    Raises:
        EmptyIndexError: The index holds no sentence.
    """
    if news.n_sentences == 0:
        raise EmptyIndexError(f"the index at {news.folder} holds no sentence")
    started = time.perf_counter()
    tick = phases("sentences", news.n_sentences) if phases else None
    okapi = oracle(news, tick)
    tick = phases("questions", sample) if phases else None
    comparisons = []
    for question in questions(news, sample, seed):
        comparisons.append(compare(news, okapi, question, k))
        if tick:
            tick(1)
    return CheckReport(
        sentences=news.n_sentences,
        k=k,
        comparisons=tuple(comparisons),
        seconds=time.perf_counter() - started,
    )


def oracle(news: NewsIndex, progress: Progress | None = None) -> BM25Okapi:
    """Return `BM25Okapi` over every live sentence of `news` (row order), analyzed by its analyzer.

    The parameters are the index's. Sentences are analyzed as rank_bm25 reads them, so their
    terms are never all held at once (only rank_bm25's own per-sentence counts are).
    """
    params = news.bm25.params
    return BM25Okapi(
        _analyzed_sentences(news, progress), k1=params.k1, b=params.b, epsilon=params.epsilon
    )


def _analyzed_sentences(news: NewsIndex, progress: Progress | None) -> Iterator[list[str]]:
    """Yield the terms of every sentence, by row, telling `progress` every 10,000."""
    step = 10_000
    for row in news.live_rows.tolist():
        yield news.analyzer.terms(news.sentence(row))
        if progress and (row + 1) % step == 0:
            progress(step)
    if progress:
        progress(news.n_sentences % step)


def questions(news: NewsIndex, sample: int, seed: int) -> list[str]:
    """Return `sample` questions: each a run of 3-8 words of a sentence drawn at random.

    Sentences are drawn without repeats while there are enough of them.
    """
    rng = random.Random(seed)
    live = news.live_rows.tolist()
    n = len(live)
    rows = rng.sample(live, sample) if sample <= n else rng.choices(live, k=sample)
    asked = []
    for row in rows:
        words = news.sentence(row).split()
        size = rng.randint(*_QUESTION_WORDS)
        start = rng.randint(0, max(len(words) - size, 0))
        asked.append(" ".join(words[start : start + size]))
    return asked


def compare(news: NewsIndex, okapi: BM25Okapi, question: str, k: int) -> Comparison:
    """Ask `question` of newsbot (its search path) and of rank_bm25, and compare the top `k`."""
    hits = news.search(question, k)
    ours = Ranking(tuple(h.sentence for h in hits), tuple(h.score for h in hits))
    # rank_bm25 saw the live sentences only: its scores put back at their rows (0 elsewhere).
    expected = np.zeros(news.bm25.n_rows, dtype=np.float64)
    expected[news.live_rows] = okapi.get_scores(news.analyzer.terms(question))
    theirs = best_positive(expected, k)
    difference = max(
        (
            relative_difference(s, float(expected[r]))
            for r, s in zip(ours.rows, ours.scores, strict=True)
        ),
        default=0.0,
    )
    return Comparison(question, ours, theirs, difference)


def best_positive(scores: npt.NDArray[np.float64], k: int) -> Ranking:
    """Return the `k` best scores above zero: score descending, then row ascending."""
    positive = np.flatnonzero(scores > 0)
    best = positive[np.lexsort((positive, -scores[positive]))[:k]]
    return Ranking(tuple(best.tolist()), tuple(scores[best].tolist()))


def relative_difference(ours: float, theirs: float) -> float:
    """Return `|ours - theirs| / max(|ours|, |theirs|)`, 0 when both are equal (0 included)."""
    if ours == theirs:
        return 0.0
    return abs(ours - theirs) / max(abs(ours), abs(theirs))

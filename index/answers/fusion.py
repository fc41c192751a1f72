"""Fusing exact BM25 with sentence-vector similarity, and deciding whether the news answers at all.

Small pure functions over the candidates of one question: the union of BM25's best sentences and
the sentence vectors' nearest ones (`NewsIndex.ask` gathers them). Each candidate carries its
rank_bm25 score and its cosine with the question; nothing here reads an index.

Three fusion rules were chosen before measuring and compared on the development questions
(`bench/quality.py --split dev --fusion ...`, docs/quality.md):

- `rrf`: reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009),
  `1 / (k + rank_bm25) + 1 / (k + rank_dense)`, with their k = 60;
- `convex`: `weight * cosine + (1 - weight) * min(coverage, 1)`, coverage being the BM25 score
  over the question's ideal score (docs/relevance.md), so both terms lie in about [0, 1];
- `dense_first`: cosine first, BM25 coverage only to break near-ties (cosines within `tie`).

RRF was chosen first (ungated dev Hit@3 0.796 against 0.760-0.791); once the bot showed a
passage cut around its best sentence, dense-first ranked best (ungated dev Hit@3 0.867 against
RRF's 0.821) and replaced it (docs/quality.md). The decision (`is_answered`) lets BM25's own
coverage floor answer, else the best cosine against the off-topic floor; a question naming
something no candidate's article mentions (`index.text.names`: "What did Xi say about Japan?") needs
stronger evidence (`Fusion.missing_similarity`, `Fusion.missing_coverage`): a missing name never
refuses on its own (issue #19), weighed on dev (docs/quality.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Rule = Literal["rrf", "convex", "dense_first"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence that may answer a question.

    Attributes:
        row: Sentence row in the index.
        bm25: rank_bm25 BM25Okapi score of the sentence for the question (0 when no term matches).
        similarity: Cosine of the sentence's vector with the question's.
    """

    row: int
    bm25: float
    similarity: float


@dataclass(frozen=True, slots=True)
class Fusion:
    """How candidates are ranked and when a question counts as answered.

    Attributes:
        rule: Which fused score orders the candidates (see the module docstring).
        weight: `convex`'s weight of the cosine (the rest goes to BM25 coverage).
        rrf_k: `rrf`'s constant k.
        tie: `dense_first`'s cosine difference below which BM25 coverage decides.
        min_similarity: Best cosine below which the question is off-topic: no answer.
        weak_similarity: Best cosine from which, when unanswered (and BM25 coverage reaches
            its own weak floor), the closest passages are still offered as weak matches.
        depth: Candidates taken from each of BM25 and the vectors.
        missing_similarity: Best cosine from which a question is answered though a name it asks
            about is missing from every candidate's article (the name finder may be wrong).
        missing_coverage: Best BM25 coverage from which the same holds.
        alone_similarity: Cosine from which a sentence sharing no scored term with the question
            counts as evidence that the news answers it (`own_similarity`).
    """

    rule: Rule = "convex"
    weight: float = 0.5
    rrf_k: float = 60.0
    tie: float = 0.02
    min_similarity: float = 0.4
    weak_similarity: float = 0.25
    depth: int = 30
    missing_similarity: float = math.inf
    missing_coverage: float = math.inf
    alone_similarity: float = 0.45


# Two answers tie when their BM25 scores differ by at most this share of the larger and their
# cosines by at most `COSINE_TIE`: the same wire story in two outlets, a sentence repeated in an
# update. The newer article then comes first (`newer_first_on_ties`).
BM25_TIE = 1e-3
COSINE_TIE = 0.005


def coverage(bm25: float, ideal: float) -> float:
    """Return `bm25 / ideal`: the idf-weighted share of the question a sentence matches.

    `ideal` is the question's ideal score (docs/relevance.md); 0 when it is not positive.
    """
    return bm25 / ideal if ideal > 0 else 0.0


def ranks(values: Sequence[float]) -> list[int]:
    """Return each value's 1-based rank, highest first; ties share the better rank."""
    ordered = sorted(values, reverse=True)
    first: dict[float, int] = {}
    for position, value in enumerate(ordered, 1):
        first.setdefault(value, position)
    return [first[v] for v in values]


def rrf_scores(candidates: Sequence[Candidate], k: float) -> list[float]:
    """Return `1 / (k + rank by bm25) + 1 / (k + rank by cosine)` for each candidate.

    A candidate with no BM25 match (score 0) gets no BM25 share: it was found by its vector alone.
    """
    by_bm25 = ranks([c.bm25 for c in candidates])
    by_cosine = ranks([c.similarity for c in candidates])
    return [
        (1 / (k + rb) if c.bm25 > 0 else 0.0) + 1 / (k + rd)
        for c, rb, rd in zip(candidates, by_bm25, by_cosine, strict=True)
    ]


def convex_score(similarity: float, covered: float, weight: float) -> float:
    """Return `weight * similarity + (1 - weight) * min(covered, 1)`.

    Coverage is capped at 1: a short sentence repeating a rare term can exceed it, and should not
    outweigh the cosine for that.
    """
    return weight * similarity + (1 - weight) * min(covered, 1.0)


def dense_first_key(similarity: float, covered: float, tie: float) -> tuple[int, float]:
    """Return a sort key: the cosine in steps of `tie`, then the BM25 coverage."""
    return (math.floor(similarity / tie), covered)


def fuse(candidates: Sequence[Candidate], ideal: float, fusion: Fusion) -> list[Candidate]:
    """Return the candidates ordered best first by `fusion.rule`; ties by row, ascending."""
    keyed: list[tuple[tuple[float, ...], Candidate]]
    if fusion.rule == "rrf":
        fused = rrf_scores(candidates, fusion.rrf_k)
        keyed = [((f,), c) for f, c in zip(fused, candidates, strict=True)]
    elif fusion.rule == "convex":
        keyed = [
            ((convex_score(c.similarity, coverage(c.bm25, ideal), fusion.weight),), c)
            for c in candidates
        ]
    else:
        keyed = [
            (dense_first_key(c.similarity, coverage(c.bm25, ideal), fusion.tie), c)
            for c in candidates
        ]
    keyed.sort(key=lambda kc: (tuple(-x for x in kc[0]), kc[1].row))
    return [c for _, c in keyed]


def with_content(
    candidates: Sequence[Candidate], says_nothing: npt.NDArray[np.bool_]
) -> list[Candidate]:
    """Return the candidates whose sentence says something of its own, in their order.

    `says_nothing` flags each sentence row that is a sign-off, dateline, credit, table row or
    fragment, or has no term beyond its headline's (`index.text.boilerplate`). Embedded as
    "title: sentence", such a line takes its headline's vector: ranked by that cosine, "Reuter"
    was the first answer to 38 of 40 questions about Reuters headlines, and "12 mths" let "Who
    won the Super Bowl?" pass the off-topic floor (docs/quality.md, "Wire text"). It may still be
    the context of a passage, never its best sentence nor evidence that the news answers.
    """
    return [c for c in candidates if not says_nothing[c.row]]


def own_similarity(candidates: Sequence[Candidate], alone: float) -> float:
    """Return the best cosine that counts as evidence that the news answers the question.

    A sentence's vector is its "title: sentence" (`index.semantic.vectors.embedding_text`): one
    sharing no scored term with the question may owe its cosine to its headline ("What is a good
    recipe for banana bread?" reached 0.354 with "The bonus was awarded to the Pillsbury
    Company." under a flour tender's headline). Its cosine counts only from `alone` (the floor
    before the names check, 0.45); one with a BM25 score counts from the usual floor. On dev it
    cost no answerable question (docs/quality.md, "Wire text").
    """
    return max(
        (c.similarity for c in candidates if c.bm25 > 0 or c.similarity >= alone), default=0.0
    )


def is_answered(
    best_similarity: float,
    best_coverage: float,
    names_mentioned: bool,
    min_coverage: float,
    fusion: Fusion,
) -> bool:
    """Decide whether the news answers the question at all.

    Args:
        best_similarity: The highest cosine of any candidate with the question.
        best_coverage: The highest BM25 coverage of any candidate (`coverage`).
        names_mentioned: Whether a candidate's article mentions every name the question asks
            about (`index.answers.policy.naming` kept some; True when it names nothing).
        min_coverage: BM25's own floor (docs/relevance.md): a sentence matching that share of
            the question answers it, whatever the cosines say.
        fusion: The cosine floors.

    Returns:
        True when BM25 alone would answer, or when the best cosine reaches `min_similarity`
        (below it the question is off-topic); with a name missing, only when the evidence is
        strong too: the best cosine reaches `missing_similarity` or the coverage
        `missing_coverage` ("What did Xi say about Japan?" of an article that never mentions
        Japan is not answered, but a name taken wrongly does not refuse a right answer).
    """
    answered = best_coverage >= min_coverage or best_similarity >= fusion.min_similarity
    if names_mentioned:
        return answered
    strong = (
        best_similarity >= fusion.missing_similarity or best_coverage >= fusion.missing_coverage
    )
    return answered and strong


def apart(rows: Sequence[int], article_of: Callable[[int], int], gap: int) -> list[int]:
    """Return `rows` (best first) without those within `gap` rows of a better one in its article.

    Passages merge hits whose windows touch; a fused ranking holds many sentences of the best
    article (the vectors find its neighbours too), and merged they grow past what the bot shows
    (900 characters), hiding the best sentence. `NewsIndex.ask` passes `gap` = its context (1):
    a hit right beside a better one adds nothing to read, while hits two rows apart still merge.
    On dev, ungated Hit@3 was 0.770 with no gap, 0.724 with gap 3 (no merging), 0.796 with gap 1
    (docs/quality.md).
    """
    kept: list[int] = []
    taken: set[tuple[int, int]] = set()  # (article, row) of every kept hit
    for row in rows:
        article = article_of(row)
        if any((article, near) in taken for near in range(row - gap, row + gap + 1)):
            continue
        kept.append(row)
        taken.add((article, row))
    return kept


def newer_first_on_ties(
    ranked: Sequence[Candidate], newness: Callable[[int], float]
) -> list[Candidate]:
    """Return `ranked` with each run of tied candidates (`BM25_TIE`, `COSINE_TIE`) newest first.

    A run is the candidates that tie with its first one; within it the order is by
    `newness(row)` (`index.store.archive.newest_first_key` of the row's article: undated ones last),
    and otherwise kept.
    """
    out: list[Candidate] = []
    start = 0
    while start < len(ranked):
        head, end = ranked[start], start + 1
        while end < len(ranked) and _ties(head, ranked[end]):
            end += 1
        run = ranked[start:end]
        out.extend(sorted(run, key=lambda c: newness(c.row), reverse=True) if len(run) > 1 else run)
        start = end
    return out


def _ties(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates score within a hair of each other, by BM25 and by cosine."""
    close_bm25 = abs(a.bm25 - b.bm25) <= BM25_TIE * max(abs(a.bm25), abs(b.bm25))
    return close_bm25 and abs(a.similarity - b.similarity) <= COSINE_TIE

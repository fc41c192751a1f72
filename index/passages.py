"""Turn scored sentences into answers: passages with context, one source each, no repeats."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class PassageSpan:
    """Sentence rows of one answer: the best hit, and the window shown around it.

    Attributes:
        best: Row of the best-scoring sentence of the passage.
        score: Its score.
        first: First row shown.
        last: Last row shown (inclusive).
        article: Article row the sentences belong to.
    """

    best: int
    score: float
    first: int
    last: int
    article: int


def assemble(
    hits: Sequence[tuple[int, float]],
    *,
    article_of: Callable[[int], int],
    article_rows: Callable[[int], tuple[int, int]],
    terms_of: Callable[[int], frozenset[str]],
    limit: int,
    context: int = 1,
    per_article: int = 2,
    duplicate_jaccard: float = 0.8,
) -> list[PassageSpan]:
    """Group hits, best first, into at most `limit` passages.

    Args:
        hits: (sentence row, score) pairs, best first.
        article_of: Sentence row -> article row.
        article_rows: Article row -> (first, last) sentence rows of that article, inclusive.
        terms_of: Sentence row -> its set of analyzed terms (for near-duplicate detection).
        limit: Most passages to return.
        context: Sentences shown on each side of a hit.
        per_article: Most passages from one article.
        duplicate_jaccard: Term-set Jaccard similarity at which two hit sentences count as
            copies of each other (syndicated text); the lower-scoring copy is dropped.

    Returns:
        Passages in the order of their best hit. A hit whose window touches or overlaps a passage
        already taken from the same article widens that passage instead of starting a new one.
    """
    spans: list[PassageSpan] = []
    kept_terms: list[frozenset[str]] = []
    for row, score in hits:
        article = article_of(row)
        lo, hi = article_rows(article)
        first, last = max(lo, row - context), min(hi, row + context)
        merged = False
        for span in spans:
            if span.article == article and first <= span.last + 1 and last >= span.first - 1:
                span.first, span.last = min(span.first, first), max(span.last, last)
                merged = True
                break
        if merged:
            continue
        if sum(1 for s in spans if s.article == article) >= per_article:
            continue
        terms = terms_of(row)
        if any(_jaccard(terms, other) >= duplicate_jaccard for other in kept_terms):
            continue
        if len(spans) >= limit:
            break
        spans.append(PassageSpan(row, score, first, last, article))
        kept_terms.append(terms)
    return spans


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a & b| / |a | b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)

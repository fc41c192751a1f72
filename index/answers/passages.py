"""Turn scored sentences into answers: passages with context, one source each, no repeats."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.lexical.sentence_terms import SentenceTerms
from index.model import Answer
from index.store.archive import Archive

# How a sentence may end; one that ends otherwise is a heading (or a label, a list item).
_CLOSING = tuple(".!?…:;\"'”’»)]")


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
    is_heading: Callable[[int], bool] = lambda row: False,
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
        is_heading: Sentence row -> whether it is a heading. A heading starts a section, and
            a passage's context stays within its best hit's section: what precedes a heading
            before the hit is left out, and so is a heading at either edge, unless it is a hit.
        context: Sentences shown on each side of a hit.
        per_article: Most passages from one article.
        duplicate_jaccard: Term-set Jaccard similarity at which two hit sentences count as
            copies of each other (syndicated text); the lower-scoring copy is dropped.

    Returns:
        Passages in the order of their best hit. A hit whose window touches or overlaps a passage
        already taken from the same article widens that passage instead of starting a new one.
    """
    spans = group(
        hits,
        article_of=article_of,
        article_rows=article_rows,
        terms_of=terms_of,
        limit=limit,
        context=context,
        per_article=per_article,
        duplicate_jaccard=duplicate_jaccard,
    )
    keep_to_sections(spans, {row for row, _ in hits}, is_heading)
    return spans


def group(
    hits: Sequence[tuple[int, float]],
    *,
    article_of: Callable[[int], int],
    article_rows: Callable[[int], tuple[int, int]],
    terms_of: Callable[[int], frozenset[str]],
    limit: int,
    context: int,
    per_article: int = 2,
    duplicate_jaccard: float = 0.8,
) -> list[PassageSpan]:
    """`assemble`'s passages before their sections are kept to (`keep_to_sections`).

    Each span's rows are then its widest window: all that `keep_to_sections` and the passage
    shown read lies within it.
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
        if any(_copies(terms, other, duplicate_jaccard) for other in kept_terms):
            continue
        if len(spans) >= limit:
            break
        spans.append(PassageSpan(row, score, first, last, article))
        kept_terms.append(terms)
    return spans


def keep_to_sections(
    spans: list[PassageSpan], hit_rows: set[int], is_heading: Callable[[int], bool]
) -> None:
    """Narrow each span's context to its best hit's section (see `assemble`); hits stay."""
    for span in spans:
        _keep_to_section(span, hit_rows, is_heading)


def answers(
    archive: Archive,
    sentence_terms: SentenceTerms,
    hits: Sequence[tuple[int, float]],
    terms: tuple[str, ...],
    page: slice,
    context: int,
    similarity: dict[int, float] | None = None,
) -> list[Answer]:
    """Turn ranked hits into the answers of `page`: each best sentence in its context.

    `hits` are (sentence row, score) pairs, best first. Passages are assembled up to
    `page.stop` (`assemble`), those before `page.start` skipped.
    `terms` are the question's known terms; `similarity` maps each hit's row to its cosine
    with the question (None: BM25 alone).
    """
    rows = [row for row, _ in hits]
    found = archive.articles_of(np.asarray(rows, dtype=np.int64)).tolist()
    article_of = dict(zip(rows, found, strict=True))
    spans = group(
        hits,
        article_of=article_of.__getitem__,
        article_rows=archive.article_rows,
        terms_of=lambda row: frozenset(sentence_terms.terms(row)),
        limit=page.stop,
        context=context,
    )
    # A span's sentences are adjacent rows: read in one piece, each row once (issue #20).
    text: dict[int, str] = {}
    for span in spans:
        read = archive.sentences(span.first, span.last)
        text.update(zip(range(span.first, span.last + 1), read, strict=True))
    keep_to_sections(spans, set(rows), lambda row: is_heading(text[row]))
    return [
        Answer(
            sentence=text[span.best],
            passage=join([text[r] for r in range(span.first, span.last + 1)]),
            score=span.score,
            article=archive.article(span.article),
            terms=terms,
            similarity=similarity[span.best] if similarity is not None else None,
        )
        for span in spans[page]
    ]


def _keep_to_section(
    span: PassageSpan, hit_rows: set[int], is_heading: Callable[[int], bool]
) -> None:
    """Narrow the context of `span` to the best hit's section (see `assemble`); hits stay."""
    for row in range(span.best, span.first, -1):
        if row - 1 in hit_rows:
            break
        if is_heading(row):
            span.first = row
            break
    while span.first < span.best and span.first not in hit_rows and is_heading(span.first):
        span.first += 1
    while span.last > span.best and span.last not in hit_rows and is_heading(span.last):
        span.last -= 1


def is_heading(sentence: str) -> bool:
    """Return whether `sentence` reads as a heading or a label: it lacks closing punctuation."""
    return not sentence.endswith(_CLOSING)


def join(sentences: Sequence[str]) -> str:
    """Join the sentences of a passage: a dash after a heading, else a space."""
    parts = [sentences[0]]
    for before, sentence in itertools.pairwise(sentences):
        parts.append(" — " if is_heading(before) else " ")
        parts.append(sentence)
    return "".join(parts)


def _copies(a: frozenset[str], b: frozenset[str], least: float) -> bool:
    """Return whether `_jaccard(a, b) >= least`, without the intersection when sizes rule it out.

    The Jaccard is at most min/max of the sizes (the shared terms are at most the smaller set,
    the union at least the larger), and rounding keeps that order: below `least` there, below
    it computed.
    """
    small, large = (len(a), len(b)) if len(a) <= len(b) else (len(b), len(a))
    if large and small / large < least:
        return False
    return _jaccard(a, b) >= least


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a & b| / |a | b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    shared = len(a & b)  # |a | b| from it: no union set built
    return shared / (len(a) + len(b) - shared)

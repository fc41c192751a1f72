"""The answer policy: when the news answers a question, with what, in which order.

One home for every decision between a question and its `Findings`: the time it names (a period
to search in, or its headlines), BM25 alone gated by coverage of the ideal score
(docs/relevance.md), BM25 fused with the sentence vectors (`index.answers.fusion`), the names it
asks about (`index.text.names`), what counts as on-topic, newest first among ties, and the
passages shown. It reads a loaded generation through `Generation` (what
`index.answers.search.NewsIndex` offers: analysis, top-k, candidates, period flags, cached article
words) and keeps nothing itself: every cache belongs to the generation it was filled from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.answers import passages
from index.answers.fusion import (
    Candidate,
    Fusion,
    apart,
    coverage,
    fuse,
    is_answered,
    newer_first_on_ties,
    own_similarity,
)
from index.lexical.sentence_terms import SentenceTerms
from index.model import Answer, Findings, Hit
from index.store.archive import Archive
from index.text.gazetteer import countries
from index.text.mentions import TOLERANT, ArticleWords, missing_names
from index.text.names import question_names
from index.text.timeframe import Period, find_period, timezone_from_env

# A question is answered only when its best sentence scores at least this share of the question's
# ideal score: the sum, over the question's terms, of each term's idf (what a sentence of average
# length holding every term once scores). Further answers need half that share. See
# docs/relevance.md for the measure and how it was chosen on the development questions.
MIN_COVERAGE = 0.5
# The floor for "the closest passages anyway", offered below MIN_COVERAGE: on the development
# questions it keeps every right answer of the unfloored ranking, paraphrases included.
WEAK_COVERAGE = 0.2
# How BM25 and the sentence vectors are fused, and the floors of the semantic "nothing relevant"
# decision: chosen on the development questions (docs/quality.md, docs/relevance.md).
# A missing name (`index.text.names`) refuses unless the best cosine reaches `missing_similarity`:
# chosen on dev's questions and their typing variants (docs/quality.md, issue #19).
FUSION = Fusion(rule="dense_first", tie=0.02, min_similarity=0.35, missing_similarity=0.65)
# What is left of a question asking only for a period ("what happened yesterday?", "any news
# this morning?") is made of these words (analyzed); it is answered with the period's headlines.
HEADLINE_WORDS = (
    "what happened happening happen news new latest anything going on stories story headlines "
    "headline events event top updates update report reports there any"
)
# Sentences of an article's lead quoted for a headline answer.
LEAD_SENTENCES = 2
# Articles of the best candidates looked at for the names a question asks about (`naming`): about
# 0.1 ms each when they mention them as written, 0.5-1 ms the first time they do not.
NAME_ARTICLES = 10

FlagArray = npt.NDArray[np.bool_]
QueryVector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Question:
    """A question after analysis.

    Attributes:
        text: As asked.
        terms: Analyzed terms, repeats kept.
        known: Those of `terms` that occur in the index.
    """

    text: str
    terms: tuple[str, ...]
    known: tuple[str, ...]


class Generation(Protocol):
    """What the policy reads of a loaded generation (`index.answers.search.NewsIndex`)."""

    archive: Archive
    says_nothing: FlagArray
    sentence_terms: SentenceTerms

    def analyze(self, text: str) -> Question:
        """The question analyzed with the generation's analyzer."""
        ...

    def ideal_score(self, question: Question) -> float:
        """The question's ideal BM25 score (docs/relevance.md)."""
        ...

    def search(
        self, question: str | Question, k: int = 10, within: FlagArray | None = None
    ) -> list[Hit]:
        """BM25's `k` best sentences, best first."""
        ...

    def embed_question(self, text: str) -> QueryVector | None:
        """The question's vector; None without vectors or an encoder."""
        ...

    def candidates(
        self, q: Question, query: QueryVector, depth: int, within: FlagArray | None = None
    ) -> list[Candidate]:
        """BM25's and the vectors' best `depth` sentences, with both scores each."""
        ...

    def sentences_in(self, period: Period) -> FlagArray:
        """A flag per sentence row: is its article from `period`."""
        ...

    def articles_in(self, period: Period) -> FlagArray:
        """A flag per article row: may it be from `period`."""
        ...

    def asks_for_headlines(self, question: str) -> bool:
        """Whether the question names no topic (`HEADLINE_WORDS` only)."""
        ...

    def words_of(self, article: int) -> ArticleWords:
        """An article's title and sentences, as names are looked up in them."""
        ...


@dataclass(frozen=True, slots=True)
class Asked:
    """How one question is to be answered: what `ask` passes down to each path.

    Attributes:
        k: Answers wanted.
        offset: Answers skipped (a later page).
        context: Sentences shown on each side of a best sentence.
        min_coverage: BM25's coverage floor; below `MIN_COVERAGE`, the closest passages.
        lexical_only: BM25 alone, though vectors exist.
        fusion: How BM25 and the vectors are fused, and the semantic floors.
    """

    k: int
    offset: int
    context: int
    min_coverage: float
    lexical_only: bool
    fusion: Fusion

    @property
    def wanted(self) -> int:
        """Answers assembled: those skipped and those shown."""
        return self.offset + self.k

    @property
    def page(self) -> slice:
        """The answers shown, of those assembled."""
        return slice(self.offset, self.offset + self.k)


def ask(
    index: Generation,
    question: str,
    how: Asked,
    period: Period | None = None,
    now: datetime | None = None,
) -> Findings:
    """Answer a question with up to `how.k` passages, skipping the first `how.offset` answers.

    With sentence vectors and an encoder (and not `lexical_only`), candidates from BM25 and
    from the vectors are ranked by `fusion` and the question is answered when
    `index.answers.fusion.is_answered` says so; otherwise BM25 alone decides by coverage (below).
    Either way, `min_coverage` below `MIN_COVERAGE` asks for the closest passages: answers
    labelled weak, with no floor but the weak one. Answers that tie are given newest first
    (`index.answers.fusion.newer_first_on_ties`).

    BM25 alone: nothing is answered when no question term is indexed or when the best
    sentence does not reach `min_coverage` of the question's ideal score; further answers
    must reach half of it. When nothing reaches the floor but the best sentence reaches
    `WEAK_COVERAGE`, the findings say that closer passages exist, to be offered as weak
    matches.

    Time: `period` restricts the answers to articles dated in it. Without one, a time
    expression in the question does (`index.text.timeframe.find_period`, read at `now`: by
    default the current time in `$NEWSBOT_TIMEZONE`), its words taken out, and a question
    left with no topic gets the period's newest headlines. When no article of that period
    answers, the question is answered as if it named no time: for a strict period
    ("yesterday") the findings say the answers are from other dates (`elsewhere`); for a
    calendar date ("in 2025"), which may be the fact's own, silently. Scores stay those of
    the whole index.
    """
    explicit, asked = period is not None, question
    if period is None:
        dated = find_period(question, now or datetime.now(timezone_from_env()))
        if dated is not None:
            period, asked = dated.period, dated.question
    if period is None:
        return _ask(index, question, how)
    within = index.sentences_in(period)
    if period.strict and index.asks_for_headlines(asked):
        return headlines(index, period, how)
    # The words of a calendar date may be in the article too ("since 1980"): tried first.
    wordings = [asked] if period.strict else list(dict.fromkeys([question, asked]))
    for wording in wordings:
        found = _ask(index, wording, how, within)
        if found.answers:
            break
    if found.answers or explicit:
        return replace(found, period=period)
    # No article of the period answers. A calendar date may be the fact's ("trade in 2025"),
    # and in an archive "last year" is the article's own: the question is answered as if it
    # named no time (its time words are evidence too). Beside a strict period's answers, the
    # findings say they are from other dates.
    found = _ask(index, question, how)
    return replace(found, period=period, elsewhere=True) if period.strict else found


def _ask(index: Generation, question: str, how: Asked, within: FlagArray | None = None) -> Findings:
    """`ask` over the sentences flagged in `within` (all when None), by BM25 or fused."""
    query = None if how.lexical_only or how.k <= 0 else index.embed_question(question)
    if query is None:
        return ask_lexical(index, question, how, within)
    return ask_semantic(index, question, query, how, within)


def ask_lexical(
    index: Generation, question: str, how: Asked, within: FlagArray | None = None
) -> Findings:
    """BM25 alone: `ask` gated by coverage of the ideal score (docs/relevance.md)."""
    min_coverage = how.min_coverage
    found = Findings((), min_coverage, weak=min_coverage < MIN_COVERAGE)
    q = index.analyze(question)
    if not q.known or how.k <= 0:
        return found
    ideal = index.ideal_score(q)
    hits = index.search(q, max(4 * how.wanted, 20), within)
    if not hits:
        return found
    if hits[0].score < min_coverage * ideal:
        closest = min_coverage > WEAK_COVERAGE and hits[0].score >= WEAK_COVERAGE * ideal
        return replace(found, closest_exist=closest)
    hits = [h for h in hits if h.score >= min_coverage / 2 * ideal]
    ranked = newer_first(index.archive, [Candidate(h.sentence, h.score, 0.0) for h in hits])
    shown = said(index, [(c.row, c.bm25) for c in ranked], how.context)
    answers = passages.answers(
        index.archive, index.sentence_terms, shown, q.known, how.page, how.context
    )
    return replace(found, answers=tuple(answers))


def said(index: Generation, hits: list[tuple[int, float]], context: int) -> list[tuple[int, float]]:
    """`hits` (row, score) with each one that says nothing of its own replaced by a neighbour.

    BM25 alone sees no title: a heading or a label matching the question's words ("Fishing")
    is lexical evidence for the sentences it introduces, so the first of those within
    `context` rows (after it, else before it) in its article answers, at its score; a hit
    with none is dropped (`index.text.boilerplate`).
    """
    says_nothing, archive = index.says_nothing, index.archive
    # The hits' flags in one look-up: a numpy scalar a hit cost more than the rest (issue #20).
    rows = np.fromiter((row for row, _ in hits), dtype=np.int64, count=len(hits))
    kept: dict[int, float] = {}
    for (hit_row, score), nothing in zip(hits, says_nothing[rows].tolist(), strict=True):
        row = hit_row
        if nothing:
            first, last = archive.article_rows(archive.article_of(row))
            near = [*range(row + 1, row + context + 1), *range(row - 1, row - context - 1, -1)]
            row = next((r for r in near if first <= r <= last and not says_nothing[r]), -1)
        if row >= 0 and row not in kept:
            kept[row] = score
    return list(kept.items())


def ask_semantic(
    index: Generation,
    question: str,
    query: QueryVector,
    how: Asked,
    within: FlagArray | None = None,
) -> Findings:
    """BM25 and sentence vectors: fused ranking, and the decision of `index.answers.fusion`."""
    fusion, min_coverage = how.fusion, how.min_coverage
    weak = min_coverage < MIN_COVERAGE
    found = Findings((), min_coverage, weak=weak, semantic=True)
    q = index.analyze(question)
    ideal = index.ideal_score(q)
    candidates = index.candidates(q, query, max(fusion.depth, 4 * how.wanted), within)
    if not candidates:
        return found
    ranked = newer_first(index.archive, fuse(candidates, ideal, fusion))
    named, missing = naming(index, question, ranked)
    judged = named or ranked  # the evidence of what would be shown
    best_similarity = max(c.similarity for c in judged)
    # BM25 coverage is evidence only from a sentence the vectors do not call unrelated: "Who
    # won the Super Bowl?" covered half its ideal score with "super computers" (cosine 0.08).
    best_coverage = coverage(
        max((c.bm25 for c in judged if c.similarity >= fusion.weak_similarity), default=0.0),
        ideal,
    )
    found = replace(
        found, best_similarity=best_similarity, best_coverage=best_coverage, missing_names=missing
    )
    # A sentence sharing no scored term with the question counts by its cosine only from
    # `alone_similarity` (its cosine may be its headline's: `index.answers.fusion.own_similarity`).
    evidence = own_similarity(judged, fusion.alone_similarity)
    if weak:
        if best_similarity < fusion.weak_similarity and not judged[0].bm25:
            return found
        shown = judged
    elif not is_answered(evidence, best_coverage, not missing, min_coverage, fusion):
        if missing and is_answered(evidence, best_coverage, True, min_coverage, fusion):
            # Refused for the missing names alone: the closest passages are shown with the
            # caveat that names them (issue #19), as the weak matches asked below the floor
            # are (the bot pages them so).
            closest = shown_passages(index, q, ranked, how, candidates)
            return replace(found, closest=tuple(closest))
        # Closest passages are offered only when both signals find something weakly related,
        # as BM25 alone offers them from WEAK_COVERAGE (docs/relevance.md).
        closest_exist = best_similarity >= fusion.weak_similarity and best_coverage >= WEAK_COVERAGE
        return replace(found, closest_exist=closest_exist)
    else:
        # Answered though a name is missing: the evidence outweighed it, and no caveat.
        found = replace(found, missing_names=())
        shown = on_topic(judged, ideal, min_coverage, fusion.min_similarity)
    answers = shown_passages(index, q, shown, how, candidates)
    return replace(found, answers=tuple(answers))


def on_topic(
    ranked: list[Candidate], ideal: float, min_coverage: float, min_similarity: float
) -> list[Candidate]:
    """Those of `ranked` that look on-topic by themselves, by cosine or by BM25."""
    return [
        c
        for c in ranked
        if c.similarity >= min_similarity or coverage(c.bm25, ideal) >= min_coverage / 2
    ]


def shown_passages(
    index: Generation,
    q: Question,
    shown: list[Candidate],
    how: Asked,
    candidates: list[Candidate],
) -> list[Answer]:
    """The passages of `shown` (best first), hits beside better ones left out (`apart`)."""
    similarity = {c.row: c.similarity for c in candidates}
    bm25 = {c.row: c.bm25 for c in candidates}
    rows = apart([c.row for c in shown], index.archive.article_of, how.context)
    hits = [(row, bm25[row]) for row in rows]
    return passages.answers(
        index.archive, index.sentence_terms, hits, q.known, how.page, how.context, similarity
    )


def naming(
    index: Generation, question: str, ranked: list[Candidate]
) -> tuple[list[Candidate], tuple[str, ...]]:
    """Return the candidates whose articles mention every name `question` asks about.

    In their order (`index.text.names`); all of them when the question names nothing. When no
    article of the first `NAME_ARTICLES` does, no candidate, and the names the best
    candidate's article misses (what the reply says it never mentions). A name one typo
    away (`index.text.names.TOLERANT`) is looked for only when no article mentions them exactly:
    the common case pays nothing for it.
    """
    names = question_names(question, countries())
    if not names:
        return ranked, ()
    named, missing = _named(index, names, ranked, tolerant=False)
    if not named and TOLERANT:
        named, missing = _named(index, names, ranked, tolerant=True)
    return named, missing


def _named(
    index: Generation, names: tuple[str, ...], ranked: list[Candidate], *, tolerant: bool
) -> tuple[list[Candidate], tuple[str, ...]]:
    """`naming` with or without the typo tolerance."""
    archive = index.archive
    missing: dict[int, tuple[str, ...]] = {}  # by article row
    named = []
    for candidate in ranked:
        article = archive.article_of(candidate.row)
        if article not in missing:
            if len(missing) == NAME_ARTICLES:
                break
            words = index.words_of(article)
            missing[article] = missing_names(names, words, countries(), tolerant=tolerant)
        if not missing[article]:
            named.append(candidate)
    return named, () if named else missing[archive.article_of(ranked[0].row)]


def newer_first(archive: Archive, ranked: list[Candidate]) -> list[Candidate]:
    """`ranked` with tied candidates newest first (`index.answers.fusion.newer_first_on_ties`)."""
    rows = np.fromiter((c.row for c in ranked), dtype=np.int64, count=len(ranked))
    keys = archive.date_keys[archive.articles_of(rows)]
    newness = dict(zip(rows.tolist(), keys.tolist(), strict=True))
    return newer_first_on_ties(ranked, newness.__getitem__)


def headlines(index: Generation, period: Period, how: Asked) -> Findings:
    """The newest articles of `period`, each answered by its lead, newest first."""
    archive, says_nothing = index.archive, index.says_nothing
    flagged = index.articles_in(period)
    newest = [a for a in archive.newest_first if flagged[a]][how.offset : how.wanted]
    answers = []
    for article in newest:
        first, last = archive.article_rows(article)
        rows = [
            r
            for r in range(first, last + 1)
            if not passages.is_heading(archive.sentence(r)) and not says_nothing[r]
        ]
        lead = rows[: max(LEAD_SENTENCES, how.context)] or [first]
        answers.append(
            Answer(
                sentence=archive.sentence(lead[0]),
                passage=passages.join([archive.sentence(r) for r in lead]),
                score=0.0,
                article=archive.article(article),
            )
        )
    return Findings(tuple(answers), 0.0, period=period, headlines=True)

"""Answer questions from an index generation: analysis, BM25 top-k, passages."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.text import boilerplate
from index.store import layout
from index.answers import passages
from index.text.analysis import Analyzer, AnalyzerSettings
from index.store.archive import Archive
from index.lexical.bm25 import term_weights
from index.caches import BoundedCache
from index.semantic.embedding import SentenceEncoder
from index.answers.fusion import (
    Candidate,
    Fusion,
    apart,
    coverage,
    fuse,
    is_answered,
    newer_first_on_ties,
    own_similarity,
    with_content,
)
from index.model import Answer, Article, Findings, Hit
from index.text.gazetteer import countries
from index.text.mentions import TOLERANT, ArticleWords, missing_names
from index.text.names import question_names
from index.lexical.segments import SegmentedBM25, load_segmented
from index.lexical.sentence_terms import SentenceTerms
from index.store.generations import IndexFormatError, current_generation, read_header
from index.text.timeframe import Period, article_spans, find_period, timezone_from_env
from index.semantic.vectors import SentenceVectors, shared_encoder
from index.semantic.vectors import embed_question as encode_question

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
# Every cache below is bounded by entries and by bytes (`index.caches`): what fills them is what
# strangers ask. Periods whose sentence flags are kept (1 byte per sentence each).
PERIOD_CACHE = 8
PERIOD_CACHE_BYTES = 64 << 20
# Articles of the best candidates looked at for the names a question asks about (`_naming`): about
# 0.1 ms each when they mention them as written, 0.5-1 ms the first time they do not.
NAME_ARTICLES = 10
# Articles whose words are kept for the names check (their text and terms: a few KB each).
ARTICLE_WORDS_CACHE = 256
ARTICLE_WORDS_CACHE_BYTES = 16 << 20
# Question vectors kept (1.5 KB each, and the question's text as the key).
QUESTION_CACHE = 64
QUESTION_CACHE_BYTES = 1 << 20
# Time zones whose article spans are kept (16 bytes per article each): the bot's, and UTC.
ZONE_CACHE = 4
ZONE_CACHE_BYTES = 1 << 30
# The analyzer's words kept while answering (index.text.analysis.Analyzer): a question's words are
# a stranger's, so fewer than a build keeps.
QUESTION_WORDS_CACHE = 65_536
QUESTION_WORDS_CACHE_BYTES = 8 << 20

FlagArray = npt.NDArray[np.bool_]
SecondsArray = npt.NDArray[np.float64]


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


class NewsIndex:
    """A loaded, read-only index generation that answers questions; safe from several threads.

    Ranking lives here (analyze, search, ask); the sentences and articles it quotes are read from
    its `archive` (`index.store.archive`), the postings from its `bm25` index (`index.lexical.bm25`).

    Attributes:
        folder: The generation folder.
        header: The generation's `index.json`.
        analyzer: The analyzer the index was built with.
        bm25: The BM25 postings and statistics.
        archive: The sentences and articles.
    """

    def __init__(
        self,
        folder: Path,
        header: dict[str, Any],
        bm25: SegmentedBM25,
        archive: Archive,
        vectors: SentenceVectors | None = None,
        encoder: SentenceEncoder | None = None,
        says_nothing: FlagArray | None = None,
        sentence_terms: SentenceTerms | None = None,
    ) -> None:
        self.folder = folder
        self.header = header
        self.analyzer = Analyzer(
            AnalyzerSettings(**header["analyzer"]),
            cache_entries=QUESTION_WORDS_CACHE,
            cache_bytes=QUESTION_WORDS_CACHE_BYTES,
        )
        self.bm25 = bm25
        self.archive = archive
        self.vectors = vectors
        self.encoder = encoder
        # A hit's terms are read from the stored tokens (`index.lexical.sentence_terms`).
        if sentence_terms is None:
            names = [entry["name"] for entry in header["segments"]]
            sentence_terms = SentenceTerms(folder, names, bm25)
        self.sentence_terms = sentence_terms
        n = bm25.n_docs
        # What an absent term would weigh (df = 0): the ideal score's share for unknown words.
        self._unknown_idf = math.log(n + 0.5) - math.log(0.5) if n else 0.0
        self._headline_terms = frozenset(self.analyzer.terms(HEADLINE_WORDS))
        # Caches hold values only, never a bound method of `self`: such a cycle kept a swapped-out
        # generation's files open until a full garbage collection (`index.caches`).
        self._embedded: BoundedCache[str, npt.NDArray[np.float32]] = BoundedCache(
            QUESTION_CACHE, QUESTION_CACHE_BYTES, _keyed_array_bytes
        )
        self._sentences_between: BoundedCache[tuple[datetime, datetime], FlagArray] = BoundedCache(
            PERIOD_CACHE, PERIOD_CACHE_BYTES, _array_bytes
        )
        # What the articles of recent answers say, their terms analyzed once (`_naming`).
        self._article_words: BoundedCache[int, ArticleWords] = BoundedCache(
            ARTICLE_WORDS_CACHE, ARTICLE_WORDS_CACHE_BYTES, _article_words_bytes
        )
        # Rows that are never an answer's best sentence (`index.text.boilerplate`), and the live rows
        # that may be: the vectors rank only those.
        self.says_nothing = (
            says_nothing if says_nothing is not None else np.zeros(bm25.n_rows, dtype=bool)
        )
        live = archive.live_sentences
        self._rankable = ~self.says_nothing if live is None else live & ~self.says_nothing
        # By the zone's name: `datetime.UTC` and `ZoneInfo("UTC")` are one zone, not two.
        self._spans_by_zone: BoundedCache[str, tuple[SecondsArray, SecondsArray]] = BoundedCache(
            ZONE_CACHE, ZONE_CACHE_BYTES, _spans_bytes
        )

    @classmethod
    def load(cls, index_dir: Path, *, semantic: bool = True) -> NewsIndex:
        """Load the current generation of `index_dir`, checking every file first.

        With `semantic`, the generation's sentence vectors and the process's encoder are attached
        (`index.semantic.vectors.shared_encoder`: loaded once per process). A generation without vectors,
        or a model that cannot load (logged once), leaves BM25 alone to answer.

        Raises:
            index.store.generations.IndexMissingError: Nothing was built there yet.
            index.store.generations.IndexFormatError: The index is damaged or of another format version.
        """
        folder = current_generation(index_dir)
        header = read_header(folder)
        try:
            layout.verify_files(folder, header["files"])
            archive = Archive.load(folder)
            bm25 = load_segmented(folder, header, archive.live_sentences)
            counts = header["counts"]
            layout.check_count("sentences (sentence_offsets.npy)", archive.n_sentences, bm25.n_rows)
            layout.check_count("sentences (live)", archive.n_live_sentences, counts["sentences"])
            layout.check_count("sentences (doc_len.npy)", bm25.n_docs, counts["sentences"])
            layout.check_count("articles (live)", archive.n_live_articles, counts["articles"])
            vectors = SentenceVectors.load(folder) if semantic else None
            if vectors is not None:
                layout.check_count("sentences (vector_scales.npy)", vectors.n_rows, bm25.n_rows)
            encoder = shared_encoder() if vectors is not None else None
            says_nothing = boilerplate.load_flags(folder, bm25.n_rows)
            terms = SentenceTerms(folder, [entry["name"] for entry in header["segments"]], bm25)
            index = cls(folder, header, bm25, archive, vectors, encoder, says_nothing, terms)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(
                f"index at {folder} is damaged ({exc}); run `newsbot index` to rebuild it"
            ) from None
        return index

    def warm(self, zone: tzinfo | None = None) -> None:
        """Do once what the first questions would: compile the kernel, date every article.

        The kernel is compiled for each segment's array types (0.4 s each the first time in a
        process); the dates of 150,722 articles take about 0.3 s (docs/live.md); the countries'
        names (`index.text.names`) about 0.03 s, once a process. A server calls this after loading a
        generation, before swapping it in.
        """
        self.bm25.warm()
        self.sentence_terms.warm()
        self._article_spans(zone)
        self.archive.newest_first  # noqa: B018  (the dates' sort keys, computed once)
        countries()

    def embed_question(self, text: str) -> npt.NDArray[np.float32] | None:
        """Return a question's unit float32 vector; None without an encoder or vectors.

        The last few are kept: a question about a time may be asked in two wordings (`ask`), and
        paging re-asks it.
        """
        if self.encoder is None or self.vectors is None:
            return None
        return self._embedded.get(text, lambda: self._embed(text))

    def _embed(self, text: str) -> npt.NDArray[np.float32]:
        """`embed_question`, computed (kept by `embed_question`)."""
        assert self.encoder is not None
        vector = encode_question(self.encoder, text)
        vector.flags.writeable = False  # shared by every caller of the cache
        return vector

    @property
    def n_sentences(self) -> int:
        """Number of indexed sentences (those of removed articles not counted)."""
        return self.bm25.n_docs

    @property
    def n_articles(self) -> int:
        """Number of indexed articles (removed ones not counted)."""
        return self.archive.n_live_articles

    @functools.cached_property
    def live_rows(self) -> npt.NDArray[np.int64]:
        """The rows of the sentences not removed, ascending."""
        live = self.archive.live_sentences
        return np.arange(self.bm25.n_rows) if live is None else np.flatnonzero(live)

    def sentence(self, row: int) -> str:
        """Return the text of sentence `row`."""
        return self.archive.sentence(row)

    def article(self, row: int) -> Article:
        """Return the metadata of article `row` (its `text` is empty)."""
        return self.archive.article(row)

    def article_of(self, row: int) -> int:
        """Return the article row of sentence `row`."""
        return self.archive.article_of(row)

    def article_rows(self, article: int) -> tuple[int, int]:
        """Return the first and last sentence rows of `article`, inclusive."""
        return self.archive.article_rows(article)

    def articles_newest_first(self, offset: int = 0, limit: int = 10) -> list[Article]:
        """Return a page of indexed articles, newest first (undated ones last)."""
        return self.archive.articles_newest_first(offset, limit)

    def analyze(self, text: str) -> Question:
        """Analyze a question with the index's own analyzer."""
        terms = tuple(self.analyzer.terms(text))
        known = tuple(t for t in terms if t in self.bm25.terms)
        return Question(text, terms, known)

    def ideal_score(self, question: Question) -> float:
        """Return the score of an average-length sentence holding each scored question term once.

        The terms are those BM25 actually scores: every unknown term (at the idf of a term no
        sentence holds), and of the known ones only the `index.lexical.topk_query.MAX_QUERY_TERMS`
        rarest distinct terms (`index.lexical.topk_query.rarest_terms`), repeats kept. Counting the
        dropped common terms would hold a long, headline-like question to a share of its ideal that
        no sentence can reach.
        """
        bm25 = self.bm25
        scored = bm25.rarest(bm25.query_terms(question.terms))
        unknown = sum(1 for t in question.terms if t not in bm25.terms)
        return unknown * self._unknown_idf + sum(float(bm25.idf[t]) for t in scored)

    def search(
        self, question: str | Question, k: int = 10, within: FlagArray | None = None
    ) -> list[Hit]:
        """Return the `k` best-scoring sentences (score above zero), best first.

        With `within` (a flag per sentence row, removed articles' rows unflagged, as
        `sentences_in` gives them), only flagged sentences are returned.
        """
        q = question if isinstance(question, Question) else self.analyze(question)
        rows, scores = self.bm25.top_k(q.known, k, within)
        return [Hit(int(r), float(s)) for r, s in zip(rows, scores, strict=True)]

    def ask(
        self,
        question: str,
        k: int = 3,
        *,
        offset: int = 0,
        context: int = 1,
        min_coverage: float = MIN_COVERAGE,
        lexical_only: bool = False,
        fusion: Fusion = FUSION,
        period: Period | None = None,
        now: datetime | None = None,
    ) -> Findings:
        """Answer a question with up to `k` passages, skipping the first `offset` answers.

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
            return self._ask(question, k, offset, context, min_coverage, lexical_only, fusion)
        within = self.sentences_in(period)
        if period.strict and self.asks_for_headlines(asked):
            return self._headlines(period, k, offset, context)
        # The words of a calendar date may be in the article too ("since 1980"): tried first.
        wordings = [asked] if period.strict else list(dict.fromkeys([question, asked]))
        for wording in wordings:
            found = self._ask(
                wording, k, offset, context, min_coverage, lexical_only, fusion, within
            )
            if found.answers:
                break
        if found.answers or explicit:
            return replace(found, period=period)
        # No article of the period answers. A calendar date may be the fact's ("trade in 2025"),
        # and in an archive "last year" is the article's own: the question is answered as if it
        # named no time (its time words are evidence too). Beside a strict period's answers, the
        # findings say they are from other dates.
        found = self._ask(question, k, offset, context, min_coverage, lexical_only, fusion)
        return replace(found, period=period, elsewhere=True) if period.strict else found

    def _ask(
        self,
        question: str,
        k: int,
        offset: int,
        context: int,
        min_coverage: float,
        lexical_only: bool,
        fusion: Fusion,
        within: FlagArray | None = None,
    ) -> Findings:
        """`ask` over the sentences flagged in `within` (all when None), by BM25 or fused."""
        query = None if lexical_only or k <= 0 else self.embed_question(question)
        if query is None or self.vectors is None:
            return self._ask_lexical(question, k, offset, context, min_coverage, within)
        return self._ask_semantic(question, query, k, offset, context, min_coverage, fusion, within)

    def _ask_lexical(
        self,
        question: str,
        k: int,
        offset: int,
        context: int,
        min_coverage: float,
        within: FlagArray | None = None,
    ) -> Findings:
        """BM25 alone: `ask` gated by coverage of the ideal score (docs/relevance.md)."""
        found = Findings((), min_coverage, weak=min_coverage < MIN_COVERAGE)
        q = self.analyze(question)
        if not q.known or k <= 0:
            return found
        ideal = self.ideal_score(q)
        wanted = offset + k
        hits = self.search(q, max(4 * wanted, 20), within)
        if not hits:
            return found
        if hits[0].score < min_coverage * ideal:
            closest = min_coverage > WEAK_COVERAGE and hits[0].score >= WEAK_COVERAGE * ideal
            return replace(found, closest_exist=closest)
        hits = [h for h in hits if h.score >= min_coverage / 2 * ideal]
        ranked = self._newer_first([Candidate(h.sentence, h.score, 0.0) for h in hits])
        hits = self._said([Hit(c.row, c.bm25) for c in ranked], context)
        return replace(found, answers=tuple(self._passages(q, hits, offset, wanted, context)))

    def _said(self, hits: list[Hit], context: int) -> list[Hit]:
        """`hits` with each one that says nothing of its own replaced by a neighbour that does.

        BM25 alone sees no title: a heading or a label matching the question's words ("Fishing")
        is lexical evidence for the sentences it introduces, so the first of those within
        `context` rows (after it, else before it) in its article answers, at its score; a hit
        with none is dropped (`index.text.boilerplate`).
        """
        said: dict[int, Hit] = {}
        for hit in hits:
            row = hit.sentence
            if self.says_nothing[row]:
                first, last = self.archive.article_rows(self.archive.article_of(row))
                near = [*range(row + 1, row + context + 1), *range(row - 1, row - context - 1, -1)]
                row = next((r for r in near if first <= r <= last and not self.says_nothing[r]), -1)
            if row >= 0 and row not in said:
                said[row] = Hit(row, hit.score)
        return list(said.values())

    def _ask_semantic(
        self,
        question: str,
        query: npt.NDArray[np.float32],
        k: int,
        offset: int,
        context: int,
        min_coverage: float,
        fusion: Fusion,
        within: FlagArray | None = None,
    ) -> Findings:
        """BM25 and sentence vectors: fused ranking, and the decision of `index.answers.fusion`."""
        weak = min_coverage < MIN_COVERAGE
        found = Findings((), min_coverage, weak=weak, semantic=True)
        q = self.analyze(question)
        ideal = self.ideal_score(q)
        wanted = offset + k
        candidates = self._candidates(q, query, max(fusion.depth, 4 * wanted), within)
        if not candidates:
            return found
        ranked = self._newer_first(fuse(candidates, ideal, fusion))
        named, missing = self._naming(question, ranked)
        judged = named or ranked  # the evidence of what would be shown
        best_similarity = max(c.similarity for c in judged)
        # BM25 coverage is evidence only from a sentence the vectors do not call unrelated: "Who
        # won the Super Bowl?" covered half its ideal score with "super computers" (cosine 0.08).
        best_coverage = coverage(
            max((c.bm25 for c in judged if c.similarity >= fusion.weak_similarity), default=0.0),
            ideal,
        )
        found = replace(
            found,
            best_similarity=best_similarity,
            best_coverage=best_coverage,
            missing_names=missing,
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
                closest = self._shown(q, ranked, offset, wanted, context, candidates)
                return replace(found, closest=tuple(closest))
            # Closest passages are offered only when both signals find something weakly related,
            # as BM25 alone offers them from WEAK_COVERAGE (docs/relevance.md).
            closest_exist = (
                best_similarity >= fusion.weak_similarity and best_coverage >= WEAK_COVERAGE
            )
            return replace(found, closest_exist=closest_exist)
        else:
            # Answered though a name is missing: the evidence outweighed it, and no caveat.
            found = replace(found, missing_names=())
            shown = self._on_topic(judged, ideal, min_coverage, fusion.min_similarity)
        answers = self._shown(q, shown, offset, wanted, context, candidates)
        return replace(found, answers=tuple(answers))

    @staticmethod
    def _on_topic(
        ranked: list[Candidate], ideal: float, min_coverage: float, min_similarity: float
    ) -> list[Candidate]:
        """Those of `ranked` that look on-topic by themselves, by cosine or by BM25."""
        return [
            c
            for c in ranked
            if c.similarity >= min_similarity or coverage(c.bm25, ideal) >= min_coverage / 2
        ]

    def _shown(
        self,
        q: Question,
        shown: list[Candidate],
        offset: int,
        wanted: int,
        context: int,
        candidates: list[Candidate],
    ) -> list[Answer]:
        """The passages of `shown` (best first), hits beside better ones left out (`apart`)."""
        similarity = {c.row: c.similarity for c in candidates}
        bm25 = {c.row: c.bm25 for c in candidates}
        rows = apart([c.row for c in shown], self.archive.article_of, context)
        hits = [Hit(row, bm25[row]) for row in rows]
        return self._passages(q, hits, offset, wanted, context, similarity)

    def _candidates(
        self,
        q: Question,
        query: npt.NDArray[np.float32],
        depth: int,
        within: FlagArray | None = None,
    ) -> list[Candidate]:
        """The union of BM25's and the vectors' best `depth` sentences, with both scores each.

        Sentences that say nothing of their own (`index.answers.fusion.with_content`) are left out: the
        vectors do not rank them, and BM25's are dropped.
        """
        assert self.vectors is not None
        bm25_rows, bm25_scores = self.bm25.top_k(q.known, depth, within)
        dense_rows, _ = self.vectors.top_k(query, depth, within=self._rankable_within(within))
        scores = dict(zip(bm25_rows.tolist(), bm25_scores.tolist(), strict=True))
        rows = list(dict.fromkeys([*bm25_rows.tolist(), *dense_rows.tolist()]))
        if not rows:
            return []
        cosines = self.vectors.similarities(query, np.asarray(rows, dtype=np.int64))
        term_ids = self.bm25.rarest(self.bm25.query_terms(q.known))
        candidates = [
            Candidate(row, scores[row] if row in scores else self._bm25_of(row, term_ids), float(c))
            for row, c in zip(rows, cosines.tolist(), strict=True)
        ]
        return with_content(candidates, self.says_nothing)

    def _bm25_of(self, row: int, term_ids: list[int]) -> float:
        """Return rank_bm25's score of sentence `row` for the scored query terms `term_ids`.

        For sentences the vectors found but BM25's top did not hold; summed term by term in query
        order with `index.lexical.bm25.term_weights`, as rank_bm25's `get_scores` does.
        """
        bm25 = self.bm25
        if not term_ids:
            return 0.0
        counts = Counter(self.sentence_terms.terms(row))
        doc_len = np.asarray([bm25.doc_len[row]])
        total = 0.0
        for term in term_ids:
            tf = counts.get(bm25.vocabulary[term], 0)
            if tf:
                weight = term_weights(
                    np.asarray([tf]),
                    doc_len,
                    bm25.avgdl,
                    float(bm25.idf[term]),
                    bm25.params.k1,
                    bm25.params.b,
                )
                total += float(weight[0])
        return total

    def _rankable_within(self, within: FlagArray | None) -> FlagArray:
        """Return the rows the vectors rank: live, saying something, and flagged in `within`.

        `within` flags live rows only (`sentences_in`).
        """
        return self._rankable if within is None else within & ~self.says_nothing

    def _naming(
        self, question: str, ranked: list[Candidate]
    ) -> tuple[list[Candidate], tuple[str, ...]]:
        """Return the candidates whose articles mention every name `question` asks about.

        In their order (`index.text.names`); all of them when the question names nothing. When no
        article of the first `NAME_ARTICLES` does, no candidate, and the names the best
        candidate's article misses (what the reply says it never mentions). A name one typo
        away (`index.text.mentions.TOLERANT`) is looked for only when no article mentions them
        exactly: the common case pays nothing for it.
        """
        names = question_names(question, countries())
        if not names:
            return ranked, ()
        named, missing = self._named(names, ranked, tolerant=False)
        if not named and TOLERANT:
            named, missing = self._named(names, ranked, tolerant=True)
        return named, missing

    def _named(
        self, names: tuple[str, ...], ranked: list[Candidate], *, tolerant: bool
    ) -> tuple[list[Candidate], tuple[str, ...]]:
        """`_naming` with or without the typo tolerance."""
        missing: dict[int, tuple[str, ...]] = {}  # by article row
        named = []
        for candidate in ranked:
            article = self.archive.article_of(candidate.row)
            if article not in missing:
                if len(missing) == NAME_ARTICLES:
                    break
                words = self._words_of(article)
                missing[article] = missing_names(names, words, countries(), tolerant=tolerant)
            if not missing[article]:
                named.append(candidate)
        return named, () if named else missing[self.archive.article_of(ranked[0].row)]

    def _words_of(self, article: int) -> ArticleWords:
        """Return article row `article`'s words, kept for the next questions."""
        return self._article_words.get(article, lambda: self._read_article_words(article))

    def _read_article_words(self, article: int) -> ArticleWords:
        """Return article row `article`'s title and sentences, as names are looked up in them."""
        first, last = self.archive.article_rows(article)
        text = "\n".join(
            [self.archive.article(article).title]
            + [self.archive.sentence(r) for r in range(first, last + 1)]
        )
        return ArticleWords(text, self.analyzer)

    def _newer_first(self, ranked: list[Candidate]) -> list[Candidate]:
        """`ranked` with tied candidates newest first (`index.answers.fusion.newer_first_on_ties`)."""
        rows = np.fromiter((c.row for c in ranked), dtype=np.int64, count=len(ranked))
        keys = self.archive.date_keys[self.archive.articles_of(rows)]
        newness = dict(zip(rows.tolist(), keys.tolist(), strict=True))
        return newer_first_on_ties(ranked, newness.__getitem__)

    def articles_in(self, period: Period) -> FlagArray:
        """Return a flag per article row: may it be from `period` (`Period.holds`)."""
        starts, ends = self._article_spans(period.start.tzinfo)
        return self.archive.live(period.holds(starts, ends))

    def _article_spans(self, zone: tzinfo | None) -> tuple[SecondsArray, SecondsArray]:
        """Each article's date as a span of POSIX seconds in `zone` (`index.text.timeframe`)."""
        return self._spans_by_zone.get(str(zone), lambda: article_spans(self.archive.dates, zone))

    def sentences_in(self, period: Period) -> FlagArray:
        """Return a flag per sentence row: is its article from `period` (cached per period)."""
        start, end = period.start, period.end
        return self._sentences_between.get((start, end), lambda: self._flag_sentences(start, end))

    def _flag_sentences(self, start: datetime, end: datetime) -> FlagArray:
        """`sentences_in`, computed."""
        return self.archive.sentences_of(self.articles_in(Period(start, end, "")))

    def asks_for_headlines(self, question: str) -> bool:
        """Whether a question, its time words taken out, names no topic ("what happened?")."""
        return set(self.analyzer.terms(question)) <= self._headline_terms

    def _headlines(self, period: Period, k: int, offset: int, context: int) -> Findings:
        """The newest articles of `period`, each answered by its lead, newest first."""
        flagged = self.articles_in(period)
        newest = [a for a in self.archive.newest_first if flagged[a]][offset : offset + k]
        answers = []
        for article in newest:
            first, last = self.article_rows(article)
            rows = [
                r
                for r in range(first, last + 1)
                if not passages.is_heading(self.sentence(r)) and not self.says_nothing[r]
            ]
            lead = rows[: max(LEAD_SENTENCES, context)] or [first]
            answers.append(
                Answer(
                    sentence=self.sentence(lead[0]),
                    passage=passages.join([self.sentence(r) for r in lead]),
                    score=0.0,
                    article=self.article(article),
                )
            )
        return Findings(tuple(answers), 0.0, period=period, headlines=True)

    def _passages(
        self,
        q: Question,
        hits: list[Hit],
        offset: int,
        wanted: int,
        context: int,
        similarity: dict[int, float] | None = None,
    ) -> list[Answer]:
        """Turn ranked hits into answers `offset` to `wanted`: each best sentence in context.

        `similarity` maps each hit's row to its cosine with the question (None: BM25 alone).
        """
        archive = self.archive
        # Each sentence is read once a question: the assembly looks at a row up to three times.
        read: dict[int, str] = {}

        def sentence(row: int) -> str:
            text = read.get(row)
            if text is None:
                text = read[row] = archive.sentence(row)
            return text

        rows = np.fromiter((h.sentence for h in hits), dtype=np.int64, count=len(hits))
        article_of = dict(zip(rows.tolist(), archive.articles_of(rows).tolist(), strict=True))
        spans = passages.assemble(
            [(h.sentence, h.score) for h in hits],
            article_of=article_of.__getitem__,
            article_rows=archive.article_rows,
            terms_of=lambda row: frozenset(self.sentence_terms.terms(row)),
            is_heading=lambda row: passages.is_heading(sentence(row)),
            limit=wanted,
            context=context,
        )
        return [
            Answer(
                sentence=sentence(span.best),
                passage=passages.join([sentence(r) for r in range(span.first, span.last + 1)]),
                score=span.score,
                article=archive.article(span.article),
                terms=q.known,
                similarity=similarity[span.best] if similarity is not None else None,
            )
            for span in spans[offset:wanted]
        ]


def _array_bytes(key: object, value: npt.NDArray[Any]) -> int:
    """What a kept array takes (`BoundedCache`'s weight)."""
    return value.nbytes + 200


def _keyed_array_bytes(key: str, value: npt.NDArray[Any]) -> int:
    """What a kept question vector takes, its question's text included."""
    return len(key) + value.nbytes + 200


def _spans_bytes(key: str, value: tuple[SecondsArray, SecondsArray]) -> int:
    """What a zone's article spans take."""
    return value[0].nbytes + value[1].nbytes + 200


def _article_words_bytes(key: int, value: ArticleWords) -> int:
    """About what an article's words take: its text, then its analyzed terms (`ArticleWords`)."""
    return 4 * len(value.text) + 1024

"""A loaded index generation: its files checked and mapped, its rows read, its top-k asked.

`NewsIndex` is the facade the CLI, the bot and the tools hold: it loads a generation (BM25
segments, archive, sentence vectors and the encoder, the sentences flagged as saying nothing),
gives its sentences and articles by row, analyzes a question, asks BM25's and the vectors' top-k,
and keeps what questions fill (`index.answers.question_caches`). Whether and with what a
question is answered is the answer policy's, in one place: `NewsIndex.ask` calls
`index.answers.policy.ask`.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.answers import policy
from index.answers.fusion import Candidate, Fusion, with_content
from index.answers.policy import (
    FUSION,
    HEADLINE_WORDS,
    MIN_COVERAGE,
    Asked,
    FlagArray,
    QueryVector,
    Question,
)
from index.answers.question_caches import (
    ARTICLE_WORDS_CACHE,
    ARTICLE_WORDS_CACHE_BYTES,
    PERIOD_CACHE,
    PERIOD_CACHE_BYTES,
    QUESTION_CACHE,
    QUESTION_CACHE_BYTES,
    QUESTION_WORDS_CACHE,
    QUESTION_WORDS_CACHE_BYTES,
    ZONE_CACHE,
    ZONE_CACHE_BYTES,
    SecondsArray,
    array_bytes,
    article_words_bytes,
    keyed_array_bytes,
    spans_bytes,
)
from index.caches import BoundedCache
from index.lexical.bm25 import term_weights
from index.lexical.segments import SegmentedBM25, load_segmented
from index.lexical.sentence_terms import SentenceTerms
from index.model import Article, Findings, Hit
from index.semantic.embedding import SentenceEncoder
from index.semantic.vectors import SentenceVectors, shared_encoder
from index.semantic.vectors import embed_question as encode_question
from index.store import layout
from index.store.archive import Archive
from index.store.generations import IndexFormatError, current_generation, read_header
from index.text import boilerplate
from index.text.analysis import Analyzer, AnalyzerSettings
from index.text.gazetteer import countries
from index.text.mentions import ArticleWords
from index.text.timeframe import Period, article_spans


class NewsIndex:
    """A loaded, read-only index generation that answers questions; safe from several threads.

    Retrieval lives here (analyze, search, candidates), the answer policy in `index.answers.policy`
    (`ask` calls it); the sentences and articles it quotes are read from its `archive`
    (`index.store.archive`), the postings from its `bm25` index (`index.lexical.bm25`).

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
        self._embedded: BoundedCache[str, QueryVector] = BoundedCache(
            QUESTION_CACHE, QUESTION_CACHE_BYTES, keyed_array_bytes
        )
        self._sentences_between: BoundedCache[tuple[datetime, datetime], FlagArray] = BoundedCache(
            PERIOD_CACHE, PERIOD_CACHE_BYTES, array_bytes
        )
        # What the articles of recent answers say, their terms analyzed once (`words_of`).
        self._article_words: BoundedCache[int, ArticleWords] = BoundedCache(
            ARTICLE_WORDS_CACHE, ARTICLE_WORDS_CACHE_BYTES, article_words_bytes
        )
        # Rows that are never an answer's best sentence (`index.text.boilerplate`), and the live
        # rows that may be: the vectors rank only those.
        self.says_nothing = (
            says_nothing if says_nothing is not None else np.zeros(bm25.n_rows, dtype=bool)
        )
        live = archive.live_sentences
        self._rankable = ~self.says_nothing if live is None else live & ~self.says_nothing
        # By the zone's name: `datetime.UTC` and `ZoneInfo("UTC")` are one zone, not two.
        self._spans_by_zone: BoundedCache[str, tuple[SecondsArray, SecondsArray]] = BoundedCache(
            ZONE_CACHE, ZONE_CACHE_BYTES, spans_bytes
        )

    @classmethod
    def load(cls, index_dir: Path, *, semantic: bool = True) -> NewsIndex:
        """Load the current generation of `index_dir`, checking every file first.

        With `semantic`, the generation's sentence vectors and the process's encoder are attached
        (`index.semantic.vectors.shared_encoder`: loaded once per process). A generation without
        vectors, or a model that cannot load (logged once), leaves BM25 alone to answer.

        Raises:
            index.store.generations.IndexMissingError: Nothing was built there yet.
            index.store.generations.IndexFormatError: The index is damaged or of another format
                version.
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

    def embed_question(self, text: str) -> QueryVector | None:
        """Return a question's unit float32 vector; None without an encoder or vectors.

        The last few are kept: a question about a time may be asked in two wordings (`ask`), and
        paging re-asks it.
        """
        if self.encoder is None or self.vectors is None:
            return None
        return self._embedded.get(text, lambda: self._embed(text))

    def _embed(self, text: str) -> QueryVector:
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

    def candidates(
        self, q: Question, query: QueryVector, depth: int, within: FlagArray | None = None
    ) -> list[Candidate]:
        """The union of BM25's and the vectors' best `depth` sentences, with both scores each.

        Sentences that say nothing of their own (`index.answers.fusion.with_content`) are left
        out: the vectors do not rank them, and BM25's are dropped.
        """
        assert self.vectors is not None
        bm25_rows, bm25_scores = self.bm25.top_k(q.known, depth, within)
        dense_rows, _ = self.vectors.top_k(query, depth, within=self.rankable_within(within))
        scores = dict(zip(bm25_rows.tolist(), bm25_scores.tolist(), strict=True))
        rows = list(dict.fromkeys([*bm25_rows.tolist(), *dense_rows.tolist()]))
        if not rows:
            return []
        cosines = self.vectors.similarities(query, np.asarray(rows, dtype=np.int64))
        term_ids = self.bm25.rarest(self.bm25.query_terms(q.known))
        candidates = [
            Candidate(row, scores[row] if row in scores else self.bm25_of(row, term_ids), float(c))
            for row, c in zip(rows, cosines.tolist(), strict=True)
        ]
        return with_content(candidates, self.says_nothing)

    def bm25_of(self, row: int, term_ids: list[int]) -> float:
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

    def rankable_within(self, within: FlagArray | None) -> FlagArray:
        """Return the rows the vectors rank: live, saying something, and flagged in `within`.

        `within` flags live rows only (`sentences_in`).
        """
        return self._rankable if within is None else within & ~self.says_nothing

    def words_of(self, article: int) -> ArticleWords:
        """Return article row `article`'s words, kept for the next questions (the names check)."""
        return self._article_words.get(article, lambda: self._read_article_words(article))

    def _read_article_words(self, article: int) -> ArticleWords:
        """Return article row `article`'s title and sentences, as names are looked up in them."""
        first, last = self.archive.article_rows(article)
        text = "\n".join(
            [self.archive.article(article).title]
            + [self.archive.sentence(r) for r in range(first, last + 1)]
        )
        return ArticleWords(text, self.analyzer)

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

        The whole answer policy is `index.answers.policy.ask`'s: what a time in the question
        means, BM25 alone or fused with the vectors, the names it asks about, what is shown.
        """
        how = Asked(k, offset, context, min_coverage, lexical_only, fusion)
        return policy.ask(self, question, how, period, now)

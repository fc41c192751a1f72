"""Load an index and answer questions from it."""

from __future__ import annotations

import json
import math
import mmap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index import passages
from index.analysis import Analyzer, AnalyzerSettings
from index.bm25 import BM25Index
from index.model import Answer, Article, Hit
from index.store import IndexFormatError, current_generation, read_header

# A question is answered only when its best sentence scores at least this share of the question's
# ideal score: the sum, over the question's terms, of each term's idf (what a sentence of average
# length holding every term once scores). Further answers need half that share. See
# docs/relevance.md for the measure and how it was chosen on the development questions.
MIN_COVERAGE = 0.5
# The floor for "the closest passages anyway", offered below MIN_COVERAGE: on the development
# questions it keeps every right answer of the unfloored ranking, paraphrases included.
WEAK_COVERAGE = 0.2


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
    """A loaded, read-only index generation; safe to search from several threads."""

    def __init__(self, folder: Path, header: dict[str, Any]) -> None:
        self.folder = folder
        self.header = header
        self.analyzer = Analyzer(AnalyzerSettings(**header["analyzer"]))
        self.bm25 = BM25Index.load(folder)
        self._sentence_offsets = np.load(folder / "sentence_offsets.npy", mmap_mode="r")
        self._article_first = np.load(folder / "article_first.npy", mmap_mode="r")
        self._article_offsets = np.load(folder / "article_offsets.npy", mmap_mode="r")
        self._sentences = _map(folder / "sentences.bin")
        self._articles = _map(folder / "articles.jsonl")
        self.article = lru_cache(maxsize=4096)(self._read_article)
        n = self.bm25.n_docs
        # What an absent term would weigh (df = 0): the ideal score's share for unknown words.
        self._unknown_idf = math.log(n + 0.5) - math.log(0.5) if n else 0.0

    @classmethod
    def load(cls, index_dir: Path) -> NewsIndex:
        """Load the current generation of `index_dir`.

        Raises:
            index.store.IndexMissingError: Nothing was built there yet.
            index.store.IndexFormatError: The index is damaged or of another format version.
        """
        folder = current_generation(index_dir)
        header = read_header(folder)
        try:
            index = cls(folder, header)
            index._check(header["counts"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(
                f"index at {folder} is damaged ({exc}); run `newsbot index` to rebuild it"
            ) from None
        return index

    def _check(self, counts: dict[str, int]) -> None:
        """Raise ValueError unless the files agree with each other and with the header's counts."""
        n, m = self.bm25.n_docs, self.n_articles
        bm25, p = self.bm25, self.bm25.postings
        v = len(bm25.vocabulary)
        sizes = {  # what: (found, expected)
            "sentences (doc_len.npy)": (n, counts["sentences"]),
            "articles (article_offsets.npy)": (m, counts["articles"]),
            "entries in sentence_offsets.npy": (len(self._sentence_offsets), n + 1),
            "entries in article_first.npy": (len(self._article_first), m + 1),
            "bytes in sentences.bin": (len(self._sentences), int(self._sentence_offsets[-1])),
            "bytes in articles.jsonl": (len(self._articles), int(self._article_offsets[-1])),
            "entries in idf.npy": (len(bm25.idf), v),
            "entries in offsets.npy": (len(p.offsets), 2 * v + 1),
            "entries in ranks.npy": (len(p.ranks), int(p.offsets[-1])),
            "entries in row_of_rank.npy": (len(p.row_of_rank), n),
        }
        for what, (found, expected) in sizes.items():
            if found != expected:
                raise ValueError(f"{found:,} {what} where {expected:,} belong")

    @property
    def n_sentences(self) -> int:
        """Number of indexed sentences."""
        return self.bm25.n_docs

    @property
    def n_articles(self) -> int:
        """Number of indexed articles."""
        return len(self._article_offsets) - 1

    def sentence(self, row: int) -> str:
        """Return the text of sentence `row`."""
        start, end = int(self._sentence_offsets[row]), int(self._sentence_offsets[row + 1])
        return self._sentences[start:end].decode("utf-8")

    def article_of(self, row: int) -> int:
        """Return the article row of sentence `row`."""
        return int(np.searchsorted(self._article_first, row, side="right")) - 1

    def article_rows(self, article: int) -> tuple[int, int]:
        """Return the first and last sentence rows of `article`, inclusive."""
        return int(self._article_first[article]), int(self._article_first[article + 1]) - 1

    def _read_article(self, row: int) -> Article:
        """Return the metadata of article `row` (its `text` is empty)."""
        start, end = int(self._article_offsets[row]), int(self._article_offsets[row + 1])
        meta = json.loads(self._articles[start:end])
        return Article(
            id=meta["id"],
            title=meta["title"],
            text="",
            source=meta.get("source"),
            date=meta.get("date"),
            url=meta.get("url"),
            path=meta.get("path"),
        )

    def analyze(self, text: str) -> Question:
        """Analyze a question with the index's own analyzer."""
        terms = tuple(self.analyzer.terms(text))
        known = tuple(t for t in terms if t in self.bm25.terms)
        return Question(text, terms, known)

    def ideal_score(self, question: Question) -> float:
        """Return the score of an average-length sentence holding each question term once."""
        terms = self.bm25.terms
        return sum(
            float(self.bm25.idf[terms[t]]) if t in terms else self._unknown_idf
            for t in question.terms
        )

    def search(self, question: str | Question, k: int = 10) -> list[Hit]:
        """Return the `k` best-scoring sentences (score above zero), best first."""
        q = question if isinstance(question, Question) else self.analyze(question)
        rows, scores = self.bm25.top_k(q.known, k)
        return [Hit(int(r), float(s)) for r, s in zip(rows, scores, strict=True)]

    def ask(
        self,
        question: str,
        k: int = 3,
        *,
        offset: int = 0,
        context: int = 1,
        min_coverage: float = MIN_COVERAGE,
    ) -> list[Answer]:
        """Answer a question with up to `k` passages, skipping the first `offset` answers.

        Returns an empty list when no question term is indexed or when the best sentence does
        not reach `min_coverage` of the question's ideal score; further answers must reach half
        of it.
        """
        q = self.analyze(question)
        if not q.known or k <= 0:
            return []
        ideal = self.ideal_score(q)
        wanted = offset + k
        depth = max(4 * wanted, 20)
        hits = self.search(q, depth)
        if not hits or hits[0].score < min_coverage * ideal:
            return []
        hits = [h for h in hits if h.score >= min_coverage / 2 * ideal]
        spans = passages.assemble(
            [(h.sentence, h.score) for h in hits],
            article_of=self.article_of,
            article_rows=self.article_rows,
            terms_of=lambda row: frozenset(self.analyzer.terms(self.sentence(row))),
            is_heading=lambda row: passages.is_heading(self.sentence(row)),
            limit=wanted,
            context=context,
        )
        answers = []
        for span in spans[offset:wanted]:
            passage = passages.join([self.sentence(r) for r in range(span.first, span.last + 1)])
            answers.append(
                Answer(
                    sentence=self.sentence(span.best),
                    passage=passage,
                    score=span.score,
                    article=self.article(span.article),
                    terms=q.known,
                )
            )
        return answers

    def articles_newest_first(self, offset: int = 0, limit: int = 10) -> list[Article]:
        """Return a page of indexed articles, newest first (undated ones last)."""
        order = self._newest_first()
        return [self.article(i) for i in order[offset : offset + limit]]

    def _newest_first(self) -> list[int]:
        """Return article rows sorted by date, newest first, undated last; computed once."""
        cached: list[int] | None = getattr(self, "_order", None)
        if cached is None:
            dates = [self.article(i).date for i in range(self.n_articles)]
            cached = sorted(
                range(self.n_articles),
                key=lambda i: (dates[i] is not None, dates[i] or ""),
                reverse=True,
            )
            self._order = cached
        return cached


def _map(path: Path) -> mmap.mmap | bytes:
    """Memory-map a file read-only (an empty file maps to empty bytes)."""
    if path.stat().st_size == 0:
        return b""
    with path.open("rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

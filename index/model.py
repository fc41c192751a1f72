"""Typed values that flow through the pipeline: articles in, answers out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.text.timeframe import Period


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as read from a source.

    Attributes:
        id: Stable identifier: the source's own id when it has one, else a hash of the text.
        title: Headline.
        text: Body text; paragraphs separated by blank lines or newlines.
        source: Outlet name ("Reuters", "Wikinews"), when known.
        date: Publication date, ISO 8601 when it could be parsed, else as given.
        url: Link to the article, when known.
        path: File (or feed URL) the article was read from.
        origin: The configured source it came from (a folder, file or feed URL, as the index
            remembers it: `index.config.canonical_source`); what decides whether a later read
            may remove it (`index.store.archiving`).
        first_seen: When the index first read it (ISO 8601, UTC), kept through updates.
    """

    id: str
    title: str
    text: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    path: str | None = None
    origin: str | None = None
    first_seen: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file, line or entry that could not be read, and why.

    Attributes:
        where: The file path or URL.
        line: 1-based line (JSON Lines) or entry number (feeds, JSON arrays), when it applies.
        reason: One short human-readable sentence.
    """

    where: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        place = f"{self.where}:{self.line}" if self.line is not None else self.where
        return f"{place}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One entry of an index's manifest: a file or URL that was read.

    Attributes:
        path: File path or URL.
        size: Size in bytes of what was read.
        sha256: Hex digest of what was read.
    """

    path: str
    size: int
    sha256: str


@dataclass(slots=True)
class Ingested:
    """Everything read from a list of sources.

    Attributes:
        failed_sources: Each source that could not be read this time (a fetch error, an HTTP
            status, a body that is not a feed, a missing folder): its articles stay as they were.
        notes: What the read has to say that is not a skip (a file read in a detected encoding).
    """

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    duplicates: int = 0
    failed_sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Hit:
    """A sentence that matched a question, with its BM25 score.

    Attributes:
        sentence: Row of the sentence in the index.
        score: rank_bm25 BM25Okapi score of the sentence for the question.
    """

    sentence: int
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """A passage answering a question, with the article it comes from.

    Attributes:
        sentence: The best-matching sentence of the passage.
        passage: The sentence with its neighbours, in article order.
        score: BM25 score of the best-matching sentence (rank_bm25's number; also `bm25`).
        article: The article the passage comes from (its `text` is left empty).
        terms: Analyzed query terms, for highlighting.
        similarity: Cosine of the best sentence's vector with the question's, or None when the
            answer was ranked by BM25 alone.
    """

    sentence: str
    passage: str
    score: float
    article: Article
    terms: tuple[str, ...] = ()
    similarity: float | None = None

    @property
    def bm25(self) -> float:
        """rank_bm25 BM25Okapi score of the best sentence (0 when no question word matches it)."""
        return self.score

    def to_json(self) -> dict[str, object]:
        """Return the answer in the CLI's stable JSON shape."""
        a = self.article
        return {
            "sentence": self.sentence,
            "passage": self.passage,
            "score": self.score,
            "bm25": self.bm25,
            "similarity": self.similarity,
            "article": {
                "id": a.id,
                "title": a.title,
                "source": a.source,
                "date": a.date,
                "url": a.url,
                "path": a.path,
                "first_seen": a.first_seen,
            },
        }


@dataclass(frozen=True, slots=True)
class Findings:
    """What the index found for a question: the answers, and what the front-ends say about them.

    The rules (which answers are strong enough, whether weaker ones are worth offering) are
    decided once, by `index.answers.search.NewsIndex.ask`; the CLI and the bot only render them.

    Attributes:
        answers: The passages, best first (empty when nothing reached `floor`).
        floor: The share of the question's ideal score the best answer had to reach.
        weak: The answers were asked below the product's floor: the closest passages, labelled
            as weak matches.
        closest_exist: No answer reached `floor`, but weaker matches exist: offer them.
        semantic: The answers were ranked and judged with sentence vectors as well as BM25
            (`index.answers.fusion`); False when BM25 alone served them.
        best_similarity: The highest cosine of any candidate sentence with the question (None:
            BM25 alone); the evidence `index.answers.fusion.is_answered` weighed.
        best_coverage: The highest BM25 coverage of the question's ideal score among the
            candidates (None: BM25 alone, whose `floor` says the same).
        missing_names: The names the question asks about that the best answer's article
            never mentions (`index.text.names`); the question is then not answered (`answers` is
            empty) and `closest` may hold the passages shown with that caveat.
        closest: With `missing_names`, the passages that would have answered but for the
            missing names, best first (empty when the rest of the evidence is weak too): shown
            as "No article mentions Japan; the closest:".
        period: The stretch of time the answers were restricted to (`index.text.timeframe`), or
            None when the whole index answered.
        headlines: The question asked only for a period ("what happened yesterday?"): the
            answers are the period's newest articles, each with its lead.
        elsewhere: The question named `period`, but no article of it answered: the answers
            (if any) come from other dates.
    """

    answers: tuple[Answer, ...]
    floor: float
    weak: bool = False
    closest_exist: bool = False
    semantic: bool = False
    best_similarity: float | None = None
    best_coverage: float | None = None
    missing_names: tuple[str, ...] = ()
    closest: tuple[Answer, ...] = ()
    period: Period | None = None
    headlines: bool = False
    elsewhere: bool = False


def counted(n: int, noun: str) -> str:
    """Return '1 article' or '2,000 articles' (nouns that take an s)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"

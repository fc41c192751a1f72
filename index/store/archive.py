"""The sentences and articles of an index generation: text, metadata, and where each belongs.

The reading side of what `index.store.archive_writer` writes beside the BM25 arrays (file names in
`index.store.layout`): a sentence is read by row from one UTF-8 blob, an article's metadata from one
line of JSON, both with `pread` (`index.store.layout.ReadOnlyFile`), so loading costs nothing per
sentence and the pieces a question reads stay out of the process's RSS (docs/semantic.md).
Ranking lives elsewhere (`index.answers.search`), as Pyserini keeps `LuceneIndexReader` apart from
`LuceneSearcher`.
"""

from __future__ import annotations

import itertools
import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.caches import BoundedCache
from index.model import Article
from index.sources.formats.dates import utc_seconds
from index.store import layout

# Article metadata kept parsed, per archive: the newest-first listing reads every article once.
_ARTICLE_CACHE = 4096
_ARTICLE_CACHE_BYTES = 8 << 20


class Archive:
    """The indexed sentences and articles, by row; read-only, safe from several threads.

    Attributes:
        folder: The generation folder it reads.
    """

    def __init__(
        self,
        folder: Path,
        sentence_offsets: npt.NDArray[np.int64],
        article_first: npt.NDArray[np.int32],
        article_offsets: npt.NDArray[np.int64],
        texts: layout.ReadOnlyFile,
        article_lines: layout.ReadOnlyFile,
        dead_rows: npt.NDArray[np.int64] | None = None,
        dates: list[str | None] | None = None,
    ) -> None:
        self.folder = folder
        # Plain arrays over the mapped files: a `np.memmap`'s every `[row]` passes through its
        # Python `__getitem__`, a question's main cost around the kernel once (issue #20).
        self._sentence_offsets = np.asarray(sentence_offsets)
        self._article_first = np.asarray(article_first)
        self._article_offsets = np.asarray(article_offsets)
        self._texts = texts
        self._article_lines = article_lines
        # Not an lru_cache of a bound method: that cycle kept closed generations' files open.
        self._articles: BoundedCache[int, Article] = BoundedCache(
            _ARTICLE_CACHE, _ARTICLE_CACHE_BYTES, _article_bytes
        )
        # Every article's date as stored, by article row.
        self.dates: list[str | None] = dates if dates is not None else [None] * self.n_articles
        # Flags of the rows not removed; None (and the counts all rows) when none was.
        self.live_sentences: npt.NDArray[np.bool_] | None = None
        self.live_articles: npt.NDArray[np.bool_] | None = None
        self.n_live_sentences, self.n_live_articles = self.n_sentences, self.n_articles
        if dead_rows is not None and len(dead_rows):
            self.live_sentences = np.ones(self.n_sentences, dtype=bool)
            self.live_sentences[dead_rows] = False
            self.live_articles = live_articles(article_first, self.live_sentences)
            self.n_live_sentences = int(self.live_sentences.sum())
            self.n_live_articles = int(self.live_articles.sum())

    @classmethod
    def load(cls, folder: Path) -> Archive:
        """Open a generation's sentences and articles, checking that they fit together.

        Raises:
            ValueError: The files disagree with each other (see `index.store.layout`).
            OSError: A file cannot be read.
        """
        sentence_offsets = layout.load_array(folder, "sentence_offsets")
        article_first = layout.load_array(folder, "article_first")
        article_offsets = layout.load_array(folder, "article_offsets")
        texts = layout.ReadOnlyFile(folder / layout.SENTENCE_TEXTS)
        lines = layout.ReadOnlyFile(folder / layout.ARTICLE_LINES)
        n_articles = len(article_offsets) - 1
        n_sentences = len(sentence_offsets) - 1
        layout.check_offsets("sentence_offsets.npy", sentence_offsets, n_sentences, texts.size)
        layout.check_offsets("article_offsets.npy", article_offsets, n_articles, lines.size)
        layout.check_offsets("article_first.npy", article_first, n_articles, n_sentences)
        dead_rows = None
        if layout.array_path(folder, "dead_rows").exists():
            dead_rows = np.asarray(layout.load_array(folder, "dead_rows"))
            if len(dead_rows) and not (
                int(dead_rows.min()) >= 0 and int(dead_rows.max()) < n_sentences
            ):
                raise ValueError("dead_rows.npy points past the sentences")
        dates = json.loads((folder / layout.ARTICLE_DATES).read_text(encoding="utf-8"))
        if not isinstance(dates, list) or not all(d is None or isinstance(d, str) for d in dates):
            raise ValueError(f"{layout.ARTICLE_DATES} is not a list of dates")
        layout.check_length(layout.ARTICLE_DATES, dates, n_articles)
        return cls(
            folder, sentence_offsets, article_first, article_offsets, texts, lines, dead_rows, dates
        )

    @property
    def n_sentences(self) -> int:
        """Number of sentence rows (those of removed articles included)."""
        return len(self._sentence_offsets) - 1

    @property
    def n_articles(self) -> int:
        """Number of article rows (removed articles included)."""
        return len(self._article_offsets) - 1

    def sentence(self, row: int) -> str:
        """Return the text of sentence `row`.

        Raises:
            ValueError: sentences.bin ends before the sentence (it changed since the load).
        """
        start, end = self._sentence_offsets[row : row + 2].tolist()
        return self._texts.read(start, end).decode("utf-8")

    def sentences(self, first: int, last: int) -> list[str]:
        """Return the texts of sentence rows `first` to `last` (inclusive), read at once.

        Adjacent rows are adjacent in sentences.bin: one `pread` for all, each decoded as
        `sentence` decodes it (a passage's sentences, issue #20).

        Raises:
            ValueError: sentences.bin ends before the last sentence (it changed since the load).
        """
        offsets = self._sentence_offsets[first : last + 2].tolist()
        base = offsets[0]
        blob = self._texts.read(base, offsets[-1])
        return [blob[a - base : b - base].decode("utf-8") for a, b in itertools.pairwise(offsets)]

    def article_of(self, row: int) -> int:
        """Return the article row of sentence `row`."""
        # Searched for as the array's own dtype: a Python int would convert the whole array.
        first = self._article_first
        return int(first.searchsorted(first.dtype.type(row), side="right")) - 1

    def articles_of(self, rows: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
        """Return the article row of each sentence row of `rows` (`article_of`, at once)."""
        first = self._article_first
        found = first.searchsorted(rows.astype(first.dtype), side="right") - 1
        return np.asarray(found, dtype=np.int64)

    def article_rows(self, article: int) -> tuple[int, int]:
        """Return the first and last sentence rows of `article`, inclusive."""
        first, end = self._article_first[article : article + 2].tolist()
        return first, end - 1

    def article(self, row: int) -> Article:
        """Return the metadata of article `row` (its `text` is empty)."""
        return self._articles.get(row, lambda: self.read_article(row))

    def read_article(self, row: int) -> Article:
        """Return the metadata of article `row` (its `text` is empty), uncached."""
        start, end = self._article_offsets[row : row + 2].tolist()
        meta: dict[str, Any] = json.loads(self._article_lines.read(start, end))
        return Article(
            id=meta["id"],
            title=meta["title"],
            text="",
            source=meta.get("source"),
            date=meta.get("date"),
            url=meta.get("url"),
            path=meta.get("path"),
            origin=meta.get("origin"),
            first_seen=meta.get("first_seen"),
        )

    def sentence_bodies(self) -> list[str]:
        """Return each article's sentences joined by newlines, by article row.

        What stands in for the bodies of a generation written before bodies were kept (format
        5): split again, they give the same sentences.
        """
        return [
            "\n".join(self.sentences(first, last))
            for first, last in (self.article_rows(a) for a in range(self.n_articles))
        ]

    def sentences_of(self, articles: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Return which sentence rows belong to the articles marked in `articles` (by row)."""
        return np.repeat(articles, np.diff(self._article_first))

    def live(self, articles: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Return the flags of `articles` (by article row) with removed articles unflagged."""
        return articles if self.live_articles is None else articles & self.live_articles

    @cached_property
    def date_keys(self) -> npt.NDArray[np.float64]:
        """Each article's `newest_first_key`, by article row (computed once a generation)."""
        return np.fromiter(map(newest_first_key, self.dates), np.float64, len(self.dates))

    @cached_property
    def newest_first(self) -> list[int]:
        """Live article rows by date, newest first, undated last (computed once)."""
        order = np.argsort(-self.date_keys, kind="stable")  # ties in row order, as sorted()'s
        live = self.live_articles
        return [int(i) for i in order if live is None or live[i]]

    def articles_newest_first(self, offset: int = 0, limit: int = 10) -> list[Article]:
        """Return a page of articles, newest first (undated ones last)."""
        return [self.article(i) for i in self.newest_first[offset : offset + limit]]


def live_articles(
    article_first: npt.NDArray[np.int32], live_sentences: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Return a flag per article: not removed.

    An article's rows die together, so it is live when its first row is (an article without
    rows is never removed: `index.store.update` builds in full instead).
    """
    firsts = article_first[:-1]
    has_rows = firsts < article_first[1:]
    return ~has_rows | live_sentences[np.minimum(firsts, max(len(live_sentences) - 1, 0))]


def newest_first_key(date: str | None) -> float:
    """Sort key by publication date, with `reverse=True`: dated newest first, then the undated.

    The instant the date names (`index.sources.formats.dates.utc_seconds`), so mixed offsets sort by
    time.
    """
    return utc_seconds(date)


def _article_bytes(row: int, article: Article) -> int:
    """About what an article's metadata takes in memory (its strings and the object)."""
    fields = (
        article.id,
        article.title,
        article.source,
        article.date,
        article.url,
        article.path,
        article.origin,
        article.first_seen,
    )
    return 400 + sum(len(f) for f in fields if f)

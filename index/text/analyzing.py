"""The text stage of a build: articles split into sentences and analyzed into terms, on every core.

Splitting and analysis run in worker processes (one per core) on chunks of articles. A worker
hands back compact arrays (its chunk's sentences as one UTF-8 blob, its terms numbered locally in
order of first appearance, the term ids of every sentence), so that little crosses between
processes and the parent only renumbers each chunk's few thousand distinct terms (`analyze`),
numbering them as rank_bm25 does. A full build (`index.store.build`) and an append
(`index.store.update`) both start here.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from index.lexical.bm25 import BM25Index, BM25Params
from index.model import Article
from index.text.analysis import Analyzer, AnalyzerSettings
from index.text.sentences import split_sentences

# Below this many articles, worker start-up costs more than it saves.
_PARALLEL_MIN_ARTICLES = 400
_CHUNK_ARTICLES = 200

# Told how many things (articles analyzed, sentences embedded) were just done.
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Analyzed:
    """Articles split into sentences and analyzed, ready to index.

    Attributes:
        vocabulary: Terms by term id, in order of first appearance.
        token_ids: Every term of every sentence, sentence after sentence.
        doc_len: Number of terms of each sentence.
        texts: The sentences, UTF-8, one blob per chunk of articles.
        text_offsets: Byte offsets of each chunk's sentences in its blob, and the end.
        per_article: Number of sentences of each article, per chunk.
    """

    vocabulary: list[str]
    token_ids: npt.NDArray[np.int32]
    doc_len: npt.NDArray[np.int32]
    texts: list[bytes]
    text_offsets: list[npt.NDArray[np.int64]]
    per_article: list[npt.NDArray[np.int32]]

    def bm25(self, params: BM25Params) -> BM25Index:
        """Return the BM25 index of these sentences alone (one segment: `index.lexical`)."""
        return BM25Index.from_token_ids(self.vocabulary, self.token_ids, self.doc_len, params)

    def sentences(self) -> list[str]:
        """Return every sentence, by row."""
        return [
            blob[a:b].decode("utf-8")
            for blob, offsets in zip(self.texts, self.text_offsets, strict=True)
            for a, b in itertools.pairwise(offsets.tolist())
        ]

    def sentence_counts(self) -> npt.NDArray[np.int32]:
        """Return the number of sentences of each article, by article."""
        return _concatenate(self.per_article, np.int32)


def analyze(
    articles: Sequence[Article],
    analyzer: AnalyzerSettings,
    workers: int = 0,
    progress: Progress | None = None,
) -> Analyzed:
    """Split and analyze articles (in worker processes), numbering terms as rank_bm25 does.

    Args:
        articles: The articles, in row order.
        analyzer: How to analyze.
        workers: Processes to analyze in (0: one per core).
        progress: Told how many articles each analyzed chunk held.
    """
    vocabulary: dict[str, int] = {}
    token_ids: list[npt.NDArray[np.int32]] = []
    lengths: list[npt.NDArray[np.int32]] = []
    texts: list[bytes] = []
    text_offsets: list[npt.NDArray[np.int64]] = []
    per_article: list[npt.NDArray[np.int32]] = []
    for chunk in _analyzed_chunks(articles, analyzer, workers, progress):
        # Chunks come in order, and each numbers its terms by first appearance: numbering the
        # new ones in that order keeps global ids in order of first appearance (as rank_bm25's).
        to_global = np.fromiter(
            (vocabulary.setdefault(term, len(vocabulary)) for term in chunk.vocabulary),
            dtype=np.int32,
            count=len(chunk.vocabulary),
        )
        token_ids.append(to_global[chunk.token_ids])
        lengths.append(chunk.lengths)
        texts.append(chunk.text)
        text_offsets.append(chunk.text_offsets)
        per_article.append(chunk.sentences_per_article)
    return Analyzed(
        list(vocabulary),
        _concatenate(token_ids, np.int32),
        _concatenate(lengths, np.int32),
        texts,
        text_offsets,
        per_article,
    )


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Some articles, split and analyzed by a worker.

    Attributes:
        sentences_per_article: Number of sentences of each article.
        text: The sentences, UTF-8, one after the other.
        text_offsets: Byte offset of each sentence in `text`, and the end.
        vocabulary: The chunk's terms, in order of first appearance.
        token_ids: Every term of every sentence, as an index into `vocabulary`.
        lengths: Number of terms of each sentence.
    """

    sentences_per_article: npt.NDArray[np.int32]
    text: bytes
    text_offsets: npt.NDArray[np.int64]
    vocabulary: list[str]
    token_ids: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.int32]


def analyze_articles(
    articles: Sequence[Article],
    analyzer: AnalyzerSettings,
    workers: int = 0,
    progress: Progress | None = None,
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (sentences, space-joined terms of each sentence) for each article, in order.

    Splitting and analysis run in `workers` processes (0: one per core).
    """
    for chunk in _analyzed_chunks(articles, analyzer, workers, progress):
        text, offsets = chunk.text, chunk.text_offsets.tolist()
        sentences = [text[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
        ends = np.cumsum(chunk.lengths).tolist()
        words = [chunk.vocabulary[i] for i in chunk.token_ids.tolist()]
        terms = [
            " ".join(words[b - n : b]) for n, b in zip(chunk.lengths.tolist(), ends, strict=True)
        ]
        row = 0
        for n in chunk.sentences_per_article.tolist():
            yield sentences[row : row + n], terms[row : row + n]
            row += n


def _analyzed_chunks(
    articles: Sequence[Article],
    analyzer: AnalyzerSettings,
    workers: int,
    progress: Progress | None,
) -> Iterator[_Chunk]:
    """Yield the articles split and analyzed, chunk by chunk, in order."""
    workers = workers or os.cpu_count() or 1
    texts = [a.text for a in articles]
    chunks = [texts[i : i + _CHUNK_ARTICLES] for i in range(0, len(texts), _CHUNK_ARTICLES)]
    jobs = [(analyzer, chunk) for chunk in chunks]
    if workers <= 1 or len(articles) < _PARALLEL_MIN_ARTICLES:
        yield from _report(map(_analyze_chunk, jobs), progress)
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        yield from _report(pool.map(_analyze_chunk, jobs), progress)


def _report(results: Iterator[_Chunk], progress: Progress | None) -> Iterator[_Chunk]:
    """Pass chunks through, telling `progress` how many articles each held."""
    for chunk in results:
        yield chunk
        if progress is not None:
            progress(len(chunk.sentences_per_article))


def _exit_with_parent(parent: int) -> None:
    """Make a worker exit when its parent dies (a SIGKILLed build must not leave orphans)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_analyzers: dict[AnalyzerSettings, Analyzer] = {}


def _analyze_chunk(job: tuple[AnalyzerSettings, list[str]]) -> _Chunk:
    """Split and analyze a chunk of article bodies (runs in a worker process)."""
    settings, texts = job
    analyzer = _analyzers.get(settings)
    if analyzer is None:
        analyzer = _analyzers[settings] = Analyzer(settings)
    local: dict[str, int] = {}
    per_article: list[int] = []
    encoded: list[bytes] = []
    token_ids: list[int] = []
    lengths: list[int] = []
    for text in texts:
        sentences = split_sentences(text)
        per_article.append(len(sentences))
        for sentence in sentences:
            encoded.append(sentence.encode("utf-8"))
            terms = analyzer.terms(sentence)
            lengths.append(len(terms))
            token_ids.extend([local.setdefault(term, len(local)) for term in terms])
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return _Chunk(
        sentences_per_article=np.asarray(per_article, dtype=np.int32),
        text=b"".join(encoded),
        text_offsets=offsets,
        vocabulary=list(local),
        token_ids=np.asarray(token_ids, dtype=np.int32),
        lengths=np.asarray(lengths, dtype=np.int32),
    )


def _concatenate(parts: list[npt.NDArray[Any]], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """Concatenate arrays (none: an empty array of `dtype`)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

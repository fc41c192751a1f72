"""An index of several immutable segments, scored as one: exactly rank_bm25 over the live sentences.

A generation's sentence rows are its segments' rows one after the other (`starts`). New articles
go into a new segment; a removed or changed article's rows are *dead* (tombstones,
`dead_rows.npy`) and never ranked. Scores are those of `rank_bm25.BM25Okapi` over the live
sentences in row order, so N, the average length, the document frequencies and the mean idf of
the epsilon floor are the whole index's, not a segment's (as Lucene's `IndexSearcher` takes
`CollectionStatistics` over all segments). The writer computes them (`statistics`) and stores,
for each segment, its statistics-dependent arrays again (`index.lexical.bm25.WEIGHT_ARRAYS`, in
`weights/<segment>/`): a segment's own files never change, so the next generation hard-links
them. A generation of one segment with no dead row needs no such copy.

Each segment also keeps its analyzed sentences (`tokens.npy`, term ids row after row): the dead
rows' terms, the order of first appearance and merges (`index.store.build`) are read from it, never
from the sources again.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.lexical.bm25 import BM25Index, BM25Params, floor_idf, okapi_idf
from index.lexical.topk_query import rarest_terms
from index.store import layout

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

SEGMENT_PREFIX = "seg-"
WEIGHTS = "weights"
VOCABULARY = "vocabulary.json"


@dataclass(frozen=True, slots=True)
class Statistics:
    """BM25 statistics of the live sentences of all segments, as rank_bm25 computes them.

    Attributes:
        vocabulary: Live terms, in order of first appearance among the live sentences.
        doc_freq: Live sentences holding each term of `vocabulary`.
        idf: Floored idf of each term of `vocabulary`.
        n_docs: Live sentences.
        avgdl: Their average number of terms.
    """

    vocabulary: list[str]
    doc_freq: npt.NDArray[np.int64]
    idf: FloatArray
    n_docs: int
    avgdl: float


def statistics(
    segments: Sequence[BM25Index],
    tokens: Sequence[npt.NDArray[np.int32]],
    dead: Sequence[BoolArray],
    params: BM25Params,
) -> Statistics:
    """Return the statistics of the live sentences of `segments` (in row order).

    Args:
        segments: The segments, each indexed alone.
        tokens: Each segment's term ids, sentence after sentence (its `tokens.npy`).
        dead: Each segment's dead flag per row.
        params: BM25 parameters (epsilon).
    """
    vocabulary: dict[str, int] = {}
    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    n_docs = total = 0
    for segment, seg_tokens, seg_dead in zip(segments, tokens, dead, strict=True):
        live_df, first_live = _live_terms(segment, seg_tokens, seg_dead)
        for term in first_live.tolist():
            vocabulary.setdefault(segment.vocabulary[term], len(vocabulary))
        parts.append((_to_global(vocabulary, segment), live_df))
        n_docs += int((~seg_dead).sum())
        total += int(segment.doc_len[~seg_dead].astype(np.int64).sum())
    doc_freq = np.zeros(len(vocabulary), dtype=np.int64)
    for to_global, live_df in parts:
        present = live_df > 0
        np.add.at(doc_freq, to_global[present], live_df[present])
    idf = floor_idf(okapi_idf(n_docs, doc_freq.tolist()), params.epsilon)
    avgdl = total / n_docs if total else 1.0
    return Statistics(list(vocabulary), doc_freq, idf, n_docs, avgdl)


def _live_terms(
    segment: BM25Index, tokens: npt.NDArray[np.int32], dead: BoolArray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return each term's live document frequency, and the live terms by first live appearance."""
    n_terms = len(segment.vocabulary)
    doc_freq = segment.postings.doc_freqs(np.arange(n_terms, dtype=np.int64))
    if not dead.any():
        return doc_freq, np.flatnonzero(doc_freq > 0)  # term ids are in order of appearance
    row_of_token = np.repeat(np.arange(len(dead), dtype=np.int64), segment.doc_len)
    dead_token = dead[row_of_token]
    pairs = np.unique(row_of_token[dead_token] * n_terms + tokens[dead_token])
    doc_freq = doc_freq - np.bincount(pairs % max(n_terms, 1), minlength=n_terms)
    terms, first = np.unique(tokens[~dead_token], return_index=True)
    return doc_freq, terms[np.argsort(first, kind="stable")].astype(np.int64)


def _to_global(where: Mapping[str, int], segment: BM25Index) -> npt.NDArray[np.int64]:
    """Return the whole index's id of each of `segment`'s terms (-1: no live sentence has it)."""
    return np.fromiter(
        (where.get(t, -1) for t in segment.vocabulary),
        dtype=np.int64,
        count=len(segment.vocabulary),
    )


def reweighed(segments: Sequence[BM25Index], stats: Statistics) -> Iterator[BM25Index]:
    """Yield each segment scoring with the statistics of all (terms not live weigh 0)."""
    where = {term: i for i, term in enumerate(stats.vocabulary)}
    for segment in segments:
        to_global = _to_global(where, segment)
        idf = np.where(to_global >= 0, stats.idf[np.maximum(to_global, 0)], 0.0)
        yield segment.reweighed(np.asarray(idf, dtype=np.float64), stats.avgdl)


def save_statistics(folder: Path, stats: Statistics) -> None:
    """Write the whole index's vocabulary and document frequencies into `folder`."""
    (folder / VOCABULARY).write_text(
        json.dumps(
            {"vocabulary": stats.vocabulary, "n_docs": stats.n_docs, "avgdl": stats.avgdl},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    layout.save_array(folder, "doc_freq", stats.doc_freq)
    layout.save_array(folder, "idf", stats.idf)


def load_statistics(folder: Path) -> Statistics:
    """Read what `save_statistics` wrote.

    Raises:
        ValueError, KeyError, TypeError, OSError: The files are damaged or missing.
    """
    meta = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
    vocabulary = meta["vocabulary"]
    if not isinstance(vocabulary, list):
        raise TypeError(f"{VOCABULARY} holds no vocabulary")
    doc_freq = np.asarray(layout.load_array(folder, "doc_freq"))
    idf = np.asarray(layout.load_array(folder, "idf"))
    layout.check_length("doc_freq.npy", doc_freq, len(vocabulary))
    layout.check_length("idf.npy", idf, len(vocabulary))
    return Statistics(vocabulary, doc_freq, idf, int(meta["n_docs"]), float(meta["avgdl"]))


class SegmentedBM25:
    """Segments ranked as one index; the interface `index.answers.search` reads of a BM25 index.

    Rows are the generation's rows (segment after segment); dead rows are never returned.

    Attributes:
        params: BM25 parameters.
        segments: Each segment, scoring with the whole index's statistics.
        starts: First row of each segment, and the number of rows.
        vocabulary: Live terms by term id (the whole index's ids).
        terms: Term -> term id.
        idf: Floored idf by term id.
        doc_len: Terms of each sentence, by row (dead rows included).
        live: A flag per row, None when no row is dead.
        n_docs: Live sentences.
        avgdl: Their average number of terms.
    """

    def __init__(
        self,
        segments: Sequence[BM25Index],
        stats: Statistics | None = None,
        live: BoolArray | None = None,
    ) -> None:
        self.segments = list(segments)
        self.params = self.segments[0].params
        lengths = [s.n_docs for s in self.segments]
        self.starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.doc_len = (
            self.segments[0].doc_len
            if len(self.segments) == 1
            else np.concatenate([s.doc_len for s in self.segments])
        )
        self.live = live
        if stats is None:  # one segment, every row live: its own statistics are the index's
            (only,) = self.segments
            self.vocabulary = only.vocabulary
            self.terms: Mapping[str, int] = only.terms
            self.idf = only.idf
            self._doc_freq: npt.NDArray[np.int64] | None = None
            self.n_docs = only.n_docs
            total = int(only.doc_len.astype(np.int64).sum())
            self.avgdl = total / only.n_docs if total else 1.0
        else:
            self.vocabulary = stats.vocabulary
            self.terms = {term: i for i, term in enumerate(stats.vocabulary)}
            self.idf = stats.idf
            self._doc_freq = stats.doc_freq
            self.n_docs = stats.n_docs
            self.avgdl = stats.avgdl

    @property
    def n_rows(self) -> int:
        """Rows, dead ones included."""
        return int(self.starts[-1])

    def doc_freqs(self, term_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Return the number of live sentences holding each term id."""
        if self._doc_freq is None:
            return self.segments[0].postings.doc_freqs(term_ids)
        return np.asarray(self._doc_freq[term_ids], dtype=np.int64)

    def query_terms(self, terms: Sequence[str]) -> list[int]:
        """Map analyzed query terms to term ids, in order, repeats kept, unknown terms dropped."""
        known = self.terms
        return [known[t] for t in terms if t in known]

    def rarest(self, query: list[int]) -> list[int]:
        """Return `query` keeping its `MAX_QUERY_TERMS` rarest distinct terms (`rarest_terms`)."""
        return rarest_terms(self, query)

    def top_k(
        self, terms: Sequence[str], k: int, within: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Return the `k` best live sentences with a score above zero, best first.

        As `index.lexical.bm25.BM25Index.top_k`: ties by row, the rarest terms kept, exactly
        rank_bm25's scores over the live sentences; `within` flags the rows that may be ranked (live
        ones only, as `NewsIndex.sentences_in` gives them).
        """
        kept = [self.vocabulary[t] for t in self.rarest(self.query_terms(terms))]
        if not kept or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        flags = self._flags(within)
        found_rows, found_scores = [], []
        for segment, start in zip(self.segments, self.starts.tolist(), strict=False):
            local = segment.query_terms(kept)
            part = None if flags is None else flags[start : start + segment.n_docs]
            rows, scores = segment.top_k_ids(local, k, part)
            found_rows.append(rows.astype(np.int64) + int(start))
            found_scores.append(scores)
        if len(found_rows) == 1:
            return found_rows[0].astype(np.int32), found_scores[0]
        rows, scores = np.concatenate(found_rows), np.concatenate(found_scores)
        order = np.lexsort((rows, -scores))[:k]
        return rows[order].astype(np.int32), scores[order]

    def warm(self) -> None:
        """Run each segment's kernel once, on its rarest term.

        Numba compiles the kernel for the types of each segment's arrays (a small segment has
        smaller integer types), so no question waits for a compilation.
        """
        flags = self._flags(None)
        for segment, start in zip(self.segments, self.starts.tolist(), strict=False):
            if len(segment.vocabulary):
                rarest = int(np.argmax(segment.idf))
                part = None if flags is None else flags[start : start + segment.n_docs]
                segment.top_k_ids([rarest], 1, part)

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Return every row's score (0 for dead rows), like `BM25Okapi.get_scores` on the live."""
        known = [t for t in terms if t in self.terms]
        dense = np.concatenate([s.scores(known) for s in self.segments])
        if self.live is not None:
            dense[~self.live] = 0.0
        return dense

    def _flags(self, within: BoolArray | None) -> BoolArray | None:
        """Return the rows that may be ranked: `within`, else the live ones.

        `within` flags never include a removed row (`index.answers.search.NewsIndex.sentences_in`
        flags only live articles' rows), so no question pays for an AND of two flag arrays.
        """
        return self.live if within is None else within


def save_segment(
    generation: Path, bm25: BM25Index, tokens: npt.NDArray[np.int32]
) -> dict[str, Any]:
    """Write a new segment into a generation folder; return its header entry."""
    name = f"{SEGMENT_PREFIX}{uuid.uuid4().hex[:12]}"
    folder = generation / name
    folder.mkdir()
    bm25.save(folder)
    layout.save_array(folder, "tokens", np.asarray(tokens, dtype=np.int32))
    return {"name": name, "rows": bm25.n_docs}


def link_segment(source: Path, generation: Path, name: str) -> None:
    """Hard-link segment `name` of generation `source` into `generation` (nothing is copied)."""
    (generation / name).mkdir()
    for path in (source / name).iterdir():
        os.link(path, generation / name / path.name)


def load_tokens(generation: Path, name: str) -> npt.NDArray[np.int32]:
    """Return segment `name`'s term ids, sentence after sentence (memory-mapped)."""
    return np.asarray(layout.load_array(generation / name, "tokens"))


def load_segmented(folder: Path, header: dict[str, Any], live: BoolArray | None) -> SegmentedBM25:
    """Load a generation's segments (`header["segments"]`), with the whole index's weights.

    Raises:
        ValueError, KeyError, TypeError, OSError: A file is damaged or missing.
    """
    names = [entry["name"] for entry in header["segments"]]
    if len(names) == 1 and live is None:
        return SegmentedBM25([BM25Index.load(folder / names[0])])
    weights = folder / WEIGHTS
    stats = load_statistics(weights)
    segments = [BM25Index.load(folder / name, weights=weights / name) for name in names]
    for name, segment, entry in zip(names, segments, header["segments"], strict=True):
        layout.check_count(f"sentences of segment {name}", segment.n_docs, int(entry["rows"]))
    return SegmentedBM25(segments, stats, live)

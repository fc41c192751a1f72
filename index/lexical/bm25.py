"""BM25 exactly as rank_bm25's `BM25Okapi`, served from an inverted index of numpy arrays.

rank_bm25 (dorianbrown/rank_bm25, `BM25Okapi`) is the specification:

    idf(t)      = log(N - n(t) + 0.5) - log(n(t) + 0.5)
    idf(t)      = epsilon * mean(idf)        when idf(t) < 0 (the mean is over the unfloored idf)
    w(t, d)     = idf(t) * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)))
    score(q, d) = sum of w(t, d) over the query's terms t, repeats included, in query order

`get_scores` walks every document for every query term. Here each term's postings are compact
arrays memory-mapped from the index folder (`index.lexical.postings`), whose weights are the
products rank_bm25 computes, bit for bit; a query only touches the sentences that contain one of its
terms, and `top_k` skips most of those (`index.lexical.topk`).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.lexical.postings import ARRAYS, Postings, build_postings, length_ranks, reweigh
from index.lexical.topk import WORK
from index.lexical.topk_query import Buffers, rarest_terms, top_k_maxscore
from index.store import layout

# The arrays that depend on the corpus statistics (N, avgdl, document frequencies): an index
# of several segments stores them again for each segment, computed over all segments.
WEIGHT_ARRAYS = ("idf", "codes", "tf_norms", "tf1_norms", "bounds")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class BM25Params:
    """BM25Okapi parameters, with rank_bm25's defaults."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


def okapi_idf(n_docs: int, doc_freq: Sequence[int]) -> list[float]:
    """Return BM25Okapi's unfloored idf, `log(N - n + 0.5) - log(n + 0.5)`, for each frequency.

    Computed with `math.log`, as rank_bm25 does, so the values match it bit for bit.
    """
    return [math.log(n_docs - n + 0.5) - math.log(n + 0.5) for n in doc_freq]


def floor_idf(idf: Sequence[float], epsilon: float) -> FloatArray:
    """Replace negative idf values by `epsilon * mean(idf)`, as rank_bm25's `BM25Okapi` does.

    The mean is taken over the unfloored values, summed left to right in the given order (rank_bm25
    sums in order of each term's first appearance in the corpus).
    """
    total = 0.0
    for value in idf:
        total += value
    values = np.asarray(idf, dtype=np.float64)
    if len(values):
        values[values < 0] = epsilon * (total / len(values))
    return values


def term_weights(
    tf: npt.NDArray[np.integer],
    doc_len: npt.NDArray[np.integer],
    avgdl: float,
    idf: FloatArray | float,
    k1: float,
    b: float,
) -> FloatArray:
    """Return `idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)))` elementwise.

    The operations and their order are those of rank_bm25's `get_scores`, so each weight is the
    exact amount rank_bm25 adds to a document's score for one occurrence of the term in a query.
    """
    return np.asarray(idf * tf_norm(tf, doc_len, avgdl, k1, b), dtype=np.float64)


def tf_norm(
    tf: npt.NDArray[np.integer],
    doc_len: npt.NDArray[np.integer],
    avgdl: float,
    k1: float,
    b: float,
) -> FloatArray:
    """Return `tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))`, the factor of idf in `w`.

    Operations in rank_bm25's order, so `idf * tf_norm(...)` is `term_weights(...)` bit for bit.
    """
    tf64 = tf.astype(np.int64)
    norm = 1 - b + b * doc_len.astype(np.int64) / avgdl
    return np.asarray(tf64 * (k1 + 1) / (tf64 + k1 * norm), dtype=np.float64)


class BM25Index:
    """An inverted index whose scores equal rank_bm25's `BM25Okapi.get_scores`.

    Attributes:
        params: The BM25 parameters the weights were computed with.
        vocabulary: Terms by term id, in order of first appearance.
        terms: Term -> term id.
        postings: The posting lists (`index.lexical.postings`).
        doc_len: Number of terms of each sentence, by row.
        idf: Floored idf of each term id.
    """

    def __init__(
        self,
        params: BM25Params,
        vocabulary: list[str],
        postings: Postings,
        doc_len: IntArray,
        idf: FloatArray,
        *,
        mapped: dict[str, Any] | None = None,
        terms: dict[str, int] | None = None,
    ) -> None:
        self.params = params
        self.vocabulary = vocabulary
        self.terms = terms if terms is not None else {term: i for i, term in enumerate(vocabulary)}
        self.postings = postings
        self.doc_len = doc_len
        self.idf = idf
        # The memory maps themselves (`postings` holds plain ndarray views of them, which the
        # kernel takes and which slice faster).
        self._mapped = mapped or {}
        self._local = threading.local()

    @property
    def n_docs(self) -> int:
        """Number of indexed sentences (empty ones included, as rank_bm25 counts them)."""
        return len(self.doc_len)

    @property
    def ranks(self) -> npt.NDArray[Any]:
        """Low 16 bits of every posting's rank (memory-mapped when loaded)."""
        ranks: npt.NDArray[Any] = self._mapped.get("ranks", self.postings.ranks)
        return ranks

    def doc_freq(self, term: int) -> int:
        """Return the number of sentences holding term id `term`."""
        offsets, n = self.postings.offsets, len(self.vocabulary)
        return int(offsets[term + 1] - offsets[term] + offsets[n + term + 1] - offsets[n + term])

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]], params: BM25Params | None = None) -> BM25Index:
        """Index a corpus of token lists, as `rank_bm25.BM25Okapi(corpus, **params)` would."""
        params = params or BM25Params()
        # Terms numbered in order of first appearance, as rank_bm25's dictionaries hold them.
        vocabulary = list(dict.fromkeys(chain.from_iterable(corpus)))
        term_id = {term: i for i, term in enumerate(vocabulary)}
        token_ids = np.fromiter(
            map(term_id.__getitem__, chain.from_iterable(corpus)), dtype=np.int64
        )
        lengths = np.fromiter(map(len, corpus), dtype=np.int32, count=len(corpus))
        return cls.from_token_ids(vocabulary, token_ids, lengths, params)

    @classmethod
    def from_token_ids(
        cls,
        vocabulary: list[str],
        token_ids: npt.NDArray[np.integer],
        doc_len: IntArray,
        params: BM25Params,
    ) -> BM25Index:
        """Index a corpus given as the term ids of all its tokens, sentence after sentence.

        Term ids must be numbered in order of first appearance, as rank_bm25's dictionaries are,
        so the mean idf is summed in rank_bm25's order.
        """
        n_docs = len(doc_len)
        n_terms = len(vocabulary)
        bits = max(n_docs - 1, 1).bit_length()
        row_of_rank = length_ranks(doc_len)
        rank_of_row = np.empty(n_docs, dtype=np.int64)
        rank_of_row[row_of_rank] = np.arange(n_docs)
        # One sortable key per token: term id, then sentence rank.
        keys = np.left_shift(token_ids, bits, dtype=np.int64)
        keys |= np.repeat(rank_of_row, doc_len)
        del rank_of_row
        keys.sort()
        # Runs of equal keys are one posting each; their lengths are the term frequencies.
        starts = np.flatnonzero(np.diff(keys, prepend=-1))
        tf = np.diff(starts, append=len(keys)).astype(np.int32)
        keys = keys[starts]
        del starts
        term_of = (keys >> bits).astype(np.int32)
        ranks = (keys & ((1 << bits) - 1)).astype(np.int32)
        del keys
        doc_freq = np.bincount(term_of, minlength=n_terms)
        idf = floor_idf(okapi_idf(n_docs, doc_freq.tolist()), params.epsilon)
        # With no token at all (every sentence analyzed to nothing) nothing is ever scored, and
        # 1.0 stands in for an average length of 0 that would divide by zero.
        total = int(doc_len.sum())
        avgdl = total / n_docs if total else 1.0

        def norm(tf: npt.NDArray[np.integer], lengths: npt.NDArray[np.integer]) -> FloatArray:
            return tf_norm(tf, lengths, avgdl, params.k1, params.b)

        postings = build_postings(
            term_of, ranks, tf, n_terms, row_of_rank, doc_len.astype(np.int32), idf, norm
        )
        return cls(params, vocabulary, postings, doc_len.astype(np.int32), idf)

    def query_terms(self, terms: Sequence[str]) -> list[int]:
        """Map analyzed query terms to term ids, in order, repeats kept, unknown terms dropped."""
        known = self.terms
        return [known[t] for t in terms if t in known]

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Return every sentence's score, like `BM25Okapi.get_scores` (for tests and tools)."""
        by_rank = np.zeros(self.n_docs, dtype=np.float64)
        for term in self.query_terms(terms):
            for ranks, weights in self._lists(term):
                by_rank[ranks] += weights
        dense = np.empty(self.n_docs, dtype=np.float64)
        dense[self.postings.row_of_rank] = by_rank
        return dense

    def top_k(
        self, terms: Sequence[str], k: int, within: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Return the `k` best sentences with a score above zero, best first.

        Ties are broken by sentence row, ascending. Only the rarest
        `index.lexical.topk_query.MAX_QUERY_TERMS` distinct terms are scored
        (`index.lexical.topk_query.rarest_terms`; every term of a shorter question), and scores are
        exactly `scores(kept)`'s. Most postings of common terms are skipped (see
        `index.lexical.topk`), unless a query term weighs below zero. With `within` (a flag per
        sentence row), only flagged sentences are ranked; the scores stay those of the whole index.
        """
        return self.top_k_ids(rarest_terms(self.postings, self.query_terms(terms)), k, within)

    def top_k_ids(
        self, term_ids: list[int], k: int, within: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Return `top_k` of term ids already kept by `topk_query.rarest_terms` (repeats kept)."""
        if not term_ids or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        if min(self.idf[term_ids].tolist()) < 0:
            return self._exhaustive(term_ids, k, within)
        return top_k_maxscore(self.postings, self.idf, term_ids, k, self._buffers(), within)

    def reweighed(self, idf: FloatArray, avgdl: float) -> BM25Index:
        """Return this index scoring with other corpus statistics: `idf` by term id, `avgdl`."""
        k1, b = self.params.k1, self.params.b

        def norm(tf: npt.NDArray[np.integer], lengths: npt.NDArray[np.integer]) -> FloatArray:
            return tf_norm(tf, lengths, avgdl, k1, b)

        postings = reweigh(self.postings, idf, norm)
        return BM25Index(
            self.params, self.vocabulary, postings, self.doc_len, idf, terms=self.terms
        )

    def top_k_exhaustive(self, terms: Sequence[str], k: int) -> tuple[IntArray, FloatArray]:
        """Return what `top_k` does, adding up every posting of every kept term (for tests)."""
        term_ids = rarest_terms(self.postings, self.query_terms(terms))
        if not term_ids or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        return self._exhaustive(term_ids, k)

    def last_work(self) -> dict[str, int]:
        """Return what this thread's last pruned `top_k` did (see `index.lexical.topk.WORK`)."""
        return dict(zip(WORK, self._buffers().work.tolist(), strict=True))

    def _buffers(self) -> Buffers:
        """Return this thread's work space for `top_k_maxscore`."""
        buffers: Buffers | None = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = Buffers()
        return buffers

    def _lists(self, term: int) -> list[tuple[npt.NDArray[np.int64], FloatArray]]:
        """Return (ranks, weights) of term id `term`'s two lists."""
        idf, n = float(self.idf[term]), len(self.vocabulary)
        p = self.postings
        return [(p.list_ranks(lst), p.list_weights(lst, idf)) for lst in (term, n + term)]

    def _exhaustive(
        self, term_ids: list[int], k: int, within: BoolArray | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Return the top `k` of term ids by adding up all their postings (flagged rows only)."""
        acc: FloatArray | None = getattr(self._local, "acc", None)
        if acc is None or len(acc) != self.n_docs:
            acc = self._local.acc = np.zeros(self.n_docs, dtype=np.float64)
        touched: list[npt.NDArray[np.int64]] = []
        for term in term_ids:
            for ranks, weights in self._lists(term):
                acc[ranks] += weights
                touched.append(ranks)
        candidates = np.unique(np.concatenate(touched))
        scores = acc[candidates]
        acc[candidates] = 0.0
        positive = scores > 0
        rows, scores = self.postings.row_of_rank[candidates[positive]], scores[positive]
        if within is not None:
            kept = within[rows]
            rows, scores = rows[kept], scores[kept]
        order = np.lexsort((rows, -scores))[:k]
        return rows[order].astype(np.int32), scores[order]

    def save(self, folder: Path) -> None:
        """Write the index as named arrays plus `bm25.json` into an existing folder."""
        for name in ARRAYS:
            layout.save_array(folder, name, getattr(self.postings, name))
        layout.save_array(folder, "doc_len", self.doc_len)
        layout.save_array(folder, "idf", self.idf)
        meta = {"params": asdict(self.params), "vocabulary": self.vocabulary}
        (folder / layout.BM25_META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    def save_weights(self, folder: Path) -> None:
        """Write only the statistics-dependent arrays (`WEIGHT_ARRAYS`) into an existing folder."""
        for name in WEIGHT_ARRAYS:
            values = self.idf if name == "idf" else getattr(self.postings, name)
            layout.save_array(folder, name, values)

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True, weights: Path | None = None) -> BM25Index:
        """Load an index written by `save`, memory-mapping its arrays, and check it.

        With `weights`, the statistics-dependent arrays come from that folder (`save_weights`).

        Raises:
            ValueError: An array has the wrong dtype or length, or breaks an invariant the top-k
                kernel relies on (`index.store.layout.check_postings`).
            OSError: A file cannot be read.
            KeyError, TypeError: `bm25.json` lacks a field or has one of the wrong kind.
        """
        meta = json.loads((folder / layout.BM25_META).read_text(encoding="utf-8"))
        vocabulary: list[str] = meta["vocabulary"]
        if not isinstance(vocabulary, list):
            raise TypeError(f"{layout.BM25_META} holds no vocabulary")
        names = (*ARRAYS, "doc_len", "idf")
        mapped = {
            name: layout.load_array(
                weights if weights is not None and name in WEIGHT_ARRAYS else folder,
                name,
                mmap=mmap,
            )
            for name in names
        }
        postings = Postings(**{name: np.asarray(mapped[name]) for name in ARRAYS})
        doc_len, idf = np.asarray(mapped["doc_len"]), np.asarray(mapped["idf"])
        layout.check_length("idf.npy", idf, len(vocabulary))
        layout.check_postings(postings, len(doc_len), len(vocabulary))
        if not np.array_equal(postings.length_of_rank, doc_len[postings.row_of_rank]):
            raise ValueError("length_of_rank.npy disagrees with doc_len.npy")
        if not bool(np.all(np.isfinite(idf))):
            raise ValueError("idf.npy holds a value that is not finite")
        return cls(BM25Params(**meta["params"]), vocabulary, postings, doc_len, idf, mapped=mapped)

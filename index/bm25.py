"""BM25 exactly as rank_bm25's `BM25Okapi`, served from an inverted index of numpy arrays.

rank_bm25 (dorianbrown/rank_bm25, `BM25Okapi`) is the specification:

    idf(t)      = log(N - n(t) + 0.5) - log(n(t) + 0.5)
    idf(t)      = epsilon * mean(idf)        when idf(t) < 0 (the mean is over the unfloored idf)
    w(t, d)     = idf(t) * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)))
    score(q, d) = sum of w(t, d) over the query's terms t, repeats included, in query order

`get_scores` walks every document for every query term. Here each term's postings (sentence
rows and their precomputed `w`, computed with the same floating-point operations in the same
order) are contiguous arrays memory-mapped from the index folder, so a query only touches the
sentences that contain one of its terms, and `top_k` skips most of those (see `index.topk`).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from index.topk import (
    WORK,
    Buffers,
    CodeArray,
    best,
    block_offsets,
    length_ranks,
    suffix_max,
    top_k_maxscore,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]


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


# Arrays of an index folder; `bm25.json` holds the parameters and the vocabulary.
_ARRAYS = (
    "offsets",
    "ranks",
    "codes",
    "tf_norms",
    "blocks",
    "bounds",
    "row_of_rank",
    "doc_len",
    "idf",
)


class BM25Index:
    """An inverted index whose scores equal rank_bm25's `BM25Okapi.get_scores`.

    Sentences are numbered by *rank* in the postings: shortest first, ties by row (see
    `index.topk`); results and `scores` are by row, as everywhere else.

    Attributes:
        params: The BM25 parameters the weights were computed with.
        terms: Term -> term id.
        offsets: Postings of term id `t` are `[offsets[t], offsets[t + 1])`.
        ranks: Sentence rank of each posting, ascending within a term.
        codes: Index into `tf_norms` of each posting: its weight is `idf[t] * tf_norms[code]`,
            the very product rank_bm25 computes.
        tf_norms: The distinct values of `tf_norm` in the corpus.
        blocks: Blocks of `index.topk.BLOCK` postings of term id `t` are
            `[blocks[t], blocks[t + 1])` in `bounds`.
        bounds: Largest weight from each block to the end of its term's postings.
        row_of_rank: Sentence row of each rank.
        doc_len: Number of terms of each sentence, by row.
        idf: Floored idf of each term id.
    """

    def __init__(
        self,
        params: BM25Params,
        vocabulary: list[str],
        offsets: npt.NDArray[np.int64],
        ranks: IntArray,
        codes: CodeArray,
        tf_norms: FloatArray,
        blocks: npt.NDArray[np.int64],
        bounds: FloatArray,
        row_of_rank: IntArray,
        doc_len: IntArray,
        idf: FloatArray,
    ) -> None:
        self.params = params
        self.vocabulary = vocabulary
        self.terms = {term: i for i, term in enumerate(vocabulary)}
        self.offsets = offsets
        self.ranks = ranks
        self.codes = codes
        self.tf_norms = tf_norms
        self.blocks = blocks
        self.bounds = bounds
        self.row_of_rank = row_of_rank
        self.doc_len = doc_len
        self.idf = idf
        # Plain ndarray views of the memory-mapped arrays for the query path: slicing and
        # indexing the np.memmap subclass costs more.
        self._offsets = np.asarray(offsets)
        self._ranks = np.asarray(ranks)
        self._codes = np.asarray(codes)
        self._tf_norms = np.asarray(tf_norms)
        self._blocks = np.asarray(blocks)
        self._bounds = np.asarray(bounds)
        self._row_of_rank = np.asarray(row_of_rank)
        self._idf = np.asarray(idf)
        self._local = threading.local()

    @property
    def n_docs(self) -> int:
        """Number of indexed sentences (empty ones included, as rank_bm25 counts them)."""
        return len(self.doc_len)

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]], params: BM25Params | None = None) -> BM25Index:
        """Index a corpus of token lists, as `rank_bm25.BM25Okapi(corpus, **params)` would."""
        params = params or BM25Params()
        vocabulary: dict[str, int] = {}
        token_ids: list[int] = []
        lengths = np.zeros(len(corpus), dtype=np.int32)
        for row, tokens in enumerate(corpus):
            lengths[row] = len(tokens)
            for token in tokens:
                term = vocabulary.get(token)
                if term is None:
                    term = vocabulary[token] = len(vocabulary)
                token_ids.append(term)
        return cls.from_token_ids(
            list(vocabulary), np.asarray(token_ids, dtype=np.int64), lengths, params
        )

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
        stride = max(n_docs, 1)
        row_of_rank = length_ranks(doc_len)
        rank_of_row = np.empty(n_docs, dtype=np.int64)
        rank_of_row[row_of_rank] = np.arange(n_docs)
        keys = token_ids.astype(np.int64) * stride + np.repeat(rank_of_row, doc_len)
        del rank_of_row
        keys.sort()
        # Runs of equal keys are one posting each; their lengths are the term frequencies.
        starts = np.flatnonzero(np.diff(keys, prepend=-1))
        tf = np.diff(starts, append=len(keys))
        keys = keys[starts]
        del starts
        term_of = keys // stride
        ranks = (keys - term_of * stride).astype(np.int32)
        del keys
        doc_freq = np.bincount(term_of, minlength=n_terms)
        offsets = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=offsets[1:])
        idf = floor_idf(okapi_idf(n_docs, doc_freq.tolist()), params.epsilon)
        avgdl = int(doc_len.sum()) / n_docs if n_docs else 1.0
        codes, tf_norms = _tf_norm_codes(tf, doc_len[row_of_rank[ranks]], avgdl, params)
        del tf
        # Bounds need the weights once; serving reads codes.
        weights = idf[term_of] * tf_norms[codes]
        del term_of
        bounds = suffix_max(offsets, weights)
        del weights
        return cls(
            params,
            vocabulary,
            offsets,
            ranks,
            codes,
            tf_norms,
            block_offsets(offsets),
            bounds,
            row_of_rank,
            doc_len.astype(np.int32),
            idf,
        )

    def query_terms(self, terms: Sequence[str]) -> list[int]:
        """Map analyzed query terms to term ids, in order, repeats kept, unknown terms dropped."""
        known = self.terms
        return [known[t] for t in terms if t in known]

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Return every sentence's score, like `BM25Okapi.get_scores` (for tests and tools)."""
        by_rank = np.zeros(self.n_docs, dtype=np.float64)
        for term in self.query_terms(terms):
            start, end = self._offsets[term], self._offsets[term + 1]
            by_rank[self._ranks[start:end]] += self.posting_weights(term)
        dense = np.empty(self.n_docs, dtype=np.float64)
        dense[self._row_of_rank] = by_rank
        return dense

    def top_k(self, terms: Sequence[str], k: int) -> tuple[IntArray, FloatArray]:
        """Return the `k` best sentences with a score above zero, best first.

        Ties are broken by sentence row, ascending. Scores are exactly `scores(terms)`'s. Most
        postings of common terms are skipped (see `index.topk`), unless a query term weighs
        below zero.
        """
        term_ids = self.query_terms(terms)
        if not term_ids or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        if min(self._idf[term_ids].tolist()) < 0:
            return self._exhaustive(term_ids, k)
        return top_k_maxscore(
            self._offsets,
            self._ranks,
            self._codes,
            self._tf_norms,
            self._blocks,
            self._bounds,
            self._idf,
            self._row_of_rank,
            term_ids,
            k,
            self._buffers(),
        )

    def posting_weights(self, term: int) -> FloatArray:
        """Return `w(t, d)` of each posting of term id `term`, in rank order."""
        start, end = self._offsets[term], self._offsets[term + 1]
        return np.asarray(self._idf[term] * self._tf_norms[self._codes[start:end]])

    def last_work(self) -> dict[str, int]:
        """Return what this thread's last pruned `top_k` did (see `index.topk.WORK`)."""
        return dict(zip(WORK, self._buffers().work.tolist(), strict=True))

    def _buffers(self) -> Buffers:
        """Return this thread's work space for `top_k_maxscore`."""
        buffers: Buffers | None = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = Buffers()
        return buffers

    def top_k_exhaustive(self, terms: Sequence[str], k: int) -> tuple[IntArray, FloatArray]:
        """Return what `top_k` does, adding up every posting of every query term (for tests)."""
        term_ids = self.query_terms(terms)
        if not term_ids or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        return self._exhaustive(term_ids, k)

    def _exhaustive(self, term_ids: list[int], k: int) -> tuple[IntArray, FloatArray]:
        """Return the top `k` of term ids by adding up all their postings."""
        acc: FloatArray | None = getattr(self._local, "acc", None)
        if acc is None or len(acc) != self.n_docs:
            acc = self._local.acc = np.zeros(self.n_docs, dtype=np.float64)
        touched: list[IntArray] = []
        for term in term_ids:
            start, end = self._offsets[term], self._offsets[term + 1]
            at = self._ranks[start:end]
            acc[at] += self.posting_weights(term)
            touched.append(at)
        candidates = touched[0] if len(touched) == 1 else np.unique(np.concatenate(touched))
        scores = acc[candidates]
        acc[candidates] = 0.0
        return best(candidates, scores, self._row_of_rank, k)

    def save(self, folder: Path) -> None:
        """Write the index as named arrays plus `bm25.json` into an existing folder."""
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        meta = {"params": asdict(self.params), "vocabulary": self.vocabulary}
        (folder / "bm25.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> BM25Index:
        """Load an index written by `save`, memory-mapping its arrays."""
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        mode: Literal["r"] | None = "r" if mmap else None
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in _ARRAYS}
        return cls(BM25Params(**meta["params"]), meta["vocabulary"], **arrays)


def _tf_norm_codes(
    tf: npt.NDArray[np.integer], lengths: npt.NDArray[np.integer], avgdl: float, params: BM25Params
) -> tuple[CodeArray, FloatArray]:
    """Return a code per posting and the table of distinct `tf_norm` values the codes index.

    `tf_norm` depends only on (tf, sentence length), and a corpus holds few such pairs.
    """
    if not len(tf):
        return np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.float64)
    stride = int(lengths.max()) + 1
    pairs, pair_of = np.unique(tf.astype(np.int64) * stride + lengths, return_inverse=True)
    values, value_of = np.unique(
        tf_norm(pairs // stride, pairs % stride, avgdl, params.k1, params.b), return_inverse=True
    )
    code_type = np.uint16 if len(values) <= 1 << 16 else np.uint32
    return cast(CodeArray, value_of.astype(code_type)[pair_of]), values

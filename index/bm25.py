"""BM25 exactly as rank_bm25's `BM25Okapi`, served from an inverted index of numpy arrays.

rank_bm25 (dorianbrown/rank_bm25, `BM25Okapi`) is the specification:

    idf(t)      = log(N - n(t) + 0.5) - log(n(t) + 0.5)
    idf(t)      = epsilon * mean(idf)        when idf(t) < 0 (the mean is over the unfloored idf)
    w(t, d)     = idf(t) * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)))
    score(q, d) = sum of w(t, d) over the query's terms t, repeats included, in query order

`get_scores` walks every document for every query term. Here each term's postings (sentence
rows and their precomputed `w`, computed with the same floating-point operations in the same
order) are contiguous arrays, so a query only touches the sentences that contain one of its terms.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

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
    tf64 = tf.astype(np.int64)
    norm = 1 - b + b * doc_len.astype(np.int64) / avgdl
    return np.asarray(idf * (tf64 * (k1 + 1) / (tf64 + k1 * norm)), dtype=np.float64)


_ARRAYS = ("offsets", "docs", "weights", "doc_len")


class BM25Index:
    """An inverted index whose scores equal rank_bm25's `BM25Okapi.get_scores`.

    Attributes:
        params: The BM25 parameters the weights were computed with.
        terms: Term -> term id.
        offsets: Postings of term id `t` are `docs[offsets[t]:offsets[t + 1]]` (ascending rows).
        docs: Sentence rows of all postings, term by term.
        weights: `w(t, d)` of each posting.
        doc_len: Number of terms of each sentence.
        idf: Floored idf of each term id.
    """

    def __init__(
        self,
        params: BM25Params,
        vocabulary: list[str],
        offsets: npt.NDArray[np.int64],
        docs: IntArray,
        weights: FloatArray,
        doc_len: IntArray,
        idf: FloatArray,
    ) -> None:
        self.params = params
        self.vocabulary = vocabulary
        self.terms = {term: i for i, term in enumerate(vocabulary)}
        self.offsets = offsets
        self.docs = docs
        self.weights = weights
        self.doc_len = doc_len
        self.idf = idf
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
        token_ids: npt.NDArray[np.int64],
        doc_len: IntArray,
        params: BM25Params,
    ) -> BM25Index:
        """Index a corpus given as the term ids of all its tokens, sentence after sentence.

        Term ids must be numbered in order of first appearance, as rank_bm25's dictionaries are,
        so the mean idf is summed in rank_bm25's order.
        """
        n_docs = len(doc_len)
        n_terms = len(vocabulary)
        rows = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len)
        keys, tf = np.unique(token_ids * max(n_docs, 1) + rows, return_counts=True)
        term_of = keys // max(n_docs, 1)
        docs = (keys - term_of * max(n_docs, 1)).astype(np.int32)
        doc_freq = np.bincount(term_of, minlength=n_terms)
        offsets = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(doc_freq, out=offsets[1:])
        idf = floor_idf(okapi_idf(n_docs, doc_freq.tolist()), params.epsilon)
        avgdl = int(doc_len.sum()) / n_docs if n_docs else 1.0
        weights = (
            term_weights(tf, doc_len[docs], avgdl, idf[term_of], params.k1, params.b)
            if len(docs)
            else np.zeros(0, dtype=np.float64)
        )
        return cls(params, vocabulary, offsets, docs, weights, doc_len.astype(np.int32), idf)

    def query_terms(self, terms: Sequence[str]) -> list[int]:
        """Map analyzed query terms to term ids, in order, repeats kept, unknown terms dropped."""
        known = self.terms
        return [known[t] for t in terms if t in known]

    def scores(self, terms: Sequence[str]) -> FloatArray:
        """Return every sentence's score, like `BM25Okapi.get_scores` (for tests and tools)."""
        dense = np.zeros(self.n_docs, dtype=np.float64)
        for term in self.query_terms(terms):
            start, end = self.offsets[term], self.offsets[term + 1]
            dense[self.docs[start:end]] += self.weights[start:end]
        return dense

    def top_k(self, terms: Sequence[str], k: int) -> tuple[IntArray, FloatArray]:
        """Return the `k` best sentences with a score above zero, best first.

        Ties are broken by sentence row, ascending. Only postings of the query's terms are read.
        """
        term_ids = self.query_terms(terms)
        if not term_ids or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        acc = self._accumulator()
        touched: list[IntArray] = []
        seen: set[int] = set()
        for term in term_ids:
            start, end = self.offsets[term], self.offsets[term + 1]
            rows = self.docs[start:end]
            acc[rows] += self.weights[start:end]
            if term not in seen:
                seen.add(term)
                touched.append(rows)
        candidates = touched[0] if len(touched) == 1 else np.unique(np.concatenate(touched))
        scores = acc[candidates]
        acc[candidates] = 0.0
        positive = scores > 0
        candidates, scores = candidates[positive], scores[positive]
        if len(scores) > k:
            keep = np.argpartition(-scores, k - 1)[:k]
            candidates, scores = candidates[keep], scores[keep]
        order = np.lexsort((candidates, -scores))
        return candidates[order].astype(np.int32), scores[order]

    def _accumulator(self) -> FloatArray:
        """Return this thread's zeroed score buffer, one slot per sentence."""
        acc: FloatArray | None = getattr(self._local, "acc", None)
        if acc is None or len(acc) != self.n_docs:
            acc = np.zeros(self.n_docs, dtype=np.float64)
            self._local.acc = acc
        return acc

    def save(self, folder: Path) -> None:
        """Write the index as named arrays plus `bm25.json` into an existing folder."""
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))
        np.save(folder / "idf.npy", self.idf)
        meta = {"params": asdict(self.params), "vocabulary": self.vocabulary}
        (folder / "bm25.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> BM25Index:
        """Load an index written by `save`, memory-mapping its arrays."""
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        mode: Literal["r"] | None = "r" if mmap else None
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in _ARRAYS}
        idf = np.load(folder / "idf.npy", mmap_mode=mode)
        return cls(
            BM25Params(**meta["params"]),
            meta["vocabulary"],
            arrays["offsets"],
            arrays["docs"],
            arrays["weights"],
            arrays["doc_len"],
            idf,
        )

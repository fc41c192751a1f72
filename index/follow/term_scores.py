"""The BM25 stage of the percolator: new sentences scored for every standing question at once.

`index.follow.percolate` files each standing question under the terms it scores (an inverted
index, a sparse term x question matrix); here the new sentences' rank_bm25 weights times that
matrix give every (sentence, question) score at once (scipy's sparse product), and those at the
question's coverage floor (`MIN_COVERAGE` of its ideal score) are kept, as sorted arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from index.answers.policy import MIN_COVERAGE
from index.answers.search import NewsIndex
from index.lexical.bm25 import tf_norm
from index.store import layout

# Sentences whose BM25 scores for every standing question are computed in one sparse product.
SPARSE_BLOCK = 2048

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Scores:
    """BM25 scores of (sentence position, question slot) pairs at the floor, sorted by pair.

    Attributes:
        slots: Number of question slots (a pair's key is `position * slots + slot`).
        keys: The pairs' keys, ascending.
        values: Their scores.
        shared: The keys of every pair sharing a scored term (any score above 0), ascending
            (empty unless asked for: `bm25_scores`).
    """

    slots: int
    keys: IntArray
    values: FloatArray
    shared: IntArray

    def __len__(self) -> int:
        return len(self.keys)

    def pairs(self) -> tuple[IntArray, IntArray]:
        """Return each pair's position and slot, in key order."""
        return self.keys // self.slots, self.keys % self.slots

    def of(self, position: IntArray, slot: IntArray) -> FloatArray:
        """Return the score of each (position, slot) pair; 0 for a pair below the floor."""
        wanted = np.asarray(position, dtype=np.int64) * self.slots + np.asarray(slot, np.int64)
        at = np.minimum(np.searchsorted(self.keys, wanted), max(len(self.keys) - 1, 0))
        if not len(self.keys):
            return np.zeros(len(wanted), dtype=np.float64)
        return np.where(self.keys[at] == wanted, self.values[at], 0.0)

    def shares(self, position: IntArray, slot: IntArray) -> npt.NDArray[np.bool_]:
        """Return whether each (position, slot) sentence shares a scored term with the question."""
        wanted = np.asarray(position, dtype=np.int64) * self.slots + np.asarray(slot, np.int64)
        if not len(self.shared):
            return np.zeros(len(wanted), dtype=bool)
        at = np.minimum(np.searchsorted(self.shared, wanted), len(self.shared) - 1)
        found: npt.NDArray[np.bool_] = self.shared[at] == wanted
        return found


def sentence_terms(index: NewsIndex, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Return each sentence's distinct terms: (position in `rows`, term id, term frequency).

    Read from the segments' stored analysis (`tokens.npy`), so nothing is analyzed again.
    """
    bm25 = index.bm25
    positions, terms = [], []
    segment_of = np.searchsorted(bm25.starts, rows, side="right") - 1
    for s in np.unique(segment_of).tolist():
        segment = bm25.segments[s]
        name = index.header["segments"][s]["name"]
        tokens = np.asarray(layout.load_array(index.folder / name, "tokens"))
        ends = np.cumsum(segment.doc_len.astype(np.int64))
        to_global = np.asarray([bm25.terms.get(t, -1) for t in segment.vocabulary], np.int64)
        mine = np.flatnonzero(segment_of == s)
        local = rows[mine] - int(bm25.starts[s])
        lengths = segment.doc_len[local].astype(np.int64)
        firsts = ends[local] - lengths
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        picked = tokens[np.repeat(firsts, lengths) + within]
        positions.append(np.repeat(mine, lengths))
        terms.append(to_global[picked])
    position = np.concatenate(positions)
    term = np.concatenate(terms)
    keep = term >= 0
    width = len(bm25.vocabulary) + 1
    keys, tf = np.unique(position[keep] * width + term[keep], return_counts=True)
    return keys // width, keys % width, tf.astype(np.int64)


def bm25_scores(
    index: NewsIndex,
    inverted: sparse.csr_matrix,
    ideal: FloatArray,
    rows: IntArray,
    *,
    shared: bool = False,
) -> Scores:
    """Return rank_bm25's score of each (position in `rows`, question slot) at its floor or more.

    A sparse product, by blocks of sentences: the new sentences' term weights (idf times
    `tf_norm`, by term id) times the inverted index (`inverted`: how often each question scores
    each term). A sentence meets only the questions filed under one of its terms. The floor is
    `MIN_COVERAGE` of the question's ideal score (`ideal`, by slot). With `shared`, every
    pair sharing a term is kept too (`Scores.shared`; without, it is empty): only the semantic
    path asks, and on the Reuters bench it costs 0.7 s.
    """
    slots = inverted.shape[1]
    if not inverted.nnz:
        empty = np.zeros(0, dtype=np.int64)
        return Scores(slots, empty, np.zeros(0, dtype=np.float64), empty)
    bm25 = index.bm25
    position, term, tf = sentence_terms(index, rows)
    weights = bm25.idf[term] * tf_norm(
        tf, bm25.doc_len[rows[position]], bm25.avgdl, bm25.params.k1, bm25.params.b
    )
    width = len(bm25.vocabulary) + 1
    sentences = sparse.csr_matrix((weights, (position, term)), shape=(len(rows), width))
    floor = MIN_COVERAGE * ideal - 1e-12
    keys, values, sharing = [], [], []
    for start in range(0, len(rows), SPARSE_BLOCK):
        product = (sentences[start : start + SPARSE_BLOCK] @ inverted).tocoo()
        every = (product.row.astype(np.int64) + start) * slots + product.col
        positive = product.data > 0
        keep = (product.data >= floor[product.col]) & positive
        keys.append(every[keep])
        values.append(product.data[keep].astype(np.float64))
        if shared:
            sharing.append(np.sort(every[positive]))  # blocks follow one another: sorted
    key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    value = np.concatenate(values) if values else np.zeros(0, dtype=np.float64)
    order = np.argsort(key, kind="stable")
    every_shared = np.concatenate(sharing) if sharing else np.zeros(0, dtype=np.int64)
    return Scores(slots, key[order], value[order], every_shared)

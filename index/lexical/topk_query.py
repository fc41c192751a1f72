"""A question's way into the top-k kernel (`index.lexical.topk`): its terms, a work space, the call.

Work per question is bounded: only the `MAX_QUERY_TERMS` rarest distinct terms of a question are
scored (`rarest_terms`, applied by `index.lexical.bm25.BM25Index.top_k`), so a 4,096-character
message of hundreds of distinct words costs what a question of `MAX_QUERY_TERMS` terms does, and
a thread's `Buffers` never outgrow that size. `top_k_maxscore` checks a question, gives each of
its distinct terms a slot, and calls the kernel.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.lexical import topk
from index.lexical.postings import Postings
from index.lexical.topk import WINDOW, WORK

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

# Distinct terms of a question that are scored: its rarest. The costliest question is one made of
# the corpus's commonest words; at 1M sentences each of those adds about 0.7 ms (12: 8 ms, 16:
# 12 ms; `python -m bench.worst_question`), and news questions have at most 8 (bench/questions).
MAX_QUERY_TERMS = 12


class DocFreqs(Protocol):
    """What `rarest_terms` asks of an index: how many sentences hold each term."""

    def doc_freqs(self, terms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Return the number of sentences holding each term id of `terms`."""
        ...


def rarest_terms(postings: DocFreqs, query: list[int]) -> list[int]:
    """Return `query` keeping only the occurrences of its `MAX_QUERY_TERMS` rarest distinct terms.

    Rarest: in the fewest sentences, ties by first occurrence in the query. Repeats and query
    order are kept, so the BM25 of the kept terms is still exactly rank_bm25's
    `get_scores(kept)`; a query of at most `MAX_QUERY_TERMS` distinct terms comes back whole.
    The commonest terms are the ones left out: they weigh least (lowest idf) and cost most.

    Args:
        postings: The index's lists (or any index that counts the sentences holding a term).
        query: Term ids, repeats kept, in query order.
    """
    distinct = list(dict.fromkeys(query))
    if len(distinct) <= MAX_QUERY_TERMS:
        return query
    doc_freqs = postings.doc_freqs(np.asarray(distinct, dtype=np.int64))
    rarest = np.argsort(doc_freqs, kind="stable")[:MAX_QUERY_TERMS]
    kept = {distinct[i] for i in rarest.tolist()}
    return [term for term in query if term in kept]


class Buffers:
    """One thread's work space for `top_k_maxscore`: zeroed once, left zeroed by every query.

    Allocated at its largest, for a query of `MAX_QUERY_TERMS` distinct terms (about 1.7 MB), and
    never grown.
    """

    def __init__(self) -> None:
        self.partial: FloatArray = np.zeros(WINDOW, dtype=np.float64)
        self.scratch: FloatArray = np.zeros(WINDOW, dtype=np.float64)
        self._contrib: FloatArray = np.zeros(WINDOW * 2 * MAX_QUERY_TERMS, dtype=np.float64)
        self.work = np.zeros(len(WORK), dtype=np.int64)

    def contrib(self, n_lists: int) -> FloatArray:
        """Return a zeroed `WINDOW` x `n_lists` array (`n_lists` at most `2 * MAX_QUERY_TERMS`)."""
        if n_lists > 2 * MAX_QUERY_TERMS:
            raise ValueError(f"{n_lists} lists where {2 * MAX_QUERY_TERMS} at most fit")
        return self._contrib[: WINDOW * n_lists].reshape(WINDOW, n_lists)


def top_k_maxscore(
    postings: Postings,
    idf: FloatArray,
    query: list[int],
    k: int,
    buffers: Buffers,
    within: BoolArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Return the exact top `k` rows and scores of a query whose terms all weigh at least zero.

    Args:
        postings: The index's lists.
        idf: Idf of each term.
        query: Term ids, repeats kept, in query order; at most `MAX_QUERY_TERMS` distinct ones
            (see `rarest_terms`).
        k: How many sentences to return at most.
        buffers: This thread's work space.
        within: A flag per sentence row: only flagged sentences are ranked (None: all). Scores
            are unchanged; `theta` is the k-th best flagged score, so the walk stays exact.

    Raises:
        ValueError: The query has more than `MAX_QUERY_TERMS` distinct terms, or `within` is
            not one flag per sentence.
    """
    if within is None:
        within = _EVERY_ROW
    elif len(within) != len(postings.row_of_rank) or within.dtype != np.bool_:
        raise ValueError(f"within: {len(within)} flags for {len(postings.row_of_rank)} sentences")
    slot: dict[int, int] = {}
    for term in query:
        slot.setdefault(term, len(slot))
    if len(slot) > MAX_QUERY_TERMS:
        raise ValueError(f"{len(slot)} distinct terms where {MAX_QUERY_TERMS} at most are scored")
    terms = np.fromiter(slot, dtype=np.int64, count=len(slot))
    slots = np.fromiter((slot[t] for t in query), dtype=np.int64, count=len(query))
    contrib = buffers.contrib(2 * len(terms))
    # Looked up on the module at each call, so that a profile can wrap the kernel (bench.speed).
    return topk._maxscore(  # type: ignore[no-any-return]
        postings,
        idf,
        terms,
        slots,
        k,
        contrib,
        buffers.partial,
        buffers.scratch,
        buffers.work,
        within,
    )


# `within` for "every sentence": no flags.
_EVERY_ROW = np.zeros(0, dtype=np.bool_)

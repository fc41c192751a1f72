"""Exact top-k BM25 that skips most postings: windowed MaxScore over length-ordered postings.

Postings are ordered by sentence *rank*, sentences ranked shortest first (ties by row): a term's
weight falls as sentences grow longer, so good sentences come early and the top k fills fast.
Each list is cut into blocks of `BLOCK` postings, and for each block the index keeps the largest
weight from that block to the end of the list (`suffix_max`), a bound that falls along the walk.

MaxScore (Turtle and Flood, 1995): with `theta` the k-th best score so far, sort the query terms
by how much they can still add (`m * suffix_max`, `m` being the term's repeats in the query); the
cheapest terms whose bounds sum below `theta` are non-essential, since a sentence holding only those
cannot enter the top k. The kernel (numba) walks the ranks in windows of `WINDOW`, as Lucene's
MaxScoreBulkScorer does, so that the inner loops are short and predictable:

1. the essential terms' postings in the window are added into per-sentence slots (one exact weight
   per term, and their sum as a bound), marking the sentences touched in a bitset;
2. the touched sentences are taken in rank order, and those whose sum plus the non-essential
   bounds cannot reach `theta` are dropped;
3. the non-essential terms, heaviest first, fill in the weights of the survivors, by scanning the
   term's postings in the window when they are few per survivor, else by galloping to each, and
   the survivors that can no longer reach `theta` are dropped after each term;
4. the survivors are scored exactly: the weights rank_bm25 adds, summed in query order, so scores
   equal `BM25Okapi.get_scores` bit for bit, and ranked by score, then row, in a heap of k.

Between windows `theta` rises and bounds fall, terms turn non-essential and their lists are only
looked into; the walk ends when no term is essential. Bounds only decide which sentences are
scored, never a score, and are loosened by a relative `SLACK` far above floating-point rounding,
so the result is the exhaustive one. Bounds need weights of at least zero: `index.bm25` sends a
query with a negative weight (rank_bm25 floors idf to a negative value when the mean idf is
negative) through an exhaustive sum instead.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
OffsetArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.unsignedinteger[Any]]

# Index of the lowest set bit of a uint64 (an LLVM intrinsic, `cttz`).
trailing_zeros: Any = _trailing_zeros
# What the last query of a thread did (`Buffers.work`), for profiles.
WORK = (
    "windows",
    "essential postings read",
    "candidates",
    "candidates after the first bound",
    "non-essential postings scanned",
    "non-essential lookups",
    "sentences scored",
)
# Postings per block of `suffix_max`.
BLOCK = 64
# Relative loosening of every bound: far above the rounding error of a sum of a few hundred
# weights, far below any gap between scores that matters.
SLACK = 1e-9
# Ranks read at a time: the window's weights stay in the fastest caches.
WINDOW = 8192
# A non-essential term's postings in a window are scanned rather than looked up one candidate
# at a time when there are fewer than this many per live candidate.
_SCAN_PER_LOOKUP = 8


class Buffers:
    """One thread's work space for `top_k_maxscore`: zeroed once, left zeroed by every query."""

    def __init__(self) -> None:
        self.partial: FloatArray = np.zeros(WINDOW, dtype=np.float64)
        self.scratch: FloatArray = np.zeros(WINDOW, dtype=np.float64)
        self._contrib: FloatArray = np.zeros(WINDOW * 8, dtype=np.float64)
        self.work = np.zeros(len(WORK), dtype=np.int64)

    def contrib(self, n_terms: int) -> FloatArray:
        """Return a zeroed `WINDOW` x `n_terms` array."""
        if len(self._contrib) < WINDOW * n_terms:
            self._contrib = np.zeros(WINDOW * n_terms, dtype=np.float64)
        return self._contrib[: WINDOW * n_terms].reshape(WINDOW, n_terms)


def length_ranks(doc_len: IntArray) -> IntArray:
    """Return the row of each rank: sentences by length ascending, then by row."""
    return np.argsort(doc_len, kind="stable").astype(np.int32)


def block_offsets(offsets: OffsetArray) -> OffsetArray:
    """Return where each term's blocks start in `suffix_max` (one more entry: the total)."""
    n_blocks = (np.diff(offsets) + BLOCK - 1) // BLOCK
    out = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(n_blocks, out=out[1:])
    return out


def suffix_max(offsets: OffsetArray, weights: FloatArray) -> FloatArray:
    """Return, for each block of each term, the largest weight from that block to the list's end."""
    starts = block_offsets(offsets)
    first = (
        np.concatenate([np.arange(int(a), int(b), BLOCK) for a, b in pairwise(offsets.tolist())])
        if len(weights)
        else np.zeros(0, dtype=np.int64)
    )
    out = np.maximum.reduceat(weights, first) if len(first) else np.zeros(0, dtype=np.float64)
    # Within each term, a running maximum from the last block backwards.
    long_terms = np.flatnonzero(np.diff(starts) > 1)
    for t in long_terms.tolist():
        a, b = int(starts[t]), int(starts[t + 1])
        out[a:b] = np.maximum.accumulate(out[a:b][::-1])[::-1]
    return np.asarray(out, dtype=np.float64)


def best(
    ranks: IntArray, scores: FloatArray, row_of_rank: IntArray, k: int
) -> tuple[IntArray, FloatArray]:
    """Return the rows of the `k` best `ranks` with a score above zero: score desc, row asc.

    `ranks` must hold no repeats.
    """
    positive = scores > 0
    rows, scores = row_of_rank[ranks[positive]], scores[positive]
    if len(scores) > k:
        # Keep every row tied with the k-th score, so the row order decides among them.
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.int32, copy=False), scores[order]


def top_k_maxscore(
    offsets: OffsetArray,
    ranks: IntArray,
    codes: CodeArray,
    tf_norms: FloatArray,
    blocks: OffsetArray,
    bounds: FloatArray,
    idf: FloatArray,
    row_of_rank: IntArray,
    query: list[int],
    k: int,
    buffers: Buffers,
) -> tuple[IntArray, FloatArray]:
    """Return the exact top `k` of a query whose terms all weigh at least zero (see module doc).

    Args:
        offsets: Postings of term `t` are `[offsets[t], offsets[t + 1])`.
        ranks: Sentence rank of each posting, ascending within each term.
        codes: `w(t, d) = idf[t] * tf_norms[code]` for each posting.
        tf_norms: Table the codes index.
        blocks: Blocks of term `t` are `[blocks[t], blocks[t + 1])` in `bounds`.
        bounds: `suffix_max` of every block.
        idf: Idf of each term.
        row_of_rank: Sentence row of each rank.
        query: Term ids, repeats kept, in query order.
        k: How many sentences to return at most.
        buffers: This thread's work space.
    """
    slot: dict[int, int] = {}
    for term in query:
        slot.setdefault(term, len(slot))
    terms = np.fromiter(slot, dtype=np.int64, count=len(slot))
    slots = np.fromiter((slot[t] for t in query), dtype=np.int64, count=len(query))
    counts = np.bincount(slots, minlength=len(slot)).astype(np.float64)
    return _maxscore(  # type: ignore[no-any-return]
        offsets[terms],
        offsets[terms + 1],
        blocks[terms],
        counts,
        idf[terms],
        slots,
        ranks,
        codes,
        tf_norms,
        bounds,
        row_of_rank,
        k,
        buffers.contrib(len(terms)),
        buffers.partial,
        buffers.scratch,
        buffers.work,
    )


@numba.njit(cache=True, nogil=True)
def _maxscore(  # type: ignore[no-untyped-def]
    starts,
    ends,
    first_block,
    counts,
    idfs,
    slots,
    ranks,
    codes,
    tf_norm,
    bounds,
    row_of_rank,
    k,
    contrib,
    partial,
    scratch,
    work,
):
    """The MaxScore walk over the postings of the query's distinct terms (see module doc).

    `contrib` (at least `WINDOW` x terms), `partial` and `scratch` (`WINDOW`) are all zeros, and
    are left so. `work` gets the counts of `WORK`.
    """
    work[:] = 0
    n_terms = len(starts)
    n_ranks = len(row_of_rank)
    pos = starts.copy()
    order = np.arange(n_terms)  # terms by bound ascending: non-essential ones first
    bound = np.zeros(n_terms, dtype=np.float64)
    reach = np.zeros(n_terms + 1, dtype=np.float64)  # reach[j]: most order[:j] can add
    touched = np.zeros(WINDOW // 64, dtype=np.uint64)
    candidates = np.empty(WINDOW, dtype=np.int64)
    alive = np.empty(WINDOW, dtype=np.int64)
    one = np.uint64(1)
    heap_scores = np.empty(k, dtype=np.float64)
    heap_rows = np.empty(k, dtype=np.int32)
    size = 0
    theta = 0.0
    no_rank = np.iinfo(np.int32).max
    end = 0  # ranks below it are done
    while True:
        # Cursors catch up with the window; bounds from each cursor on; terms by bound.
        for i in range(n_terms):
            if pos[i] < ends[i] and ranks[pos[i]] < end:
                pos[i] = _gallop(ranks, pos[i], ends[i], end)
            if pos[i] < ends[i]:
                bound[i] = counts[i] * bounds[first_block[i] + (pos[i] - starts[i]) // BLOCK]
            else:
                bound[i] = 0.0
        for j in range(1, n_terms):  # insertion sort: a handful of terms
            t = order[j]
            m = j
            while m > 0 and bound[order[m - 1]] > bound[t]:
                order[m] = order[m - 1]
                m -= 1
            order[m] = t
        total = 0.0
        for j in range(n_terms):
            total += bound[order[j]]
            reach[j + 1] = total * (1 + SLACK)
        essential = 0
        while essential < n_terms and reach[essential + 1] < theta:
            essential += 1
        window = no_rank
        for j in range(essential, n_terms):
            i = order[j]
            if pos[i] < ends[i] and ranks[pos[i]] < window:
                window = ranks[pos[i]]
        if window == no_rank:
            break
        end = window + WINDOW
        work[0] += 1
        # 1. Read the essential terms' postings in [window, end).
        for j in range(essential, n_terms):
            i = order[j]
            p = pos[i]
            idf = idfs[i]
            count = counts[i]
            while p < ends[i] and ranks[p] < end:
                at = ranks[p] - window
                touched[at >> 6] |= one << np.uint64(at & 63)
                w = idf * tf_norm[codes[p]]
                contrib[at, i] = w
                partial[at] += count * w
                p += 1
            work[1] += p - pos[i]
            pos[i] = p
        # 2. Candidates by rank; alive while the non-essential terms can lift them to theta.
        n_candidates = 0
        n_alive = 0
        floor = theta - reach[essential]
        for word in range(WINDOW // 64):
            bits = touched[word]
            touched[word] = 0
            while bits:
                at = word * 64 + trailing_zeros(bits)
                bits &= bits - one
                candidates[n_candidates] = at
                n_candidates += 1
                alive[n_alive] = at
                n_alive += partial[at] >= floor
        work[2] += n_candidates
        work[3] += n_alive
        # 3. Non-essential terms, heaviest first: read each one's weights of the live
        #    candidates, by scanning its postings in the window or galloping to each.
        for j in range(essential - 1, -1, -1):
            if n_alive == 0:
                break
            i = order[j]
            idf = idfs[i]
            count = counts[i]
            density = (ends[i] - starts[i]) / n_ranks
            if density * WINDOW <= _SCAN_PER_LOOKUP * n_alive:
                p = pos[i] = _gallop(ranks, pos[i], ends[i], window)
                while p < ends[i] and ranks[p] < end:
                    scratch[ranks[p] - window] = idf * tf_norm[codes[p]]
                    p += 1
                for c in range(n_alive):
                    at = alive[c]
                    contrib[at, i] = scratch[at]
                for q in range(pos[i], p):
                    scratch[ranks[q] - window] = 0.0
                work[4] += p - pos[i]
                pos[i] = p
            else:
                work[5] += n_alive
                for c in range(n_alive):
                    at = alive[c]
                    p = _gallop(ranks, pos[i], ends[i], window + at)
                    pos[i] = p
                    if p < ends[i] and ranks[p] == window + at:
                        contrib[at, i] = idf * tf_norm[codes[p]]
            floor = theta - reach[j]
            kept = 0
            for c in range(n_alive):
                at = alive[c]
                partial[at] += count * contrib[at, i]
                alive[kept] = at
                kept += partial[at] >= floor
            n_alive = kept
        # 4. Exact scores of the survivors, in query order.
        work[6] += n_alive
        for c in range(n_alive):
            at = alive[c]
            score = 0.0
            for s in slots:
                score += contrib[at, s]
            if score <= 0.0:
                continue
            row = row_of_rank[window + at]
            if size < k:
                heap_scores[size] = score
                heap_rows[size] = row
                size += 1
                _sift_up(heap_scores, heap_rows, size - 1)
            elif _worse(heap_scores[0], heap_rows[0], score, row):
                heap_scores[0] = score
                heap_rows[0] = row
                _sift_down(heap_scores, heap_rows, size)
            if size == k:
                theta = max(theta, heap_scores[0] * (1 - SLACK))
        for c in range(n_candidates):
            at = candidates[c]
            partial[at] = 0.0
            for i in range(n_terms):
                contrib[at, i] = 0.0
    return _sorted(heap_scores[:size], heap_rows[:size])


@numba.njit(cache=True, nogil=True)
def _sorted(scores, rows):  # type: ignore[no-untyped-def]
    """Return rows and scores by score descending, then row ascending."""
    order = np.argsort(rows, kind="mergesort")
    order = order[np.argsort(-scores[order], kind="mergesort")]
    return rows[order], scores[order]


@numba.njit(cache=True, nogil=True, inline="always")
def _gallop(ranks, lo, hi, rank):  # type: ignore[no-untyped-def]
    """Return the first position in `[lo, hi)` whose rank is at least `rank` (else `hi`)."""
    step = 1
    top = lo
    while top < hi and ranks[top] < rank:
        lo = top + 1
        top += step
        step *= 2
    top = min(top, hi)
    while lo < top:
        mid = (lo + top) // 2
        if ranks[mid] < rank:
            lo = mid + 1
        else:
            top = mid
    return lo


@numba.njit(cache=True, nogil=True, inline="always")
def _worse(score_a, row_a, score_b, row_b):  # type: ignore[no-untyped-def]
    """Whether (score_a, row_a) ranks below (score_b, row_b)."""
    return score_a < score_b or (score_a == score_b and row_a > row_b)


@numba.njit(cache=True, nogil=True)
def _sift_up(scores, rows, i):  # type: ignore[no-untyped-def]
    """Restore the heap (worst at the root) after setting leaf `i`."""
    while i > 0:
        parent = (i - 1) // 2
        if not _worse(scores[i], rows[i], scores[parent], rows[parent]):
            break
        scores[i], scores[parent] = scores[parent], scores[i]
        rows[i], rows[parent] = rows[parent], rows[i]
        i = parent


@numba.njit(cache=True, nogil=True)
def _sift_down(scores, rows, size):  # type: ignore[no-untyped-def]
    """Restore the heap (worst at the root) after replacing the root."""
    i = 0
    while True:
        worst = i
        for child in (2 * i + 1, 2 * i + 2):
            if child < size and _worse(scores[child], rows[child], scores[worst], rows[worst]):
                worst = child
        if worst == i:
            return
        scores[i], scores[worst] = scores[worst], scores[i]
        rows[i], rows[worst] = rows[worst], rows[i]
        i = worst

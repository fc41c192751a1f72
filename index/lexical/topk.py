"""Exact top-k BM25 that skips most postings: windowed MaxScore over length-ordered postings.

The lists are those of `index.lexical.postings`: sentences ranked shortest first, each term with a
tf = 1 list (whose weights only fall along the list) and a tf >= 2 list, and for every block of a
list the largest weight from there to its end (`bounds`), a bound that falls along the walk.

MaxScore (Turtle and Flood, 1995): with `theta` the k-th best score so far, sort the query's lists
by how much they can still add (`m * bound`, `m` being the term's repeats in the query); the
cheapest lists whose bounds sum below `theta` are non-essential, since a sentence found only in
those cannot enter the top k. The kernel (numba) walks the ranks in windows of `WINDOW`, as
Lucene's MaxScoreBulkScorer does, so that the inner loops are short and predictable:

1. the essential lists' postings in the window are added into per-sentence slots (one exact weight
   per list, and their sum as a bound), marking the sentences touched in a bitset;
2. the touched sentences are taken in rank order, and those whose sum plus the non-essential
   bounds cannot reach `theta` are dropped;
3. the non-essential lists, heaviest first, fill in the weights of the survivors, by scanning the
   list's postings in the window when they are few per survivor, else by galloping to each, and
   the survivors that can no longer reach `theta` are dropped after each list;
4. the survivors are scored exactly: the weights rank_bm25 adds, summed in query order (a term's
   weight is its tf = 1 weight plus its tf >= 2 weight, one of them zero, so the sum is exact),
   and ranked by score, then row, in a heap of k.

Between windows `theta` rises and bounds fall, lists turn non-essential and are only looked into;
the walk ends when no list is essential. Bounds only decide which sentences are scored, never a
score, and are loosened by a relative `SLACK` far above floating-point rounding, so the result is
the exhaustive one. Bounds need weights of at least zero: `index.lexical.bm25` sends a query with a
negative weight (rank_bm25 floors idf to a negative value when the mean idf is negative) through
an exhaustive sum instead.

The kernel, `_maxscore`, takes the index's lists as one named tuple
(`index.lexical.postings.Postings`); `index.lexical.topk_query.top_k_maxscore` prepares a question
for it (its rarest terms, a thread's zeroed work space) and calls it. Every jitted function of the
walk lives in this file: numba's cache (`cache=True`) is invalidated only by a change to the
cached function's own file, so a helper kept elsewhere could leave a stale kernel in the cache.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

from index.lexical.postings import BLOCK, SHARD_BITS

# Index of the lowest set bit of a uint64 (an LLVM intrinsic, `cttz`).
trailing_zeros: Any = _trailing_zeros
# What the last query of a thread did (`index.lexical.topk_query.Buffers.work`), for profiles.
WORK = (
    "windows",
    "essential postings read",
    "candidates",
    "candidates after the first bound",
    "non-essential postings scanned",
    "non-essential lookups",
    "sentences scored",
)
# Relative loosening of every bound: far above the rounding error of a sum of a few hundred
# weights, far below any gap between scores that matters.
SLACK = 1e-9
# Ranks read at a time (a divisor of a shard): the window's weights stay in the fast caches.
WINDOW = 8192
# A non-essential list's postings in a window are scanned rather than looked up one candidate
# at a time when there are fewer than this many per live candidate.
_SCAN_PER_LOOKUP = 8
# A rank past every sentence: no list has a posting left.
_NO_RANK = 1 << 62


@numba.njit(cache=True, nogil=True)
def _maxscore(postings, idf, terms, slots, k, contrib, partial, scratch, work, within):  # type: ignore[no-untyped-def]
    """The MaxScore walk over the query's lists (see module doc), in the phases it numbers.

    Term `u` (`terms[u]`) has two lists in the walk: `2 u` (tf = 1) and `2 u + 1` (tf >= 2),
    siblings: a sentence is in one of them at most. A sentence read in one list gets its
    sibling's bound taken off its partial sum while the sibling is non-essential, and given back
    when the sibling's turn comes, without a lookup. `contrib` (`WINDOW` x lists), `partial` and
    `scratch` (`WINDOW`) are all zeros, and are left so. `work` gets the counts of `WORK`.

    One function whose arrays are local names, on purpose: split into inlined functions, one
    per phase, taking the named tuples whole (the index's lists, the query's cursors, the
    window's slots), it ran 1.7 to 2.2 times slower at 1M sentences, and still 1.5 times with
    the arrays taken out once per phase, because numba counts a reference (two atomic
    operations; 44% of the time under `perf`) each time an array is taken out of a tuple or
    handed to an inlined function inside the walk; even a `_weight(...)` helper in the inner
    loop cost 30%.

    `within` (empty: every sentence) flags the rows that may be ranked: an unflagged candidate
    is dropped in phase 2, before any lookup.
    """
    offsets = postings.offsets
    ranks = postings.ranks
    dir_offsets = postings.dir_offsets
    dir_shard = postings.dir_shard
    dir_start = postings.dir_start
    codes = postings.codes
    tf_norms = postings.tf_norms
    tf1_norms = postings.tf1_norms
    length_of_rank = postings.length_of_rank
    row_of_rank = postings.row_of_rank
    blocks = postings.blocks
    bounds = postings.bounds
    work[:] = 0
    everyone = len(within) == 0
    n_all = (len(offsets) - 1) // 2
    split = offsets[n_all]  # first tf >= 2 position
    n_ranks = len(row_of_rank)
    n_lists = 2 * len(terms)
    starts = np.empty(n_lists, dtype=np.int64)
    ends = np.empty(n_lists, dtype=np.int64)
    seg = np.empty(n_lists, dtype=np.int64)  # a list's cursor's directory entry
    seg_end = np.empty(n_lists, dtype=np.int64)  # end of a list's directory entries
    first_block = np.empty(n_lists, dtype=np.int64)
    idfs = np.empty(n_lists, dtype=np.float64)
    counts = np.zeros(n_lists, dtype=np.float64)
    for s in slots:
        counts[2 * s] += 1.0
        counts[2 * s + 1] += 1.0
    for i in range(n_lists):
        lst = terms[i // 2] + (i % 2) * n_all
        starts[i] = offsets[lst]
        ends[i] = offsets[lst + 1]
        seg[i] = dir_offsets[lst]
        seg_end[i] = dir_offsets[lst + 1]
        first_block[i] = blocks[lst]
        idfs[i] = idf[terms[i // 2]]
    pos = starts.copy()
    order = np.arange(n_lists)  # lists by bound ascending: non-essential ones first
    bound = np.zeros(n_lists, dtype=np.float64)
    reach = np.zeros(n_lists + 1, dtype=np.float64)  # reach[j]: most order[:j] can add
    essential_list = np.zeros(n_lists, dtype=np.bool_)
    touched = np.zeros(WINDOW // 64, dtype=np.uint64)
    candidates = np.empty(WINDOW, dtype=np.int64)
    alive = np.empty(WINDOW, dtype=np.int64)
    one = np.uint64(1)
    heap_scores = np.empty(k, dtype=np.float64)
    heap_rows = np.empty(k, dtype=np.int32)
    size = 0
    theta = 0.0
    end = 0  # ranks below it are done
    while True:
        # Cursors catch up with the window; bounds from each cursor on; lists by bound.
        for i in range(n_lists):
            pos[i], seg[i] = _seek(
                ranks, dir_shard, dir_start, seg_end[i], ends[i], pos[i], seg[i], end
            )
            bound[i] = 0.0
            if pos[i] < ends[i]:
                bound[i] = counts[i] * bounds[first_block[i] + (pos[i] - starts[i]) // BLOCK]
        for j in range(1, n_lists):  # insertion sort: a handful of lists
            t = order[j]
            m = j
            while m > 0 and bound[order[m - 1]] > bound[t]:
                order[m] = order[m - 1]
                m -= 1
            order[m] = t
        total = 0.0
        for j in range(n_lists):
            total += bound[order[j]]
            reach[j + 1] = total * (1 + SLACK)
        essential = 0
        while essential < n_lists and reach[essential + 1] < theta:
            essential += 1
        window = _NO_RANK
        for j in range(n_lists):
            i = order[j]
            essential_list[i] = j >= essential
            if j >= essential and pos[i] < ends[i]:
                rank = (np.int64(dir_shard[seg[i]]) << SHARD_BITS) + np.int64(ranks[pos[i]])
                if rank < window:
                    window = int(rank)
        if window == _NO_RANK:
            break
        shard = window >> SHARD_BITS
        base = shard << SHARD_BITS
        end = min(window + WINDOW, base + (1 << SHARD_BITS))
        work[0] += 1
        # 1. Read the essential lists' postings in [window, end).
        for j in range(essential, n_lists):
            i = order[j]
            p = pos[i]
            if p >= ends[i] or dir_shard[seg[i]] != shard:
                continue
            stop = dir_start[seg[i] + 1] if seg[i] + 1 < seg_end[i] else ends[i]
            rebate = 0.0 if essential_list[i ^ 1] else bound[i ^ 1] * (1 + SLACK)
            while p < stop and base + np.int64(ranks[p]) < end:
                rank = base + np.int64(ranks[p])
                at = rank - window
                touched[at >> 6] |= one << np.uint64(at & 63)
                w = (
                    idfs[i] * tf_norms[codes[p - split]]
                    if i % 2
                    else idfs[i] * tf1_norms[length_of_rank[rank]]
                )
                contrib[at, i] = w
                partial[at] += counts[i] * w - rebate
                p += 1
            work[1] += p - pos[i]
            pos[i] = p
            if p == stop and p < ends[i]:
                seg[i] += 1
        # 2. Candidates by rank; alive while the non-essential lists can lift them to theta.
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
                if everyone or within[row_of_rank[window + at]]:
                    n_alive += partial[at] >= floor
        work[2] += n_candidates
        work[3] += n_alive
        # 3. Non-essential lists, heaviest first: read each one's weights of the live
        #    candidates (not found in its sibling), by scanning its postings in the window or
        #    galloping to each.
        for j in range(essential - 1, -1, -1):
            if n_alive == 0:
                break
            i = order[j]
            sibling = i ^ 1
            given_back = bound[i] * (1 + SLACK)
            density = (ends[i] - starts[i]) / n_ranks
            if density * WINDOW <= _SCAN_PER_LOOKUP * n_alive:
                pos[i], seg[i] = _seek(
                    ranks, dir_shard, dir_start, seg_end[i], ends[i], pos[i], seg[i], window
                )
                p = pos[i]
                if p < ends[i] and dir_shard[seg[i]] == shard:
                    stop = dir_start[seg[i] + 1] if seg[i] + 1 < seg_end[i] else ends[i]
                    while p < stop and base + np.int64(ranks[p]) < end:
                        rank = base + np.int64(ranks[p])
                        scratch[rank - window] = (
                            idfs[i] * tf_norms[codes[p - split]]
                            if i % 2
                            else idfs[i] * tf1_norms[length_of_rank[rank]]
                        )
                        p += 1
                    for c in range(n_alive):
                        at = alive[c]
                        contrib[at, i] = scratch[at]
                    for q in range(pos[i], p):
                        scratch[base + np.int64(ranks[q]) - window] = 0.0
                    work[4] += p - pos[i]
                    pos[i] = p
                    if p == stop and p < ends[i]:
                        seg[i] += 1
            else:
                for c in range(n_alive):
                    at = alive[c]
                    if essential_list[sibling] and contrib[at, sibling] > 0.0:
                        continue
                    work[5] += 1
                    rank = window + at
                    pos[i], seg[i] = _seek(
                        ranks, dir_shard, dir_start, seg_end[i], ends[i], pos[i], seg[i], rank
                    )
                    p = pos[i]
                    if (
                        p < ends[i]
                        and dir_shard[seg[i]] == shard
                        and base + np.int64(ranks[p]) == rank
                    ):
                        contrib[at, i] = (
                            idfs[i] * tf_norms[codes[p - split]]
                            if i % 2
                            else idfs[i] * tf1_norms[length_of_rank[rank]]
                        )
            floor = theta - reach[j]
            kept = 0
            for c in range(n_alive):
                at = alive[c]
                if essential_list[sibling] and contrib[at, sibling] > 0.0:
                    partial[at] += given_back  # its rebate: this list never held it
                else:
                    partial[at] += counts[i] * contrib[at, i]
                alive[kept] = at
                kept += partial[at] >= floor
            n_alive = kept
        # 4. Exact scores of the survivors, in query order.
        work[6] += n_alive
        for c in range(n_alive):
            at = alive[c]
            score = 0.0
            for s in slots:
                score += contrib[at, 2 * s] + contrib[at, 2 * s + 1]
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
            for i in range(n_lists):
                contrib[at, i] = 0.0
    return _sorted(heap_scores[:size], heap_rows[:size])


@numba.njit(cache=True, nogil=True, inline="always")
def _seek(ranks, dir_shard, dir_start, seg_end, end, pos, seg, rank):  # type: ignore[no-untyped-def]
    """Move a cursor (position, directory entry) to its list's first rank at least `rank`."""
    shard = rank >> SHARD_BITS
    low = rank & 0xFFFF
    while pos < end:
        stop = dir_start[seg + 1] if seg + 1 < seg_end else end
        if dir_shard[seg] > shard:
            return pos, seg
        if dir_shard[seg] == shard:
            p = _gallop(ranks, pos, stop, low)
            if p < stop:
                return p, seg
        pos = stop
        seg += 1
    return end, seg


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

"""Exact top-k BM25 that skips most postings: windowed MaxScore over length-ordered postings.

The lists are those of `index.postings`: sentences ranked shortest first, each term with a tf = 1
list (whose weights only fall along the list) and a tf >= 2 list, and for every block of a list
the largest weight from there to its end (`bounds`), a bound that falls along the walk.

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
the exhaustive one. Bounds need weights of at least zero: `index.bm25` sends a query with a
negative weight (rank_bm25 floors idf to a negative value when the mean idf is negative) through
an exhaustive sum instead.

Work per question is bounded: only the `MAX_QUERY_TERMS` rarest distinct terms of a question are
scored (`rarest_terms`, applied by `index.bm25.BM25Index.top_k`), so a 4,096-character message of
hundreds of distinct words costs what a question of `MAX_QUERY_TERMS` terms does, and a thread's
`Buffers` never outgrow that size.

The kernel is `_maxscore`, one small inlined function per phase; it takes the index's lists as
one named tuple (`index.postings.Postings`) and the query's lists as another (`_Lists`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np
import numpy.typing as npt
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

from index.postings import BLOCK, SHARD_BITS, Postings

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
OffsetArray = npt.NDArray[np.int64]

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
# Distinct terms of a question that are scored: its rarest. The costliest question is one made of
# the corpus's commonest words; at 1M sentences each of those adds about 0.7 ms (12: 8 ms, 16:
# 12 ms; `python -m bench.worst_question`), and news questions have at most 8 (bench/questions).
MAX_QUERY_TERMS = 12
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


def rarest_terms(postings: Postings, query: list[int]) -> list[int]:
    """Return `query` keeping only the occurrences of its `MAX_QUERY_TERMS` rarest distinct terms.

    Rarest: in the fewest sentences, ties by first occurrence in the query. Repeats and query
    order are kept, so the BM25 of the kept terms is still exactly rank_bm25's
    `get_scores(kept)`; a query of at most `MAX_QUERY_TERMS` distinct terms comes back whole.
    The commonest terms are the ones left out: they weigh least (lowest idf) and cost most.

    Args:
        postings: The index's lists.
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
    postings: Postings, idf: FloatArray, query: list[int], k: int, buffers: Buffers
) -> tuple[IntArray, FloatArray]:
    """Return the exact top `k` rows and scores of a query whose terms all weigh at least zero.

    Args:
        postings: The index's lists.
        idf: Idf of each term.
        query: Term ids, repeats kept, in query order; at most `MAX_QUERY_TERMS` distinct ones
            (see `rarest_terms`).
        k: How many sentences to return at most.
        buffers: This thread's work space.

    Raises:
        ValueError: The query has more than `MAX_QUERY_TERMS` distinct terms.
    """
    slot: dict[int, int] = {}
    for term in query:
        slot.setdefault(term, len(slot))
    if len(slot) > MAX_QUERY_TERMS:
        raise ValueError(f"{len(slot)} distinct terms where {MAX_QUERY_TERMS} at most are scored")
    terms = np.fromiter(slot, dtype=np.int64, count=len(slot))
    slots = np.fromiter((slot[t] for t in query), dtype=np.int64, count=len(query))
    contrib = buffers.contrib(2 * len(terms))
    return _maxscore(  # type: ignore[no-any-return]
        postings, idf, terms, slots, k, contrib, buffers.partial, buffers.scratch, buffers.work
    )


class _Lists(NamedTuple):
    """The query's lists in the walk, and a cursor in each.

    List `2 u` is term `u`'s tf = 1 list, `2 u + 1` its tf >= 2 list (siblings: a sentence is in
    one of them at most).
    """

    start: OffsetArray  # first position
    end: OffsetArray  # one past the last position
    pos: OffsetArray  # the cursor
    seg: OffsetArray  # the cursor's directory entry
    seg_end: OffsetArray  # one past the list's last directory entry
    first_block: OffsetArray  # the list's first block in `bounds`
    idf: FloatArray  # the term's idf
    repeats: FloatArray  # the term's repeats in the query
    bound: FloatArray  # most a posting from the cursor on adds, times `repeats`
    essential: npt.NDArray[np.bool_]  # in this window
    split: int  # first tf >= 2 position of the index (where `codes` starts)


class _Window(NamedTuple):
    """The work space of a window.

    `contrib` (`WINDOW` x lists), `partial` and `scratch` are zeros between windows; `touched` is
    a bitset of the window's ranks; `candidates` and `alive` hold offsets into the window.
    """

    contrib: FloatArray
    partial: FloatArray
    scratch: FloatArray
    touched: npt.NDArray[np.uint64]
    candidates: OffsetArray
    alive: OffsetArray


@numba.njit(cache=True, nogil=True)
def _maxscore(postings, idf, terms, slots, k, contrib, partial, scratch, work):  # type: ignore[no-untyped-def]
    """The MaxScore walk over the query's lists (see module doc), window after window.

    A sentence read in one list gets its sibling's bound taken off its partial sum while the
    sibling is non-essential, and given back when the sibling's turn comes, without a lookup.
    `contrib`, `partial` and `scratch` are all zeros, and are left so. `work` gets the counts of
    `WORK`.
    """
    work[:] = 0
    lists = _open_lists(postings, idf, terms, slots)
    n_lists = len(lists.start)
    order = np.arange(n_lists)  # lists by bound ascending: non-essential ones first
    reach = np.zeros(n_lists + 1, dtype=np.float64)  # reach[j]: most order[:j] can add
    win = _Window(
        contrib,
        partial,
        scratch,
        np.zeros(WINDOW // 64, dtype=np.uint64),
        np.empty(WINDOW, dtype=np.int64),
        np.empty(WINDOW, dtype=np.int64),
    )
    heap_scores = np.empty(k, dtype=np.float64)
    heap_rows = np.empty(k, dtype=np.int32)
    size = 0
    theta = 0.0
    end = 0  # ranks below it are done
    while True:
        window, essential = _plan(postings, lists, order, reach, theta, end)
        if window == _NO_RANK:
            break
        base = (window >> SHARD_BITS) << SHARD_BITS
        end = min(window + WINDOW, base + (1 << SHARD_BITS))
        work[0] += 1
        _read_essential(postings, lists, order, essential, window, end, win, work)
        n_candidates, n_alive = _candidates(win, theta - reach[essential], work)
        n_alive = _fill_non_essential(
            postings, lists, order, reach, essential, theta, window, end, n_alive, win, work
        )
        work[6] += n_alive
        size, theta = _score(
            postings, slots, window, n_alive, win, heap_scores, heap_rows, size, theta
        )
        _clear(n_candidates, win)
    return _sorted(heap_scores[:size], heap_rows[:size])


@numba.njit(cache=True, nogil=True, inline="always")
def _open_lists(postings, idf, terms, slots):  # type: ignore[no-untyped-def]
    """Return the query's lists, cursors at their starts."""
    p = postings
    n_all = (len(p.offsets) - 1) // 2
    n_lists = 2 * len(terms)
    start = np.empty(n_lists, dtype=np.int64)
    end = np.empty(n_lists, dtype=np.int64)
    seg = np.empty(n_lists, dtype=np.int64)
    seg_end = np.empty(n_lists, dtype=np.int64)
    first_block = np.empty(n_lists, dtype=np.int64)
    idfs = np.empty(n_lists, dtype=np.float64)
    repeats = np.zeros(n_lists, dtype=np.float64)
    for s in slots:
        repeats[2 * s] += 1.0
        repeats[2 * s + 1] += 1.0
    for i in range(n_lists):
        lst = terms[i // 2] + (i % 2) * n_all
        start[i] = p.offsets[lst]
        end[i] = p.offsets[lst + 1]
        seg[i] = p.dir_offsets[lst]
        seg_end[i] = p.dir_offsets[lst + 1]
        first_block[i] = p.blocks[lst]
        idfs[i] = idf[terms[i // 2]]
    return _Lists(
        start,
        end,
        start.copy(),
        seg,
        seg_end,
        first_block,
        idfs,
        repeats,
        np.zeros(n_lists, dtype=np.float64),
        np.zeros(n_lists, dtype=np.bool_),
        p.offsets[n_all],
    )


@numba.njit(cache=True, nogil=True, inline="always")
def _plan(postings, lists, order, reach, theta, end):  # type: ignore[no-untyped-def]
    """Start a window: cursors catch up with `end`, bounds from each cursor on, lists by bound.

    Returns the window's first rank (`_NO_RANK` when no essential list has postings left) and
    how many lists, in `order`, are non-essential: those whose bounds sum below `theta`.
    """
    n_lists = len(lists.start)
    for i in range(n_lists):
        _seek(postings, lists, i, end)
        lists.bound[i] = 0.0
        if lists.pos[i] < lists.end[i]:
            block = lists.first_block[i] + (lists.pos[i] - lists.start[i]) // BLOCK
            lists.bound[i] = lists.repeats[i] * postings.bounds[block]
    for j in range(1, n_lists):  # insertion sort: a handful of lists
        t = order[j]
        m = j
        while m > 0 and lists.bound[order[m - 1]] > lists.bound[t]:
            order[m] = order[m - 1]
            m -= 1
        order[m] = t
    total = 0.0
    for j in range(n_lists):
        total += lists.bound[order[j]]
        reach[j + 1] = total * (1 + SLACK)
    essential = 0
    while essential < n_lists and reach[essential + 1] < theta:
        essential += 1
    window = _NO_RANK
    for j in range(n_lists):
        i = order[j]
        lists.essential[i] = j >= essential
        if j >= essential and lists.pos[i] < lists.end[i]:
            rank = _rank(postings, lists, i, lists.pos[i])
            window = min(window, rank)
    return window, essential


@numba.njit(cache=True, nogil=True, inline="always")
def _read_essential(postings, lists, order, essential, window, end, win, work):  # type: ignore[no-untyped-def]
    """Phase 1: add the essential lists' postings in `[window, end)` into the window's slots."""
    p = postings
    shard = window >> SHARD_BITS
    base = shard << SHARD_BITS
    one = np.uint64(1)
    for j in range(essential, len(lists.start)):
        i = order[j]
        q = lists.pos[i]
        if q >= lists.end[i] or p.dir_shard[lists.seg[i]] != shard:
            continue
        stop = _entry_stop(p, lists, i)
        sibling = i ^ 1
        rebate = 0.0 if lists.essential[sibling] else lists.bound[sibling] * (1 + SLACK)
        while q < stop and base + np.int64(p.ranks[q]) < end:
            rank = base + np.int64(p.ranks[q])
            at = rank - window
            win.touched[at >> 6] |= one << np.uint64(at & 63)
            w = _weight(p, lists, i, q, rank)
            win.contrib[at, i] = w
            win.partial[at] += lists.repeats[i] * w - rebate
            q += 1
        work[1] += q - lists.pos[i]
        _advance(lists, i, q, stop)


@numba.njit(cache=True, nogil=True, inline="always")
def _candidates(win, floor, work):  # type: ignore[no-untyped-def]
    """Phase 2: the touched sentences by rank, and those alive: partial sum at least `floor`.

    Returns how many candidates and how many alive (`win.candidates`, `win.alive`); clears
    `win.touched`.
    """
    one = np.uint64(1)
    n_candidates = 0
    n_alive = 0
    for word in range(WINDOW // 64):
        bits = win.touched[word]
        win.touched[word] = 0
        while bits:
            at = word * 64 + trailing_zeros(bits)
            bits &= bits - one
            win.candidates[n_candidates] = at
            n_candidates += 1
            win.alive[n_alive] = at
            n_alive += win.partial[at] >= floor
    work[2] += n_candidates
    work[3] += n_alive
    return n_candidates, n_alive


@numba.njit(cache=True, nogil=True, inline="always")
def _fill_non_essential(  # type: ignore[no-untyped-def]
    postings, lists, order, reach, essential, theta, window, end, n_alive, win, work
):
    """Phase 3: the non-essential lists, heaviest first, fill in the live candidates' weights.

    Each list is scanned over the window when its postings there are few per live candidate,
    else looked into at each; after each list, the candidates that can no longer reach `theta`
    are dropped. Returns how many are alive.
    """
    n_ranks = len(postings.row_of_rank)
    for j in range(essential - 1, -1, -1):
        if n_alive == 0:
            break
        i = order[j]
        density = (lists.end[i] - lists.start[i]) / n_ranks
        if density * WINDOW <= _SCAN_PER_LOOKUP * n_alive:
            _scan(postings, lists, i, window, end, n_alive, win, work)
        else:
            _look_up(postings, lists, i, window, n_alive, win, work)
        n_alive = _keep_reachable(lists, i, theta - reach[j], n_alive, win)
    return n_alive


@numba.njit(cache=True, nogil=True, inline="always")
def _scan(postings, lists, i, window, end, n_alive, win, work):  # type: ignore[no-untyped-def]
    """Read list `i`'s weights of the live candidates by scanning its postings in the window."""
    p = postings
    shard = window >> SHARD_BITS
    base = shard << SHARD_BITS
    _seek(p, lists, i, window)
    first = lists.pos[i]
    if first >= lists.end[i] or p.dir_shard[lists.seg[i]] != shard:
        return
    stop = _entry_stop(p, lists, i)
    q = first
    while q < stop and base + np.int64(p.ranks[q]) < end:
        rank = base + np.int64(p.ranks[q])
        win.scratch[rank - window] = _weight(p, lists, i, q, rank)
        q += 1
    for c in range(n_alive):
        at = win.alive[c]
        win.contrib[at, i] = win.scratch[at]
    for r in range(first, q):
        win.scratch[base + np.int64(p.ranks[r]) - window] = 0.0
    work[4] += q - first
    _advance(lists, i, q, stop)


@numba.njit(cache=True, nogil=True, inline="always")
def _look_up(postings, lists, i, window, n_alive, win, work):  # type: ignore[no-untyped-def]
    """Read list `i`'s weights of the live candidates (not found in its sibling) by galloping."""
    p = postings
    shard = window >> SHARD_BITS
    base = shard << SHARD_BITS
    sibling = i ^ 1
    for c in range(n_alive):
        at = win.alive[c]
        if lists.essential[sibling] and win.contrib[at, sibling] > 0.0:
            continue
        work[5] += 1
        rank = window + at
        _seek(p, lists, i, rank)
        q = lists.pos[i]
        if (
            q < lists.end[i]
            and p.dir_shard[lists.seg[i]] == shard
            and base + np.int64(p.ranks[q]) == rank
        ):
            win.contrib[at, i] = _weight(p, lists, i, q, rank)


@numba.njit(cache=True, nogil=True, inline="always")
def _keep_reachable(lists, i, floor, n_alive, win):  # type: ignore[no-untyped-def]
    """Add list `i` into the live candidates' partial sums; keep those at least `floor`."""
    sibling = i ^ 1
    given_back = lists.bound[i] * (1 + SLACK)
    kept = 0
    for c in range(n_alive):
        at = win.alive[c]
        if lists.essential[sibling] and win.contrib[at, sibling] > 0.0:
            win.partial[at] += given_back  # its rebate: this list never held it
        else:
            win.partial[at] += lists.repeats[i] * win.contrib[at, i]
        win.alive[kept] = at
        kept += win.partial[at] >= floor
    return kept


@numba.njit(cache=True, nogil=True, inline="always")
def _score(postings, slots, window, n_alive, win, heap_scores, heap_rows, size, theta):  # type: ignore[no-untyped-def]
    """Phase 4: score the survivors exactly, in query order, into the heap of the best k.

    A term's weight is its tf = 1 weight plus its tf >= 2 weight, one of them zero, so the sum is
    rank_bm25's. Returns the heap's size and the new `theta`.
    """
    k = len(heap_scores)
    for c in range(n_alive):
        at = win.alive[c]
        score = 0.0
        for s in slots:
            score += win.contrib[at, 2 * s] + win.contrib[at, 2 * s + 1]
        if score <= 0.0:
            continue
        row = postings.row_of_rank[window + at]
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
    return size, theta


@numba.njit(cache=True, nogil=True, inline="always")
def _clear(n_candidates, win):  # type: ignore[no-untyped-def]
    """Zero the window's slots of every candidate, for the next window."""
    n_lists = win.contrib.shape[1]
    for c in range(n_candidates):
        at = win.candidates[c]
        win.partial[at] = 0.0
        for i in range(n_lists):
            win.contrib[at, i] = 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _weight(postings, lists, i, q, rank):  # type: ignore[no-untyped-def]
    """Return the weight of list `i`'s posting at position `q`, of rank `rank`.

    rank_bm25's `idf * tf_norm(tf, |d|)`, bit for bit (`index.postings`).
    """
    if i % 2:
        return lists.idf[i] * postings.tf_norms[postings.codes[q - lists.split]]
    return lists.idf[i] * postings.tf1_norms[postings.length_of_rank[rank]]


@numba.njit(cache=True, nogil=True, inline="always")
def _rank(postings, lists, i, q):  # type: ignore[no-untyped-def]
    """Return the rank of list `i`'s posting at position `q` (in its cursor's directory entry)."""
    return (np.int64(postings.dir_shard[lists.seg[i]]) << SHARD_BITS) + np.int64(postings.ranks[q])


@numba.njit(cache=True, nogil=True, inline="always")
def _entry_stop(postings, lists, i):  # type: ignore[no-untyped-def]
    """Return one past the last position of list `i`'s cursor's directory entry."""
    seg = lists.seg[i]
    return postings.dir_start[seg + 1] if seg + 1 < lists.seg_end[i] else lists.end[i]


@numba.njit(cache=True, nogil=True, inline="always")
def _advance(lists, i, q, stop):  # type: ignore[no-untyped-def]
    """Move list `i`'s cursor to `q`, into the next directory entry when its entry ends there."""
    lists.pos[i] = q
    if q == stop and q < lists.end[i]:
        lists.seg[i] += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _seek(postings, lists, i, rank):  # type: ignore[no-untyped-def]
    """Move list `i`'s cursor to the list's first rank at least `rank` (else its end)."""
    p = postings
    shard = rank >> SHARD_BITS
    low = rank & 0xFFFF
    pos = lists.pos[i]
    seg = lists.seg[i]
    end = lists.end[i]
    while pos < end:
        stop = p.dir_start[seg + 1] if seg + 1 < lists.seg_end[i] else end
        if p.dir_shard[seg] > shard:
            break
        if p.dir_shard[seg] == shard:
            found = _gallop(p.ranks, pos, stop, low)
            if found < stop:
                pos = found
                break
        pos = stop
        seg += 1
    lists.pos[i] = pos
    lists.seg[i] = seg


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

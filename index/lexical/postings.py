"""The posting lists of a BM25 index: compact, length-ordered, with bounds for pruning.

Sentences are numbered by *rank*: shortest first, ties by row. Each term has two lists, rank
ascending: its postings with tf = 1, and those with tf >= 2. List `t` is term `t`'s tf = 1 list,
list `n_terms + t` its tf >= 2 list. A posting's weight is rank_bm25's `idf * tf_norm(tf, |d|)`:

- tf = 1: `idf[t] * tf1_norms[length_of_rank[rank]]`; nothing is stored but the rank, and since
  `|d|` grows with the rank, these weights only fall along the list;
- tf >= 2 (a few percent of postings): `idf[t] * tf_norms[codes[p - offsets[n_terms]]]`, a code
  into the table of distinct values; their term frequencies are kept too (`tf2`), so that the
  weights can be computed again for other corpus statistics (`reweigh`: an index of several
  segments scores each with the statistics of all of them, `index.lexical.segments`).

Either way the product is the very one rank_bm25 computes, bit for bit. Ranks are stored on 16
bits: the rank space is cut into shards of 65,536, and each list has a *directory*, one entry per
shard it has postings in (`dir_shard`, and `dir_start`, the entry's first position); a rank is
`dir_shard << 16 | ranks[p]`. Each list is also cut into blocks of `BLOCK` postings, and `bounds`
holds, for every block, the largest weight from that block to the end of the list.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
OffsetArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.unsignedinteger[Any]]

SHARD_BITS = 16
# Postings per block of `bounds`.
BLOCK = 64


class Postings(NamedTuple):
    """All posting lists (see the module doc).

    A named tuple of arrays, so that the numba kernel (`index.lexical.topk`) takes it whole as one
    argument and reads its fields by name.

    Attributes:
        offsets: List `l` is positions `[offsets[l], offsets[l + 1])`; `2 * n_terms` lists.
        ranks: Low 16 bits of each posting's rank, ascending within a directory entry.
        dir_offsets: List `l`'s directory entries are `[dir_offsets[l], dir_offsets[l + 1])`.
        dir_shard: Shard (rank >> 16) of each directory entry.
        dir_start: First position of each directory entry.
        codes: Index into `tf_norms` of each tf >= 2 posting.
        tf_norms: Distinct `tf_norm` values of tf >= 2 postings.
        tf1_norms: `tf_norm(1, n)` for every sentence length `n`.
        length_of_rank: Number of terms of the sentence of each rank.
        row_of_rank: Row of the sentence of each rank.
        blocks: List `l`'s blocks are `[blocks[l], blocks[l + 1])` in `bounds`.
        bounds: Largest weight from each block to the end of its list.
        tf2: Term frequency of each tf >= 2 posting (what `codes` encodes, with the length).
    """

    offsets: OffsetArray
    ranks: UIntArray
    dir_offsets: OffsetArray
    dir_shard: UIntArray
    dir_start: npt.NDArray[np.signedinteger[Any]]
    codes: UIntArray
    tf_norms: FloatArray
    tf1_norms: FloatArray
    length_of_rank: UIntArray
    row_of_rank: IntArray
    blocks: OffsetArray
    bounds: FloatArray
    tf2: UIntArray

    @property
    def n_terms(self) -> int:
        """Number of terms (half the number of lists)."""
        return (len(self.offsets) - 1) // 2

    def all_ranks(self) -> npt.NDArray[np.int64]:
        """Return the rank of every posting, list after list."""
        total = int(self.offsets[-1])
        counts = np.diff(np.append(self.dir_start.astype(np.int64), total))
        high = np.repeat(self.dir_shard.astype(np.int64) << SHARD_BITS, counts)
        return np.asarray(high | self.ranks, dtype=np.int64)

    def list_ranks(self, lst: int) -> npt.NDArray[np.int64]:
        """Return the ranks of list `lst`, ascending."""
        start, end = int(self.offsets[lst]), int(self.offsets[lst + 1])
        entries = slice(int(self.dir_offsets[lst]), int(self.dir_offsets[lst + 1]))
        counts = np.diff(np.append(self.dir_start[entries], end))
        high = np.repeat(self.dir_shard[entries].astype(np.int64) << SHARD_BITS, counts)
        return np.asarray(high | self.ranks[start:end], dtype=np.int64)

    def list_weights(self, lst: int, idf: float) -> FloatArray:
        """Return the weights of list `lst` (of a term whose idf is `idf`), in rank order."""
        start, end = int(self.offsets[lst]), int(self.offsets[lst + 1])
        if lst < self.n_terms:
            norms = self.tf1_norms[self.length_of_rank[self.list_ranks(lst)]]
        else:
            base = int(self.offsets[self.n_terms])
            norms = self.tf_norms[self.codes[start - base : end - base]]
        return np.asarray(idf * norms, dtype=np.float64)

    def doc_freqs(self, terms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Return the number of sentences holding each term id of `terms` (both its lists)."""
        n, offsets = self.n_terms, self.offsets
        once = offsets[terms + 1] - offsets[terms]
        repeated = offsets[n + terms + 1] - offsets[n + terms]
        return np.asarray(once + repeated, dtype=np.int64)


# Arrays of `Postings`, in the order the fields are declared (also their file names).
ARRAYS: tuple[str, ...] = Postings._fields


def build_postings(
    term_of: IntArray,
    rank: IntArray,
    tf: IntArray,
    n_terms: int,
    row_of_rank: IntArray,
    doc_len: IntArray,
    idf: FloatArray,
    tf_norm: Any,
) -> Postings:
    """Lay out postings given as (term, rank, tf), sorted by term then rank.

    Args:
        term_of: Term of each posting.
        rank: Sentence rank of each posting.
        tf: Term frequency of each posting.
        n_terms: Number of terms.
        row_of_rank: Row of each rank (sentences by length, then row).
        doc_len: Number of terms of each sentence, by row.
        idf: Floored idf of each term.
        tf_norm: `index.lexical.bm25.tf_norm` with the corpus's avgdl, k1 and b bound:
            `tf_norm(tf, lengths) -> factors`.
    """
    n_docs = len(row_of_rank)
    length_of_rank = doc_len[row_of_rank]
    max_len = int(length_of_rank.max()) if n_docs else 0
    # tf = 1 postings first, then tf >= 2; each group stays by term, then rank.
    repeated = tf >= 2
    once = ~repeated
    term_of = np.concatenate([term_of[once], term_of[repeated]])
    rank = np.concatenate([rank[once], rank[repeated]])
    tf = tf[repeated]
    split = len(term_of) - len(tf)
    del once, repeated
    n_lists = 2 * n_terms
    lst = term_of.astype(np.int64)
    lst[split:] += n_terms
    offsets = np.zeros(n_lists + 1, dtype=np.int64)
    np.cumsum(np.bincount(lst, minlength=n_lists), out=offsets[1:])

    # Directory: one entry per (list, shard) with postings.
    n_shards = max(1, -(-n_docs >> SHARD_BITS))
    keys = lst * n_shards + (rank >> SHARD_BITS)
    first = np.flatnonzero(np.diff(keys, prepend=-1)) if len(keys) else np.zeros(0, np.int64)
    dir_start = first.astype(np.int32 if len(keys) < 1 << 31 else np.int64)
    dir_shard = (keys[first] % n_shards).astype(np.uint16 if n_shards <= 1 << 16 else np.uint32)
    dir_offsets = np.zeros(n_lists + 1, dtype=np.int64)
    np.cumsum(np.bincount(lst[first], minlength=n_lists), out=dir_offsets[1:])
    del keys, first

    weighed = _weigh(term_of, length_of_rank[rank], tf, split, max_len, offsets, idf, tf_norm)
    return Postings(
        offsets=offsets,
        ranks=(rank & 0xFFFF).astype(np.uint16),
        dir_offsets=dir_offsets,
        dir_shard=cast(UIntArray, dir_shard),
        dir_start=cast(npt.NDArray[np.signedinteger[Any]], dir_start),
        length_of_rank=length_of_rank.astype(_smallest_unsigned(max_len)),
        row_of_rank=row_of_rank.astype(np.int32),
        blocks=block_offsets(offsets),
        tf2=tf.astype(_smallest_unsigned(int(tf.max()) if len(tf) else 0)),
        **weighed,
    )


def reweigh(p: Postings, idf: FloatArray, tf_norm: Any) -> Postings:
    """Return `p` with every weight computed again for other corpus statistics.

    Args:
        p: Posting lists.
        idf: The floored idf of each of `p`'s terms, from the statistics to score with.
        tf_norm: `index.lexical.bm25.tf_norm` with those statistics' avgdl, k1 and b bound.
    """
    n_terms, split = p.n_terms, int(p.offsets[p.n_terms])
    sizes = np.diff(p.offsets)
    term_of = np.repeat(np.arange(2 * n_terms, dtype=np.int64) % max(n_terms, 1), sizes)
    lengths = p.length_of_rank[p.all_ranks()]
    max_len = len(p.tf1_norms) - 1
    weighed = _weigh(term_of, lengths, p.tf2, split, max_len, p.offsets, idf, tf_norm)
    return p._replace(**weighed)


def _weigh(
    term_of: npt.NDArray[Any],
    lengths: npt.NDArray[Any],
    tf: npt.NDArray[Any],
    split: int,
    max_len: int,
    offsets: OffsetArray,
    idf: FloatArray,
    tf_norm: Any,
) -> dict[str, Any]:
    """Return the statistics-dependent arrays of `Postings`: the norm tables, codes and bounds.

    `term_of` and `lengths` are per posting (tf = 1 postings first, `split` of them), `tf` per
    tf >= 2 posting.
    """
    tf1_norms = tf_norm(np.ones(max_len + 1, dtype=np.int64), np.arange(max_len + 1))
    codes, tf_norms = _codes(tf, lengths[split:], tf_norm)
    weights = np.empty(len(term_of), dtype=np.float64)
    weights[:split] = idf[term_of[:split]] * tf1_norms[lengths[:split]]
    weights[split:] = idf[term_of[split:]] * tf_norms[codes]
    return {
        "codes": codes,
        "tf_norms": tf_norms,
        "tf1_norms": np.asarray(tf1_norms, dtype=np.float64),
        "bounds": suffix_max(offsets, weights),
    }


def _smallest_unsigned(largest: int) -> type[np.unsignedinteger[Any]]:
    """Return the smallest unsigned integer type that holds `largest`."""
    for kind in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(kind).max:
            return kind
    return np.uint64


def length_ranks(doc_len: IntArray) -> IntArray:
    """Return the row of each rank: sentences by length ascending, then by row."""
    return np.argsort(doc_len, kind="stable").astype(np.int32)


def block_offsets(offsets: OffsetArray) -> OffsetArray:
    """Return where each list's blocks start in `bounds` (one more entry: the total)."""
    n_blocks = (np.diff(offsets) + BLOCK - 1) // BLOCK
    out = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(n_blocks, out=out[1:])
    return out


def suffix_max(offsets: OffsetArray, weights: FloatArray) -> FloatArray:
    """Return, for each block of each list, the largest weight from that block to the list's end."""
    if not len(weights):
        return np.zeros(0, dtype=np.float64)
    sizes = np.diff(offsets)
    n_blocks = (sizes + BLOCK - 1) // BLOCK
    # Position of each block's first posting: the list's start plus BLOCK per earlier block.
    block_list = np.repeat(np.arange(len(sizes)), n_blocks)
    within = np.arange(int(n_blocks.sum())) - np.repeat(block_offsets(offsets)[:-1], n_blocks)
    out = np.maximum.reduceat(weights, offsets[:-1][block_list] + within * BLOCK)
    # Within each list, a running maximum from the last block backwards.
    starts = block_offsets(offsets)
    for lst in np.flatnonzero(n_blocks > 1).tolist():
        a, b = int(starts[lst]), int(starts[lst + 1])
        out[a:b] = np.maximum.accumulate(out[a:b][::-1])[::-1]
    return np.asarray(out, dtype=np.float64)


def _codes(tf: IntArray, lengths: npt.NDArray[Any], tf_norm: Any) -> tuple[UIntArray, FloatArray]:
    """Return a code per posting and the table of distinct `tf_norm` values the codes index.

    `tf_norm` depends only on (tf, sentence length), and a corpus holds few such pairs.
    """
    if not len(tf):
        return np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.float64)
    stride = int(lengths.max()) + 1
    pairs, pair_of = np.unique(tf.astype(np.int64) * stride + lengths, return_inverse=True)
    values, value_of = np.unique(tf_norm(pairs // stride, pairs % stride), return_inverse=True)
    code_type = np.uint16 if len(values) <= 1 << 16 else np.uint32
    codes = value_of.astype(code_type)[pair_of]
    return cast(UIntArray, codes), np.asarray(values, dtype=np.float64)

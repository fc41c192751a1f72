"""Sign bits of sentence vectors, and the two cheap estimates `SentenceVectors.top_k` ranks by.

A row's sign bits hold one bit per dimension (48 bytes a row for 384 dimensions). Sign bits are
the cheapest estimate of the angle between two vectors (Charikar, 2002: the chance that a random
hyperplane separates them is angle / pi): `closest_by_signs` ranks every row by the Hamming
distance between its sign bits and the question's (a popcount a word, in a numba kernel), and
`sign_dot` ranks those it kept by the question's float components summed over their set bits.
`index.semantic.vectors` stores the bits and rescores the survivors exactly from their codes.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba import types
from numba.extending import intrinsic

_BITS = 64

FloatVectors = npt.NDArray[np.float32]
Rows = npt.NDArray[np.int64]


def sign_words(dimension: int) -> int:
    """Return the number of uint64 words holding one row's sign bits."""
    return -(-dimension // _BITS)


def sign_bits(codes: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Return each row's sign bits (bit j of a row set when its dimension j is positive).

    Args:
        codes: (n, dimension) codes or floats.

    Returns:
        (n, words) uint64, the bits of dimensions past `dimension` zero.
    """
    n, dimension = codes.shape
    words = sign_words(dimension)
    positive = np.zeros((n, words * _BITS), dtype=bool)
    positive[:, :dimension] = codes > 0
    packed = np.packbits(positive, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


@intrinsic
def _ctpop(typingctx: Any, word: Any) -> Any:
    """Number of set bits of a uint64 (LLVM's `ctpop`: one instruction on x86-64 with POPCNT)."""
    signature = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return signature, codegen


_popcount: Any = _ctpop


def closest_by_signs(
    signs: npt.NDArray[np.uint64],
    query: npt.NDArray[np.uint64],
    wanted: int,
    within: npt.NDArray[np.bool_] | None = None,
) -> Rows:
    """`_closest_flagged` over every row, or over the rows flagged in `within`."""
    return _closest_flagged(signs, query, wanted, _EVERY_ROW if within is None else within)


# `within` for "every row": no flags.
_EVERY_ROW = np.zeros(0, dtype=np.bool_)


@numba.njit(cache=True, nogil=True)
def _closest_flagged(
    signs: npt.NDArray[np.uint64],
    query: npt.NDArray[np.uint64],
    wanted: int,
    within: npt.NDArray[np.bool_],
) -> Rows:  # pragma: no cover - compiled
    """Return `wanted` rows of least Hamming distance to `query` (ties: the lower rows), by row.

    Two passes over the sign bits: distances and their histogram, then the rows below the
    distance at which the histogram reaches `wanted`, and enough rows at that distance. With
    `within` (a flag per row; empty: every row), only flagged rows are taken, and `wanted` must
    not exceed their number.
    """
    n, words = signs.shape
    everyone = len(within) == 0
    past = words * 64 + 1  # beyond every distance: an unflagged row
    distances = np.empty(n, dtype=np.uint16)
    histogram = np.zeros(past + 1, dtype=np.int64)
    for row in range(n):
        if not everyone and not within[row]:
            distances[row] = past
            continue
        d = 0
        for w in range(words):
            d += _popcount(signs[row, w] ^ query[w])
        distances[row] = d
        histogram[d] += 1
    cutoff, below = 0, 0
    while below + histogram[cutoff] < wanted:
        below += histogram[cutoff]
        cutoff += 1
    at_cutoff = wanted - below
    rows = np.empty(wanted, dtype=np.int64)
    taken = 0
    for row in range(n):
        d = distances[row]
        if d < cutoff or (d == cutoff and at_cutoff > 0):
            if d == cutoff:
                at_cutoff -= 1
            rows[taken] = row
            taken += 1
    return rows


def sign_tables(query: FloatVectors, words: int) -> FloatVectors:
    """Return, for each byte of a row's sign bits, the query's sum over each of its 256 values.

    Row `8 * w + b` holds, for byte `b` of word `w` (dimensions `64 w + 8 b` to `+ 7`), the sum
    of the query's components at the set bits of each byte value: the dot product of the query
    with a row's sign pattern, up to a constant, is the sum of one entry per byte.
    """
    padded = np.zeros(words * _BITS, dtype=np.float32)
    padded[: len(query)] = query
    bits = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float32)
    tables: FloatVectors = np.ascontiguousarray((bits @ padded.reshape(-1, 8).T).T)
    return tables


def sign_dot(signs: npt.NDArray[np.uint64], rows: Rows, query: FloatVectors) -> FloatVectors:
    """Return, for each of `rows`, the query's dot product with its sign bits (up to a constant).

    Asymmetric: the question keeps its float components, so this ranks rows more closely to
    their cosine than the Hamming distance between sign bits does.
    """
    # Little-endian words: byte 8 w + b of a row is byte b of its word w, as `sign_tables` has it.
    row_bytes = signs.view(np.uint8).reshape(len(signs), -1)
    return _sign_dot(row_bytes, rows, sign_tables(query, signs.shape[1]))


@numba.njit(cache=True, nogil=True)
def _sign_dot(
    row_bytes: npt.NDArray[np.uint8], rows: Rows, tables: FloatVectors
) -> FloatVectors:  # pragma: no cover - compiled
    """Sum, for each of `rows`, one entry of `tables` per byte of its sign bits."""
    out = np.empty(len(rows), dtype=np.float32)
    for i in range(len(rows)):
        row = rows[i]
        total = np.float32(0.0)
        for j in range(row_bytes.shape[1]):
            total += tables[j, row_bytes[row, j]]
        out[i] = total
    return out

"""Cosines of a query with int8 sentence vectors, each row summed in one fixed order.

A BLAS product's rounding depends on a row's place in the matrix; summing each row in
`_LANES` lanes, then lane by lane, gives a sentence the same cosine whatever rows are scored
beside it (`index.semantic.embedding.similarities`, exact sharding in `index.scale.shards`).
"""

from __future__ import annotations

import numba
import numpy as np

# Lanes of `cosines`' sums: a fixed number, so each row's sum is added in one fixed order.
_LANES = 16


@numba.njit(cache=True, nogil=True)
def cosines(codes, query, scales, out):  # type: ignore[no-untyped-def]
    """`out[r] = (codes[r] @ query) * scales[r]`, summed in `_LANES` lanes, then lane by lane."""
    n, dimension = codes.shape
    full = dimension - dimension % _LANES
    lanes = np.empty(_LANES, dtype=np.float32)
    for r in range(n):
        lanes[:] = 0.0
        for j in range(0, full, _LANES):
            for lane in range(_LANES):
                lanes[lane] += np.float32(codes[r, j + lane]) * query[j + lane]
        total = np.float32(0.0)
        for lane in range(_LANES):
            total += lanes[lane]
        for j in range(full, dimension):
            total += np.float32(codes[r, j]) * query[j]
        out[r] = total * scales[r]

"""A sentence's analyzed terms, read from its segment's stored tokens instead of analyzed again.

Each segment keeps its sentences' term ids row after row (`tokens.npy`, `index.lexical.segments`),
and `doc_len` says how many belong to each row: the terms a question's answer needs (the passages'
near-duplicate check, `index.answers.passages.assemble`; the BM25 score of a sentence only the
vectors found) are a slice of that array and a look-up in the segment's vocabulary. Analysing the
sentence again gives the very same terms (the build analyzed the same text with the same settings;
`tests/test_passages.py` pins it) at about 20 times the cost.
"""

from __future__ import annotations

import bisect
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.lexical.segments import SegmentedBM25, load_tokens

IntArray = npt.NDArray[np.int64]


class SentenceTerms:
    """Each sentence row's analyzed terms, from the generation's stored tokens; read-only.

    Attributes:
        folder: The generation folder.
    """

    def __init__(self, folder: Path, names: list[str], bm25: SegmentedBM25) -> None:
        """Read the tokens of `bm25`'s segments, named `names` in `folder` (memory-mapped).

        Raises:
            ValueError: A segment's tokens do not add up to its sentences' lengths.
            OSError: A file cannot be read.
        """
        self.folder = folder
        self._bm25 = bm25
        self._tokens = [load_tokens(folder, name) for name in names]
        for name, tokens, segment in zip(names, self._tokens, bm25.segments, strict=True):
            if len(tokens) != int(segment.doc_len.astype(np.int64).sum()):
                raise ValueError(f"{name}/tokens.npy does not hold its sentences' terms")

    @cached_property
    def _offsets(self) -> IntArray:
        """Each segment's token offsets (its rows' starts and its end), one segment after another.

        Row `r` of segment `s` has its tokens from `[r + s]` to `[r + s + 1]` (computed once,
        about 3 ms at 1M).
        """
        zero = np.zeros(1, dtype=np.int64)
        parts = [[zero, np.cumsum(s.doc_len, dtype=np.int64)] for s in self._bm25.segments]
        return np.concatenate([p for pair in parts for p in pair] or [zero[:0]])

    @cached_property
    def _starts(self) -> list[int]:
        """The first row of each segment (and the rows' count), as Python ints for `bisect`."""
        return [int(s) for s in self._bm25.starts]

    def warm(self) -> None:
        """Compute once what the first question would."""
        self._offsets  # noqa: B018
        self._starts  # noqa: B018

    def terms(self, row: int) -> list[str]:
        """Return sentence `row`'s analyzed terms in order, repeats kept."""
        # bisect over a list and one slice of one array: a few numpy scalars fewer a row, as
        # the passages ask for about ten rows' terms a question (issue #20).
        segment = bisect.bisect_right(self._starts, row) - 1
        start, end = self._offsets[row + segment : row + segment + 2].tolist()
        vocabulary = self._bm25.segments[segment].vocabulary
        return [vocabulary[i] for i in self._tokens[segment][start:end].tolist()]

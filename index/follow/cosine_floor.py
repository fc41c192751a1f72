"""The (new sentence, standing question) pairs whose cosine reaches a floor, grouped by article.

With vectors, an alert needs the sentence's cosine with the question to reach the off-topic
floor (`FUSION.min_similarity`, `index.follow.percolate`), so only those pairs can match. They
are found exactly: the new sentences' int8 vectors (dequantized) times the questions' float32
vectors, one BLAS product a block of whole articles, as before. What changed is what leaves
numpy: the first version kept every pair at the floor in a Python dict (on the Reuters bench,
millions of pairs, most of its 268 s). Here each block is reduced per (article, question) at
once: `np.maximum.reduceat` over the article's rows gives the best cosine, only the groups whose
best reaches the floor are gathered, and their pairs at the floor come out as arrays.

Why not a cheaper prefilter (measured on the Reuters bench index, docs/follow.md): sign bits
do not bound a cosine, and at a floor of 0.35 the pairs at the floor lie up to 183 bits of 384
apart, a cutoff keeping about 75% of all pairs; a low-rank bound (the top principal directions
exactly, the rest bounded by Cauchy-Schwarz) still keeps 8.6% of the pairs at 192 of 384
dimensions, and rescoring those costs what the full product saves. The float32 product itself
runs at the core's peak (about 1.9 s for 25,693 x 10,000 x 384 on the bench machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.semantic.vectors import SentenceVectors

# Sentences whose cosines with every standing question are computed in one matrix product (an
# article longer than this is a block of its own).
VECTOR_BLOCK = 2048

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FloorPairs:
    """Pairs of new sentences and standing questions at a cosine floor, grouped by article.

    Attributes:
        article: Each group's article row.
        column: Each group's question (a row of the questions' vector matrix).
        start: Where each group's pairs begin in `position`, and one entry more: the end.
        position: Each pair's sentence (its position in the new rows), ascending in its group.
        cosine: Each pair's cosine (float32, as the product computed it).
    """

    article: IntArray
    column: IntArray
    start: IntArray
    position: IntArray
    cosine: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.article)

    def best(self) -> tuple[IntArray, IntArray]:
        """Return each group's first pair of highest cosine, and how many pairs share it."""
        if not len(self):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        sizes = np.diff(self.start)
        group = np.repeat(np.arange(len(self)), sizes)
        highest = np.maximum.reduceat(self.cosine, self.start[:-1])
        at_highest = np.flatnonzero(self.cosine == highest[group])
        groups, first = np.unique(group[at_highest], return_index=True)
        assert len(groups) == len(self)  # every group holds its own maximum
        return at_highest[first].astype(np.int64), np.bincount(
            group[at_highest], minlength=len(self)
        )


def article_blocks(articles: IntArray, block: int) -> Iterator[tuple[int, int]]:
    """Yield [first, end) spans of `articles` (each row's article, ascending) of whole articles.

    A span holds up to `block` rows, or one article when that alone is longer.
    """
    if not len(articles):
        return
    firsts = np.flatnonzero(np.r_[True, articles[1:] != articles[:-1]]).tolist()
    ends = [*firsts[1:], len(articles)]
    begin = 0
    for end, following in zip(ends, [*ends[1:], -1], strict=True):
        if following < 0 or following - begin > block:  # the next article would not fit
            yield begin, end
            begin = end


def floor_pairs(
    vectors: SentenceVectors,
    rows: IntArray,
    articles: IntArray,
    questions: npt.NDArray[np.float32],
    floor: float,
    block: int = VECTOR_BLOCK,
) -> FloorPairs:
    """Return every (sentence, question) pair whose cosine is at `floor` or more, by article.

    Args:
        vectors: The generation's sentence vectors.
        rows: The new sentence rows, ascending.
        articles: Each row's article row.
        questions: The questions' unit vectors, one row each.
        floor: The cosine floor.
        block: Rows per product (`VECTOR_BLOCK`).

    Returns:
        The groups ordered by article, then question; pairs by position within a group.
    """
    parts: list[FloorPairs] = []
    transposed = np.ascontiguousarray(questions.T, dtype=np.float32)
    for begin, end in article_blocks(articles, block):
        block_rows = rows[begin:end]
        codes = (
            vectors.codes[block_rows]
            if vectors.codes_file is None
            else vectors.codes_file.rows(block_rows)
        )
        sentences = codes.astype(np.float32) * vectors.scales[block_rows, None]
        # float32 throughout (no copy): the product's dtype, as before, is the codes'
        cosine = (sentences @ transposed).astype(np.float32, copy=False)
        parts.append(_reduced(cosine, articles[begin:end], begin, floor))
    return _joined(parts)


def _reduced(
    cosine: npt.NDArray[np.float32], articles: IntArray, offset: int, floor: float
) -> FloorPairs:
    """Return the pairs at `floor` of one block's cosines (rows: sentences of whole articles)."""
    firsts = np.flatnonzero(np.r_[True, articles[1:] != articles[:-1]])
    lengths = np.diff(np.r_[firsts, len(articles)])
    best = np.maximum.reduceat(cosine, firsts, axis=0)
    group_article, column = np.nonzero(best >= floor)
    sizes = lengths[group_article]
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    local = np.repeat(firsts[group_article], sizes) + within
    values = cosine[local, np.repeat(column, sizes)]
    kept = values >= floor
    group = np.repeat(np.arange(len(column)), sizes)[kept]
    counts = np.bincount(group, minlength=len(column))
    return FloorPairs(
        article=articles[firsts[group_article]].astype(np.int64),
        column=column.astype(np.int64),
        start=np.r_[0, np.cumsum(counts)].astype(np.int64),
        position=(local[kept] + offset).astype(np.int64),
        cosine=values[kept],
    )


def _joined(parts: list[FloorPairs]) -> FloorPairs:
    """Return the blocks' pairs as one `FloorPairs` (blocks in order)."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return FloorPairs(empty, empty, np.zeros(1, np.int64), empty, np.zeros(0, np.float32))
    shifts = np.cumsum([0] + [int(p.start[-1]) for p in parts[:-1]])
    return FloorPairs(
        article=np.concatenate([p.article for p in parts]),
        column=np.concatenate([p.column for p in parts]),
        start=np.concatenate(
            [p.start[:-1] + s for p, s in zip(parts, shifts, strict=True)]
            + [np.asarray([shifts[-1] + parts[-1].start[-1]], dtype=np.int64)]
        ),
        position=np.concatenate([p.position for p in parts]),
        cosine=np.concatenate([p.cosine for p in parts]),
    )

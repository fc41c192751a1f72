"""One index, several shards: each shard ranks its rows exactly as the whole index would.

Articles are partitioned by a stable hash of their id (`article_ids.npy`, the xxHash64 of each
id, modulo the number of shards), so an article's sentences stay together and a shard can cut
its own passages. The shards are derived from the generation's segments (`index.lexical.segments`):
for each segment, each shard holds a segment of the segment's rows of its articles, in row order,
under `shards/<shard>/<segment>/`. A segment never changes once written, so neither does its part in
a shard, and the next generation hard-links it as it does the segment; merges and compactions of the
index are merges and compactions of every shard.

Exactness. The writer computes the whole index's statistics once
(`index.lexical.segments.statistics`: N, the average length, the document frequencies and the full
idf vector, floored with rank_bm25's epsilon in rank_bm25's order of summation) and each shard
segment's weights with them (`shards/<shard>/weights/<segment>/`, as `weights/` holds the
segments'). A posting's weight is then the same product in a shard as in the whole index, and a
sentence's score the same sum in query order (a term a shard segment lacks adds nothing, and `x +
0.0 == x`), so each shard's top-k is the whole index's top-k of its rows, bit for bit. Shard rows
are numbered in the whole index's row order (`global_rows.npy`), so a shard breaks ties by row as
the whole index does, and merging the shards' top-k by score, ties by global row (`merged`), is the
whole index's top-k. The vectors likewise: each shard holds its rows' vectors, ranks them
exhaustively below `index.semantic.vectors.EXHAUSTIVE_ROWS` rows, and cosines are summed in one
order whatever rows are scored beside them (`index.semantic.embedding.similarities`).

The coordinator (`index.scale.sharded`) holds the whole index's statistics
(`shards/vocabulary.json`, `doc_freq.npy`, `idf.npy`, `doc_len.npy`) and the archive; a `Shard`
holds its postings and vectors and answers a `ShardRequest` with a `ShardReply`, in process or in a
Ray actor (`index.scale.cluster`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.lexical import segments
from index.lexical.bm25 import BM25Index, BM25Params
from index.semantic.vectors import SentenceVectors
from index.store import generations, layout

FloatArray = npt.NDArray[np.float64]
Rows = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Shards an index may have: a shard is a unit of memory and of parallel work, not of questions.
MAX_SHARDS = 64
WEIGHTS = "weights"


def shard_folder(generation: Path, shard: int) -> Path:
    """Return the folder of shard `shard` in a generation folder."""
    return generation / layout.SHARDS / str(shard)


def shard_of_articles(article_ids: npt.NDArray[np.uint64], n_shards: int) -> Rows:
    """Return each article's shard: the xxHash64 of its id, modulo the number of shards."""
    return (np.asarray(article_ids, dtype=np.uint64) % np.uint64(n_shards)).astype(np.int64)


def shard_of_rows(generation: Path, n_shards: int) -> Rows:
    """Return the shard of each sentence row of a generation (its article's shard)."""
    first = np.asarray(layout.load_array(generation, "article_first"), dtype=np.int64)
    ids = np.asarray(layout.load_array(generation, "article_ids"))
    return np.repeat(shard_of_articles(ids, n_shards), np.diff(first))


# -- writing -------------------------------------------------------------------------------------


def write_shards(
    folder: Path,
    segment_list: list[dict[str, Any]],
    params: BM25Params,
    n_shards: int,
    vectors: SentenceVectors | None,
    previous: Path | None,
) -> dict[str, int]:
    """Write the shards of the generation being written in `folder`; return its header entry.

    Args:
        folder: The generation folder, its segments, weights, dead rows and archive written.
        segment_list: The generation's segments (`{"name", "rows"}`), in row order.
        params: BM25 parameters.
        n_shards: How many shards (1 to `MAX_SHARDS`).
        vectors: The generation's vectors, by row (None: none).
        previous: The current generation, whose shard segments are hard-linked when it has the
            same number of shards (None: none).

    Raises:
        ValueError: `n_shards` is out of range.
    """
    if not 1 <= n_shards <= MAX_SHARDS:
        raise ValueError(f"{n_shards} shards: 1 to {MAX_SHARDS} are possible")
    names = [str(e["name"]) for e in segment_list]
    loaded = [BM25Index.load(folder / name) for name in names]
    starts = np.concatenate([[0], np.cumsum([s.n_docs for s in loaded])]).astype(np.int64)
    dead = np.zeros(int(starts[-1]), dtype=bool)
    if layout.array_path(folder, "dead_rows").exists():
        dead[np.asarray(layout.load_array(folder, "dead_rows"))] = True
    stats = _statistics(folder, names, loaded, starts, dead, params)
    root = folder / layout.SHARDS
    root.mkdir()
    segments.save_statistics(root, stats)
    doc_len = np.concatenate([s.doc_len for s in loaded]) if loaded else np.zeros(0, np.int32)
    layout.save_array(root, "doc_len", doc_len.astype(np.int32))
    row_shard = shard_of_rows(folder, n_shards)
    linkable = previous is not None and _shard_count(previous) == n_shards
    for shard in range(n_shards):
        _write_shard(
            folder,
            shard,
            n_shards,
            [
                (name, int(start), seg)
                for name, start, seg in zip(names, starts[:-1], loaded, strict=True)
            ],
            row_shard,
            dead,
            stats,
            vectors,
            previous if linkable else None,
        )
    return {"count": n_shards}


def write_for_generation(
    folder: Path,
    segment_list: list[dict[str, Any]],
    params: BM25Params,
    wanted: int | None,
    vectors: SentenceVectors | None,
) -> dict[str, int] | None:
    """Write a new generation's shards, if it has any; return its header entry (None: none).

    `wanted` None keeps the current generation's number of shards (so a scheduled refresh,
    which names none, keeps them); 0 writes none.
    """
    previous: Path | None
    try:
        previous = generations.current_generation(folder.parent)
    except generations.StoreError:
        previous = None
    n_shards = wanted if wanted is not None else (shard_count(previous) if previous else 0)
    if not n_shards:
        return None
    return write_shards(folder, segment_list, params, n_shards, vectors, previous)


def _statistics(
    folder: Path,
    names: list[str],
    loaded: list[BM25Index],
    starts: Rows,
    dead: BoolArray,
    params: BM25Params,
) -> segments.Statistics:
    """Return the whole index's statistics: those the update stored, else computed once."""
    if (folder / segments.WEIGHTS).is_dir():
        return segments.load_statistics(folder / segments.WEIGHTS)
    tokens = [segments.load_tokens(folder, name) for name in names]
    per_segment = [dead[a:b] for a, b in itertools.pairwise(starts.tolist())]
    return segments.statistics(loaded, tokens, per_segment, params)


def _write_shard(
    folder: Path,
    shard: int,
    n_shards: int,
    parts: list[tuple[str, int, BM25Index]],
    row_shard: Rows,
    dead: BoolArray,
    stats: segments.Statistics,
    vectors: SentenceVectors | None,
    previous: Path | None,
) -> None:
    """Write shard `shard`: its part of each segment, their weights, rows, dead rows, vectors."""
    out = shard_folder(folder, shard)
    out.mkdir()
    where = {term: i for i, term in enumerate(stats.vocabulary)}
    entries, global_rows = [], []
    for name, start, segment in parts:
        local = np.flatnonzero(row_shard[start : start + segment.n_docs] == shard)
        if not len(local):
            continue
        linked = None if previous is None else shard_folder(previous, shard) / name
        if linked is not None and linked.is_dir():
            segments.link_segment(linked.parent, out, name)
        else:
            (out / name).mkdir()
            tokens = segments.load_tokens(folder, name)
            _part_of(segment, tokens, local, segment.params).save(out / name)
        part = BM25Index.load(out / name)
        (reweighed,) = segments.reweighed([part], stats)
        (out / WEIGHTS / name).mkdir(parents=True)
        reweighed.save_weights(out / WEIGHTS / name)
        global_terms = np.fromiter(
            (where.get(t, -1) for t in part.vocabulary), dtype=np.int64, count=len(part.vocabulary)
        )
        layout.save_array(out / WEIGHTS / name, "global_terms", global_terms)
        entries.append({"name": name, "rows": len(local)})
        global_rows.append(local + start)
    rows = np.concatenate(global_rows) if global_rows else np.zeros(0, dtype=np.int64)
    layout.save_array(out, "global_rows", rows.astype(np.int64))
    if dead[rows].any():
        layout.save_array(out, "dead_rows", np.flatnonzero(dead[rows]).astype(np.int64))
    header: dict[str, Any] = {"shard": shard, "shards": n_shards, "segments": entries}
    if vectors is not None:
        mask = np.zeros(vectors.n_rows, dtype=bool)
        mask[rows] = True
        shard_vectors = vectors.kept(mask)
        shard_vectors.save(out)
        header["vectors"] = shard_vectors.header()
    (out / layout.HEADER).write_text(json.dumps(header), encoding="utf-8")


def _part_of(
    segment: BM25Index, tokens: npt.NDArray[np.int32], local: Rows, params: BM25Params
) -> BM25Index:
    """Return a segment of rows `local` of `segment` alone (terms numbered by first appearance)."""
    keep = np.zeros(segment.n_docs, dtype=bool)
    keep[local] = True
    token_ids = np.asarray(tokens)[np.repeat(keep, segment.doc_len)]
    doc_len = np.asarray(segment.doc_len)[keep].astype(np.int32)
    used, first = np.unique(token_ids, return_index=True)
    order = used[np.argsort(first, kind="stable")]
    renumber = np.zeros(len(segment.vocabulary), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    terms = [segment.vocabulary[t] for t in order.tolist()]
    return BM25Index.from_token_ids(terms, renumber[token_ids], doc_len, params)


def _shard_count(generation: Path) -> int:
    """Return how many shards a generation folder holds (0: none)."""
    root = generation / layout.SHARDS
    if not root.is_dir():
        return 0
    return sum(1 for path in root.iterdir() if path.is_dir() and path.name.isdigit())


def shard_count(generation: Path) -> int:
    """Return how many shards a generation has, from its header (0: none)."""
    try:
        header = json.loads((generation / layout.HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    entry = header.get("shards") if isinstance(header, dict) else None
    return int(entry["count"]) if isinstance(entry, dict) else 0


# -- serving -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardRequest:
    """A question as each shard gets it: analyzed once by the coordinator.

    Attributes:
        generation: The generation's folder name: a shard answers from that one only.
        term_ids: The scored terms' ids in the whole index's vocabulary, in question order,
            repeats kept (a term's multiplicity); their idf is in the shard's weights.
        bm25_k: BM25 rows wanted (0: none).
        query: The question's unit vector (None: no vector search).
        dense_k: Vector rows wanted.
        within: `np.packbits` of a flag per whole-index row: only flagged rows are ranked by
            BM25 (None: every live row).
        dense_within: The same for the vectors (None: every live row).
    """

    generation: str
    term_ids: tuple[int, ...]
    bm25_k: int
    query: npt.NDArray[np.float32] | None = None
    dense_k: int = 0
    within: npt.NDArray[np.uint8] | None = None
    dense_within: npt.NDArray[np.uint8] | None = None


@dataclass(frozen=True, slots=True)
class ShardReply:
    """One shard's answer: its top rows (whole-index row ids) and the cosines of all of them.

    Attributes:
        shard: The shard's number.
        generation: The generation it answered from.
        bm25_rows, bm25_scores: Its BM25 top-k, best first (ties by row).
        dense_rows, dense_cosines: Its vector top-k, best first (ties by row).
        cosine_rows, cosines: The question's cosine with each of those rows (with a query).
    """

    shard: int
    generation: str
    bm25_rows: Rows
    bm25_scores: FloatArray
    dense_rows: Rows
    dense_cosines: npt.NDArray[np.float32]
    cosine_rows: Rows
    cosines: npt.NDArray[np.float32]


def merged(parts: Sequence[tuple[Rows, npt.NDArray[Any]]], k: int) -> tuple[Rows, npt.NDArray[Any]]:
    """Return the `k` best of several top-k lists: by score descending, then row ascending.

    The rule of `index.lexical.topk` and `index.semantic.vectors`: the whole index's order, so
    merging its shards' top-k gives its own top-k.
    """
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
    scores = np.concatenate([p[1] for p in parts])
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


class Shard:
    """One shard of a generation, loaded: its segments, weights, rows and vectors.

    Attributes:
        number: The shard's number.
        generation: The generation folder.
        global_rows: The whole index's row of each shard row, ascending.
        live: A flag per shard row (None: none is dead).
        vectors: Its rows' vectors (None: none).
    """

    def __init__(self, generation: Path, number: int) -> None:
        """Load shard `number` of `generation`, checking its arrays.

        Raises:
            ValueError, KeyError, TypeError, OSError: A file is damaged or missing.
        """
        folder = shard_folder(generation, number)
        header = json.loads((folder / layout.HEADER).read_text(encoding="utf-8"))
        self.number = number
        self.generation = generation
        self.global_rows: Rows = np.asarray(layout.load_array(folder, "global_rows"))
        self._segments: list[tuple[BM25Index, dict[int, int]]] = []
        starts = [0]
        for entry in header["segments"]:
            name = entry["name"]
            segment = BM25Index.load(folder / name, weights=folder / WEIGHTS / name)
            layout.check_count(f"rows of shard segment {name}", segment.n_docs, int(entry["rows"]))
            global_terms = np.asarray(layout.load_array(folder / WEIGHTS / name, "global_terms"))
            layout.check_length("global_terms.npy", global_terms, len(segment.vocabulary))
            lookup = {g: t for t, g in enumerate(global_terms.tolist()) if g >= 0}
            self._segments.append((segment, lookup))
            starts.append(starts[-1] + segment.n_docs)
        self._starts = starts
        layout.check_length("global_rows.npy", self.global_rows, starts[-1])
        self.live: BoolArray | None = None
        if layout.array_path(folder, "dead_rows").exists():
            self.live = np.ones(starts[-1], dtype=bool)
            self.live[np.asarray(layout.load_array(folder, "dead_rows"))] = False
        self.vectors = SentenceVectors.load(folder)
        if self.vectors is not None:
            layout.check_length("shard vectors", self.vectors.scales, starts[-1])

    @property
    def n_rows(self) -> int:
        """Rows, dead ones included."""
        return len(self.global_rows)

    @property
    def loaded_bytes(self) -> int:
        """Bytes of the shard's files (what a replica maps or reads)."""
        folder = shard_folder(self.generation, self.number)
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    def flags(self, within: npt.NDArray[np.uint8] | None) -> BoolArray | None:
        """Return the shard rows that may be ranked: flagged in `within` (packed), else live."""
        if within is None:
            return self.live
        flags = np.unpackbits(within, count=int(self.global_rows[-1]) + 1 if self.n_rows else 0)
        return flags[self.global_rows].astype(bool)

    def bm25_top_k(
        self, term_ids: Sequence[int], k: int, flags: BoolArray | None
    ) -> tuple[Rows, FloatArray]:
        """Return the shard's `k` best rows (whole-index ids) for scored term ids, best first."""
        found: list[tuple[Rows, FloatArray]] = []
        for (segment, lookup), start in zip(self._segments, self._starts, strict=False):
            local = [lookup[t] for t in term_ids if t in lookup]
            part = None if flags is None else flags[start : start + segment.n_docs]
            rows, scores = segment.top_k_ids(local, k, part)
            found.append((self.global_rows[rows.astype(np.int64) + start], scores))
        best, best_scores = merged(found, k)
        return best, best_scores.astype(np.float64)

    def dense_top_k(
        self, query: npt.NDArray[np.float32], k: int, flags: BoolArray | None
    ) -> tuple[Rows, npt.NDArray[np.float32]]:
        """Return the shard's `k` rows most similar to `query` (whole-index ids), best first."""
        if self.vectors is None or not self.n_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows, cosines = self.vectors.top_k(query, k, within=flags)
        return self.global_rows[rows], cosines

    def cosines(self, query: npt.NDArray[np.float32], rows: Rows) -> npt.NDArray[np.float32]:
        """Return the cosine of `query` with each of `rows` (whole-index ids of this shard's)."""
        if self.vectors is None or not len(rows):
            return np.zeros(len(rows), dtype=np.float32)
        local = np.searchsorted(self.global_rows, rows)
        return self.vectors.similarities(query, local)

    def search(self, request: ShardRequest) -> ShardReply:
        """Answer a question: BM25 and vector top-k, and the cosines of both lists' rows."""
        flags = self.flags(request.within)
        bm25_rows, bm25_scores = self.bm25_top_k(request.term_ids, request.bm25_k, flags)
        dense_rows = np.zeros(0, dtype=np.int64)
        dense_cosines = np.zeros(0, dtype=np.float32)
        cosine_rows, cosines = dense_rows, dense_cosines
        if request.query is not None:
            dense_flags = self.flags(request.dense_within)
            dense_rows, dense_cosines = self.dense_top_k(
                request.query, request.dense_k, dense_flags
            )
            cosine_rows = np.union1d(bm25_rows, dense_rows).astype(np.int64)
            cosines = self.cosines(request.query, cosine_rows)
        return ShardReply(
            self.number,
            self.generation.name,
            bm25_rows,
            bm25_scores,
            dense_rows,
            dense_cosines,
            cosine_rows,
            cosines,
        )

    def warm(self) -> None:
        """Compile the kernel for each segment's array types, on its rarest term."""
        for segment, _ in self._segments:
            if len(segment.vocabulary):
                segment.top_k_ids([int(np.argmax(segment.idf))], 1)

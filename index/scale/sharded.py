"""The coordinator of a sharded index: one question, every shard once, the top-k merged.

`ShardedNewsIndex` is a `index.answers.search.NewsIndex` whose BM25 and vector searches go to the
generation's shards (`index.scale.shards`) through a `ShardBackend`: in this process
(`InProcessShards`) or Ray actors (`index.scale.cluster`). The coordinator holds what a question
needs before and after ranking: the whole index's statistics (to analyze the question into term ids,
keep its rarest terms and compute the ideal score), the archive (to cut passages) and the encoder;
fusion and the answer's decision stay in `index.answers.policy`, in one place. A question asks each
shard once (`ShardRequest`: scored term ids with repeats, the question vector, the rows allowed) and
merges the replies by score, ties by whole-index row (`index.scale.shards.merged`): the single
index's rows and scores, bit for bit.

A backend that cannot reach every shard raises `ShardsUnavailable`: the answer says that part of
the archive is unavailable rather than ranking what is left as if it were everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.answers.fusion import Candidate, with_content
from index.answers.policy import FlagArray, Question
from index.answers.search import NewsIndex
from index.lexical import segments
from index.lexical.bm25 import BM25Index, BM25Params
from index.lexical.segments import SegmentedBM25
from index.lexical.sentence_terms import SentenceTerms
from index.scale.shards import Shard, ShardReply, ShardRequest, merged, shard_count
from index.semantic.vectors import SentenceVectors, shared_encoder
from index.store import layout
from index.store.archive import Archive
from index.store.generations import IndexFormatError, current_generation, read_header
from index.text import boilerplate

# What a reply says when a shard has no live replica: one home for the text.
UNAVAILABLE = "Part of the archive is unavailable right now; answers would be incomplete."


class ShardsUnavailable(RuntimeError):
    """Some shards could not answer: no ranking is given rather than a partial one.

    Attributes:
        shards: The shards that could not answer.
    """

    def __init__(self, shards: Sequence[int], reason: str = "") -> None:
        self.shards = tuple(sorted(shards))
        why = f": {reason}" if reason else ""
        super().__init__(f"{UNAVAILABLE} (shards {', '.join(map(str, self.shards))}{why})")


class ShardBackend(Protocol):
    """Where the shards of one generation answer: in this process, or in a cluster."""

    def search(self, request: ShardRequest) -> list[ShardReply]:
        """Return every shard's reply to `request`, in shard order.

        Raises:
            ShardsUnavailable: A shard could not answer.
        """
        ...

    def warm(self) -> None:
        """Do once what the first question would (compile kernels)."""
        ...


def same_generation(replies: list[ShardReply], generation: str) -> list[ShardReply]:
    """Return `replies`, checked to come from `generation` (an answer never mixes two).

    Raises:
        RuntimeError: A shard answered from another generation (a replica bug).
    """
    for reply in replies:
        if reply.generation != generation:
            raise RuntimeError(
                f"shard {reply.shard} answered from {reply.generation}, not {generation}"
            )
    return replies


class InProcessShards:
    """Every shard of a generation loaded in this process (tests, tools, one machine)."""

    def __init__(self, generation: Path, n_shards: int) -> None:
        self.shards = [Shard(generation, shard) for shard in range(n_shards)]

    def search(self, request: ShardRequest) -> list[ShardReply]:
        """Ask each shard in turn."""
        return [shard.search(request) for shard in self.shards]

    def warm(self) -> None:
        """Compile each shard's kernels."""
        for shard in self.shards:
            shard.warm()


def packed(within: FlagArray | None) -> npt.NDArray[np.uint8] | None:
    """Return flags as a request carries them: one bit per row."""
    return None if within is None else np.packbits(within)


class ShardedBM25(SegmentedBM25):
    """The whole index's statistics, with top-k asked of the shards and merged.

    The interface `index.answers.search` reads of a BM25 index (`SegmentedBM25`'s); no postings
    here.
    """

    def __init__(
        self,
        stats: segments.Statistics,
        doc_len: npt.NDArray[np.int32],
        live: FlagArray | None,
        params: BM25Params,
        backend: ShardBackend,
        generation: str,
    ) -> None:
        self.segments = []
        self.params = params
        self.starts = np.asarray([0, len(doc_len)], dtype=np.int64)
        self.doc_len = doc_len
        self.live = live
        self.vocabulary = stats.vocabulary
        self.terms = {term: i for i, term in enumerate(stats.vocabulary)}
        self.idf = stats.idf
        self._doc_freq = stats.doc_freq
        self.n_docs = stats.n_docs
        self.avgdl = stats.avgdl
        self.backend = backend
        self.generation = generation

    def top_k(
        self, terms: Sequence[str], k: int, within: FlagArray | None = None
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """Return the `k` best live sentences, best first: the shards' top-k merged."""
        kept = self.rarest(self.query_terms(terms))
        if not kept or k <= 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        request = ShardRequest(self.generation, tuple(kept), k, within=packed(within))
        replies = same_generation(self.backend.search(request), self.generation)
        rows, scores = merged([(r.bm25_rows, r.bm25_scores) for r in replies], k)
        return rows.astype(np.int32), scores.astype(np.float64)

    def warm(self) -> None:
        """Warm every shard."""
        self.backend.warm()

    def scores(self, terms: Sequence[str]) -> npt.NDArray[np.float64]:
        """Not served: a sharded index gives top-k only (`index.answers.check` compares those)."""
        raise NotImplementedError("a sharded index serves top-k, not every row's score")


@dataclass(frozen=True)
class ShardedVectors(SentenceVectors):
    """The generation's vectors as the coordinator sees them: searched on the shards.

    No codes here (empty arrays); `n_rows` is the whole index's.
    """

    rows: int = 0
    search: Callable[[ShardRequest], list[ShardReply]] | None = field(default=None, repr=False)
    generation: str = ""

    @property
    def n_rows(self) -> int:
        """Rows of the whole index."""
        return self.rows

    def top_k(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        *,
        sign_candidates: int = 0,
        candidates: int = 0,
        within: FlagArray | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Return the shards' vector top-k merged (`SentenceVectors.top_k` on each shard)."""
        request = ShardRequest(self.generation, (), 0, query, k, dense_within=packed(within))
        replies = same_generation(self._ask(request), self.generation)
        rows, cosines = merged([(r.dense_rows, r.dense_cosines) for r in replies], k)
        return rows, cosines.astype(np.float32)

    def similarities(self, query: npt.NDArray[np.float32], rows: npt.NDArray[Any]) -> Any:
        """Not served alone: `ShardedNewsIndex` has each shard send its rows' cosines."""
        raise NotImplementedError("a sharded index sends cosines with each shard's top-k")

    def _ask(self, request: ShardRequest) -> list[ShardReply]:
        assert self.search is not None
        return self.search(request)


def empty_vectors(dimension: int) -> dict[str, Any]:
    """The arrays of a `SentenceVectors` holding no row."""
    return {
        "codes": np.zeros((0, dimension), dtype=np.int8),
        "scales": np.zeros(0, dtype=np.float32),
        "signs": np.zeros((0, 1), dtype=np.uint64),
        "keys": np.zeros(0, dtype=np.uint64),
    }


class ShardedNewsIndex(NewsIndex):
    """A generation answered through its shards; everything else as `NewsIndex`.

    Attributes:
        backend: Where the shards answer.
    """

    backend: ShardBackend

    @classmethod
    def open(
        cls,
        index_dir: Path,
        connect: Callable[[Path, int], ShardBackend],
        *,
        semantic: bool = True,
    ) -> ShardedNewsIndex:
        """Load the current generation of `index_dir`, its shards served by `connect(folder, n)`.

        As `NewsIndex.load`, but for the postings and vectors, which stay on the shards.

        Raises:
            index.store.generations.IndexMissingError: Nothing was built there yet.
            index.store.generations.IndexFormatError: The index is damaged, or has no shards.
        """
        folder = current_generation(index_dir)
        header = read_header(folder)
        n_shards = shard_count(folder)
        if not n_shards:
            raise IndexFormatError(
                f"index at {folder} has no shards; run `newsbot index --shards N` to write them"
            )
        try:
            layout.verify_files(folder, header["files"])
            archive = Archive.load(folder)
            root = folder / layout.SHARDS
            stats = segments.load_statistics(root)
            doc_len = np.asarray(layout.load_array(root, "doc_len"))
            layout.check_count("sentences (shards/doc_len.npy)", len(doc_len), archive.n_sentences)
            layout.check_count("sentences (live)", stats.n_docs, header["counts"]["sentences"])
            says_nothing = boilerplate.load_flags(folder, len(doc_len))
            # A hit's terms come from the segments' stored tokens (`index.lexical.sentence_terms`):
            # their vocabularies and lengths are read here (`BM25Index.load` maps and checks the
            # rest).
            names = [str(entry["name"]) for entry in header["segments"]]
            stored = SegmentedBM25(
                [BM25Index.load(folder / name) for name in names], stats, archive.live_sentences
            )
            sentence_terms = SentenceTerms(folder, names, stored)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(
                f"index at {folder} is damaged ({exc}); run `newsbot index` to rebuild it"
            ) from None
        backend = connect(folder, n_shards)
        params = BM25Params(**header["params"])
        bm25 = ShardedBM25(stats, doc_len, archive.live_sentences, params, backend, folder.name)
        vectors = None
        entry = header.get("vectors")
        if semantic and isinstance(entry, dict):
            vectors = ShardedVectors(
                **empty_vectors(int(entry["dimension"])),
                model=str(entry["model"]),
                rows=len(doc_len),
                search=backend.search,
                generation=folder.name,
            )
        encoder = shared_encoder() if vectors is not None else None
        index = cls(
            folder,
            header,
            bm25,
            archive,
            vectors,
            encoder,
            says_nothing=says_nothing,
            sentence_terms=sentence_terms,
        )
        index.backend = backend
        return index

    def candidates(
        self,
        q: Question,
        query: npt.NDArray[np.float32],
        depth: int,
        within: FlagArray | None = None,
    ) -> list[Candidate]:
        """`NewsIndex.candidates` with one request to each shard: both top-k and cosines.

        Mirrors `NewsIndex.candidates` step for step (the rows each ranking may take, the
        union, sentences that say nothing left out); `tests/test_shards.py` compares the two.
        """
        term_ids = self.bm25.rarest(self.bm25.query_terms(q.known))
        request = ShardRequest(
            self.folder.name,
            tuple(term_ids),
            depth if term_ids else 0,
            query,
            depth,
            packed(within),
            packed(self.rankable_within(within)),
        )
        replies = same_generation(self.backend.search(request), self.folder.name)
        bm25_rows, bm25_scores = merged([(r.bm25_rows, r.bm25_scores) for r in replies], depth)
        dense_rows, _ = merged([(r.dense_rows, r.dense_cosines) for r in replies], depth)
        cosine: dict[int, float] = {}
        for reply in replies:
            cosine.update(zip(reply.cosine_rows.tolist(), reply.cosines.tolist(), strict=True))
        scores = dict(zip(bm25_rows.tolist(), bm25_scores.tolist(), strict=True))
        rows = list(dict.fromkeys([*bm25_rows.tolist(), *dense_rows.tolist()]))
        candidates = [
            Candidate(
                row, scores[row] if row in scores else self.bm25_of(row, term_ids), cosine[row]
            )
            for row in rows
        ]
        return with_content(candidates, self.says_nothing)
